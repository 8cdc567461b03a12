/*
 * Xen's split block driver as the guest sees it (io/blkif.h, io/ring.h, io/xenbus.h),
 * with the RV32 layout: ilp32 aligns uint64_t to 8, so the request is 112 bytes and the
 * response 16, as on x86_64, and a ring page holds 32 slots. Sector numbers are always
 * in 512-byte units. The hypervisor's copy is src/core/xen/public/blkif.ts;
 * blkifAbi.test.ts checks that the two agree.
 */
#ifndef TOS_BLKIF_H
#define TOS_BLKIF_H

#include <stdint.h>
#include "xen.h"

/* ---- io/xenbus.h ---- */
enum xenbus_state {
  XenbusStateUnknown = 0, XenbusStateInitialising = 1, XenbusStateInitWait = 2, XenbusStateInitialised = 3,
  XenbusStateConnected = 4, XenbusStateClosing = 5, XenbusStateClosed = 6, XenbusStateReconfiguring = 7,
  XenbusStateReconfigured = 8,
};

/* ---- io/blkif.h ---- */
#define BLKIF_OP_READ            0
#define BLKIF_OP_WRITE           1
#define BLKIF_OP_WRITE_BARRIER   2
#define BLKIF_OP_FLUSH_DISKCACHE 3
#define BLKIF_OP_DISCARD         5
#define BLKIF_OP_INDIRECT        6
#define BLKIF_RSP_EOPNOTSUPP (-2)
#define BLKIF_RSP_ERROR      (-1)
#define BLKIF_RSP_OKAY       0
#define BLKIF_MAX_SEGMENTS_PER_REQUEST 11
#define VDISK_CDROM    1
#define VDISK_REMOVABLE 2
#define VDISK_READONLY 4
/* Xen names no protocol for RISC-V: hyperlab's native one (docs/storage.md). */
#define XEN_IO_PROTO_ABI_NATIVE "riscv32-abi"

typedef uint64_t blkif_sector_t;
struct blkif_request_segment {
  grant_ref_t gref;
  uint8_t first_sect, last_sect;  /* 512-byte sectors within the page, inclusive */
};
struct blkif_request {
  uint8_t operation;
  uint8_t nr_segments;
  uint16_t handle;
  uint64_t id;
  blkif_sector_t sector_number;
  struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};
struct blkif_response {
  uint64_t id;
  uint8_t operation;
  int16_t status;
};

/* ---- io/ring.h: DEFINE_RING_TYPES(blkif, struct blkif_request, struct blkif_response) ---- */
typedef uint32_t RING_IDX;
union blkif_sring_entry {
  struct blkif_request req;
  struct blkif_response rsp;
};
struct blkif_sring {
  RING_IDX req_prod, req_event;
  RING_IDX rsp_prod, rsp_event;
  uint8_t pvt[4];
  uint8_t __pad[44];
  union blkif_sring_entry ring[];
};
/* __RING_SIZE rounded down to a power of two: (4096 - 64) / 112 = 36 -> 32. */
#define BLKIF_RING_SIZE 32u

_Static_assert(sizeof(struct blkif_request_segment) == 8, "blkif_request_segment");
_Static_assert(sizeof(struct blkif_request) == 112, "blkif_request is 112 bytes on RV32");
_Static_assert(offsetof(struct blkif_request, id) == 8, "blkif_request.id");
_Static_assert(offsetof(struct blkif_request, sector_number) == 16, "blkif_request.sector_number");
_Static_assert(offsetof(struct blkif_request, seg) == 24, "blkif_request.seg");
_Static_assert(sizeof(struct blkif_response) == 16, "blkif_response is 16 bytes on RV32");
_Static_assert(offsetof(struct blkif_response, status) == 10, "blkif_response.status");
_Static_assert(offsetof(struct blkif_sring, ring) == 64, "sring header");
_Static_assert(64 + BLKIF_RING_SIZE * sizeof(union blkif_sring_entry) <= 4096, "ring fits a page");
_Static_assert(64 + 2 * BLKIF_RING_SIZE * sizeof(union blkif_sring_entry) > 4096, "ring is the largest power of two");

#endif
