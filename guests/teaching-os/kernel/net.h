/*
 * The teaching OS's network stack (net.c): Ethernet, ARP, IPv4, ICMP echo, UDP and a
 * DHCP client, over one interface `eth0` that the platform's driver provides
 * (include/netdev.h: pv/netfront.c or hvm/virtio_net.c).
 */
#ifndef TOS_NET_H
#define TOS_NET_H

#include "tos.h"
#include "netdev.h"

int net_cmd_ifconfig(int argc, char **argv);
int net_cmd_ping(int argc, char **argv);
int net_cmd_udp(int argc, char **argv);
int net_cmd_arp(int argc, char **argv);

#endif
