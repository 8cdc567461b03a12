/*
 * What the network stack (kernel/net.c) needs of a platform's network driver, so that one
 * stack with its commands (ifconfig, ping, udp, arp) runs over both front doors: pv's
 * netfront (pv/netfront.c: Xen's split driver) and hvm's virtio-net driver
 * (hvm/virtio_net.c), as include/blkdev.h does for disks. Without a driver, kernel/net.c's
 * weak defaults say there is no network device.
 */
#ifndef TOS_NETDEV_H
#define TOS_NETDEV_H

#include <stdint.h>

/* Counters for ifconfig: frames and bytes each way, drops, and the notifications each way
 * (pv: event channel sends and events; hvm: QueueNotify writes and interrupts). */
struct net_counters {
  uint32_t tx_packets, tx_bytes, rx_packets, rx_bytes, tx_errors, rx_errors, notifies, events;
};

/* The interface's MAC (PLAT_ENOTSUP if there is none). */
int netdev_mac(uint8_t mac[6]);
/* Send one frame: 0, or -1 when no buffer is free (the frame is dropped). */
int netdev_send(const void *frame, uint32_t len);
/* Take received frames off the device, handing each to net_input, and give the buffers back. */
void netdev_poll(void);
void netdev_counters(struct net_counters *c);

/* Provided by the stack: called by the driver for each frame received. */
void net_input(const uint8_t *frame, uint32_t len);
/* Provided by the stack: a gratuitous ARP for our address, if we have one (after a move). */
void net_announce(void);

#endif
