/*
 * What the `disk` command (kernel/disk.c) needs of a platform's block driver, so that the
 * command, its output and its bench are one piece of code over both front doors: pv's
 * blkfront (pv/blkdev.c over blkfront.c) and hvm's virtio-blk driver (hvm/blkdev.c over
 * virtio_blk.c). Both keep BLKDEV_SLOTS requests of up to BLKDEV_SEGS pages in flight, so
 * that the two can be compared request for request.
 */
#ifndef TOS_BLKDEV_H
#define TOS_BLKDEV_H

#include <stdint.h>

#define BLKDEV_SLOTS 8      /* requests in flight at most */
#define BLKDEV_SEGS 11u     /* pages per request: blkif's 11 segments, as many for virtio-blk */
#define BLKDEV_SLOT_SECTORS (BLKDEV_SEGS * 8u)

enum blkdev_op { BLKDEV_READ, BLKDEV_WRITE, BLKDEV_FLUSH };

/* A view of one of the driver's disks. */
struct blkdev {
  void *drv;                              /* the driver's own disk (struct vbd, struct vdisk) */
  const char *vdev;                       /* xvda, vda... */
  uint64_t sectors;                       /* of 512 bytes */
  uint32_t ssize;                         /* the logical sector size in bytes: pv `sector-size`, virtio blk_size */
  int ro, flush;                          /* read-only; offers a cache flush */
  const uint32_t (*pages)[BLKDEV_SEGS];   /* each slot's data pages (addresses) */
};

/* One job of blkdev_run: prep says what request `i` is (and may fill the slot's pages);
 * done (may be 0) sees its pages once it is answered. */
struct blkdev_job {
  void (*prep)(const struct blkdev *d, uint32_t i, int slot, enum blkdev_op *op, uint64_t *sector, uint32_t *nsect, void *arg);
  void (*done)(const struct blkdev *d, uint32_t i, int slot, void *arg);
  void *arg;
};

struct blkdev_counters {
  uint32_t requests, notifies, events;
};

/* A logical sector size the command takes: a power of two from 512 to a page (else 512 is used). */
static inline int blkdev_ssize_ok(uint32_t s) { return s >= 512 && s <= 4096 && !(s & (s - 1)); }

/* Provided by the platform. */
extern const char blkdev_events_name[];   /* what answers arrive as: "events", "interrupts" */
extern const char blkdev_no_disks[];      /* how to get a disk on this platform */
extern const char blkdev_no_flush[];      /* what a disk without a flush says */
void blkdev_refresh(void);                /* take in attached / detached disks */
int blkdev_get(int i, struct blkdev *d);  /* disk slot i: 1 and the view, 0 if empty, -1 past the last */
int blkdev_find(const char *vdev, struct blkdev *d);   /* 1 and the view, or 0 */
int blkdev_first_usable(struct blkdev *d);            /* the first (pv: connected) disk */
int blkdev_ready(const struct blkdev *d); /* 1, or 0 after saying why not (not connected) */
void blkdev_describe(const struct blkdev *d);   /* the lines of `disk` for it */
void blkdev_counters(const struct blkdev *d, struct blkdev_counters *c);
/* Run `count` requests with at most `depth` in flight: 0, the number answered with an
 * error (their statuses are printed), or -1 on a timeout. */
int32_t blkdev_run(const struct blkdev *d, uint32_t count, uint32_t depth, const struct blkdev_job *job);
/* One request on slot 0: its status, or -1 on a timeout. */
int32_t blkdev_one(const struct blkdev *d, enum blkdev_op op, uint64_t sector, uint32_t nsect);
/* A subcommand of this platform only (pv: reconnect): -2 if it is not one. */
int blkdev_extra(const struct blkdev *d, const char *sub);
extern const char blkdev_extra_usage[];   /* its usage, appended to disk's ("" if none) */
int blkdev_is_extra(const char *sub);

#endif
