/*
 * Xen's split network driver as the guest sees it (io/netif.h): every field is 16 or 32
 * bits, so the layout is the same on RV32 as on x86: tx request 12 bytes, tx response 4,
 * rx request 8, rx response 8; 256 slots each way in a ring page. The hypervisor's copy is
 * src/core/xen/public/netif.ts; netifAbi.test.ts checks that the two agree.
 */
#ifndef TOS_NETIF_H
#define TOS_NETIF_H

#include <stdint.h>
#include "blkif.h"   /* io/xenbus.h states, RING_IDX */

#define NETTXF_csum_blank     1
#define NETTXF_data_validated 2
#define NETTXF_more_data      4
#define NETTXF_extra_info     8
#define NETRXF_data_validated 1
#define NETRXF_csum_blank     2
#define NETRXF_more_data      4
#define NETRXF_extra_info     8
#define NETIF_RSP_DROPPED (-2)
#define NETIF_RSP_ERROR   (-1)
#define NETIF_RSP_OKAY    0
#define NETIF_RSP_NULL    1

struct netif_tx_request {
  grant_ref_t gref;
  uint16_t offset;
  uint16_t flags;    /* NETTXF_* */
  uint16_t id;
  uint16_t size;     /* the first slot: the packet's total size */
};
struct netif_tx_response {
  uint16_t id;
  int16_t status;
};
struct netif_rx_request {
  uint16_t id;
  uint16_t pad;
  grant_ref_t gref;
};
struct netif_rx_response {
  uint16_t id;
  uint16_t offset;
  uint16_t flags;    /* NETRXF_* */
  int16_t status;    /* > 0: the length received */
};

/* ---- io/ring.h: DEFINE_RING_TYPES(netif_tx, ...) and (netif_rx, ...) ---- */
union netif_tx_sring_entry {
  struct netif_tx_request req;
  struct netif_tx_response rsp;
};
union netif_rx_sring_entry {
  struct netif_rx_request req;
  struct netif_rx_response rsp;
};
struct netif_tx_sring {
  RING_IDX req_prod, req_event;
  RING_IDX rsp_prod, rsp_event;
  uint8_t pvt[4];
  uint8_t __pad[44];
  union netif_tx_sring_entry ring[];
};
struct netif_rx_sring {
  RING_IDX req_prod, req_event;
  RING_IDX rsp_prod, rsp_event;
  uint8_t pvt[4];
  uint8_t __pad[44];
  union netif_rx_sring_entry ring[];
};
/* (4096 - 64) / 12 = 336 and (4096 - 64) / 8 = 504, both rounded down to 256. */
#define NET_TX_RING_SIZE 256u
#define NET_RX_RING_SIZE 256u

_Static_assert(sizeof(struct netif_tx_request) == 12, "netif_tx_request");
_Static_assert(sizeof(struct netif_tx_response) == 4, "netif_tx_response");
_Static_assert(sizeof(struct netif_rx_request) == 8, "netif_rx_request");
_Static_assert(sizeof(struct netif_rx_response) == 8, "netif_rx_response");
_Static_assert(offsetof(struct netif_tx_sring, ring) == 64, "sring header");
_Static_assert(64 + NET_TX_RING_SIZE * sizeof(union netif_tx_sring_entry) <= 4096, "tx ring fits a page");
_Static_assert(64 + NET_RX_RING_SIZE * sizeof(union netif_rx_sring_entry) <= 4096, "rx ring fits a page");

#endif
