/*
 * The teaching OS's network stack (net.c): Ethernet, ARP, IPv4, ICMP echo, UDP and a
 * DHCP client, over one interface `eth0` that the platform provides. The pv layer's
 * netfront (pv/netfront.c) defines the plat_net_* functions; without it (hvm) the weak
 * ones in net.c say there is no network device.
 */
#ifndef TOS_NET_H
#define TOS_NET_H

#include "tos.h"

/* The platform's interface: its MAC (0 if there is none: PLAT_ENOTSUP), send one frame
 * (0, or -1 when no buffer is free), and take received frames off the device, handing
 * each to net_input. */
int plat_net_mac(uint8_t mac[6]);
int plat_net_send(const void *frame, uint32_t len);
void plat_net_poll(void);
/* Counters for ifconfig: frames and bytes each way, and drops. */
struct net_counters {
  uint32_t tx_packets, tx_bytes, rx_packets, rx_bytes, tx_errors, rx_errors, notifies, events;
};
void plat_net_counters(struct net_counters *c);

/* Called by the platform for each frame received. */
void net_input(const uint8_t *frame, uint32_t len);

int net_cmd_ifconfig(int argc, char **argv);
int net_cmd_ping(int argc, char **argv);
int net_cmd_udp(int argc, char **argv);
int net_cmd_arp(int argc, char **argv);

#endif
