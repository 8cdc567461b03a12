/*
 * virtio-blk over virtio-mmio (virtio 1.x sections 4.2.2, 2.7 and 5.2): the hvm teaching
 * OS's disk driver (virtio_blk.c) and the `disk` command over it (disk.c). The device is
 * found the way Linux finds it on QEMU's virt board: probe the eight virtio-mmio slots
 * for MagicValue "virt", Version 2 and DeviceID 2.
 */
#ifndef TOS_VIRTIO_BLK_H
#define TOS_VIRTIO_BLK_H

#include "virtio_mmio.h"

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9

#define VIRTIO_BLK_T_IN 0u
#define VIRTIO_BLK_T_OUT 1u
#define VIRTIO_BLK_T_FLUSH 4u
#define VIRTIO_BLK_T_GET_ID 8u
#define VIRTIO_BLK_S_OK 0u

struct virtio_blk_req {
  uint32_t type, reserved;
  uint64_t sector;
};

#define MAX_VDISKS 4
/* Requests in flight at most, each up to VBLK_SEGS data pages (44 KiB, as blkfront's 11
 * segments, so pv and hvm benchmarks move the same requests). */
#define VBLK_SLOTS 8
#define VBLK_SEGS 11u
#define VBLK_SLOT_SECTORS (VBLK_SEGS * 8u)
#define VBLK_QUEUE 128u   /* descriptors: 8 slots x (header + 11 pages + status) fit */

struct vdisk {
  int used;
  uint32_t slot;               /* virtio-mmio slot 0..7 */
  uint32_t base;               /* its registers */
  char vdev[8];                /* vda, vdb... in probe order */
  char serial[21];             /* T_GET_ID */
  uint64_t sectors;
  uint32_t blk_size;           /* VIRTIO_BLK_F_BLK_SIZE's blk_size, else 512 */
  uint32_t features;           /* negotiated, word 0 */
  int ro, flush, event_idx;
  uint16_t num;                /* queue size */
  volatile struct vring_desc *desc;
  volatile uint16_t *aring;   /* flags, idx, ring[num], used_event */
  volatile uint32_t *uring;    /* flags|idx, ring[num] {id, len}, avail_event */
  uint16_t avail_idx, used_seen;
  uint32_t pages[VBLK_SLOTS][VBLK_SEGS];
  struct virtio_blk_req *hdr;  /* one per slot, in one page */
  volatile uint8_t *status;    /* one per slot, after the headers */
  uint32_t busy;               /* slots in flight (bit mask) */
  volatile uint32_t irqs;      /* interrupts taken */
  uint32_t requests, notifies, errors;
};

extern struct vdisk vdisks[MAX_VDISKS];

void vblk_init(void);                  /* probe the slots, set up each virtio-blk found */
int vblk_isr(uint32_t plic_source);    /* 1 if the source was one of ours */

/* As blkfront's blk_job: prep fills the request of job index `i` on `slot`; done sees it answered. */
struct vblk_job {
  void (*prep)(struct vdisk *d, uint32_t i, int slot, uint32_t *type, uint64_t *sector, uint32_t *nsect, void *arg);
  void (*done)(struct vdisk *d, uint32_t i, int slot, void *arg);
  void *arg;
};
/* Run `count` requests with at most `depth` in flight. 0, the number that failed, or -1 on a timeout. */
int32_t vblk_run(struct vdisk *d, uint32_t count, uint32_t depth, const struct vblk_job *job);
/* One request on slot 0: its status, or -1 on a timeout. */
int32_t vblk_one(struct vdisk *d, uint32_t type, uint64_t sector, uint32_t nsect);

#endif
