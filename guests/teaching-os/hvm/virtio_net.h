/*
 * virtio-net over virtio-mmio (virtio 1.x section 5.1): the hvm teaching OS's network
 * driver (virtio_net.c), eth0 of kernel/net.c through include/netdev.h.
 */
#ifndef TOS_VIRTIO_NET_H
#define TOS_VIRTIO_NET_H

#include "virtio_mmio.h"

void vnet_init(void);               /* probe the slots, set up the first virtio-net found */
int vnet_isr(uint32_t plic_source); /* 1 if the source was ours */
int vnet_has_work(void);            /* received frames wait in the used ring */

#endif
