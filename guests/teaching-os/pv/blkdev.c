/*
 * The `disk` command's block driver interface (include/blkdev.h) over blkfront: a view of
 * a struct vbd, blkif's operations for the command's, and `disk reconnect`.
 */
#include "blkfront.h"
#include "blkdev.h"

_Static_assert(BLK_SLOTS == BLKDEV_SLOTS && BLKIF_MAX_SEGMENTS_PER_REQUEST == BLKDEV_SEGS, "blkfront's slots are the command's");

const char blkdev_events_name[] = "events";
const char blkdev_no_disks[] = "attach one with xl block-attach, or disk = [ ... ] in the config";
const char blkdev_no_flush[] = "the backend offers no flush (feature-flush-cache)";
const char blkdev_extra_usage[] = " | disk reconnect [VDEV]";

static void view(struct vbd *v, struct blkdev *d) {
  d->drv = v;
  d->vdev = v->vdev;
  d->sectors = v->sectors;
  d->ssize = v->sector_size;
  d->ro = (v->info & VDISK_READONLY) != 0;
  d->flush = v->flush;
  d->pages = (const uint32_t(*)[BLKDEV_SEGS])v->pages;
}

static struct vbd *vbd_of(const struct blkdev *d) { return (struct vbd *)d->drv; }

static uint8_t blkif_op(enum blkdev_op op) {
  return op == BLKDEV_READ ? BLKIF_OP_READ : op == BLKDEV_WRITE ? BLKIF_OP_WRITE : BLKIF_OP_FLUSH_DISKCACHE;
}

void blkdev_refresh(void) {
  if (blkfront_has_work()) blkfront_work();
}

int blkdev_get(int i, struct blkdev *d) {
  if (i < 0 || i >= MAX_VBDS) return -1;
  if (!vbds[i].used) return 0;
  view(&vbds[i], d);
  return 1;
}

int blkdev_find(const char *vdev, struct blkdev *d) {
  for (int i = 0; i < MAX_VBDS; i++)
    if (vbds[i].used && !strcmp(vbds[i].vdev, vdev)) return view(&vbds[i], d), 1;
  return 0;
}

int blkdev_first_usable(struct blkdev *d) {
  for (int i = 0; i < MAX_VBDS; i++)
    if (vbds[i].used && vbds[i].state == XenbusStateConnected) return view(&vbds[i], d), 1;
  return 0;
}

int blkdev_ready(const struct blkdev *d) {
  struct vbd *v = vbd_of(d);
  if (v->state == XenbusStateConnected) return 1;
  kprintf("disk: %s is not connected (%s)\n", v->vdev, xenbus_state_name(v->state));
  return 0;
}

void blkdev_describe(const struct blkdev *d) {
  struct vbd *v = vbd_of(d);
  kprintf("%s: device %u, %llu sectors of 512 bytes (%llu KiB), sector-size %u, %s, %s%s, backend domain %u, %s\n", v->vdev, v->devid,
          (unsigned long long)v->sectors, (unsigned long long)v->sectors / 2, v->sector_size, v->info & VDISK_READONLY ? "read-only" : "read-write",
          v->flush ? "flush" : "no flush", v->info & VDISK_CDROM ? ", cdrom" : "", v->be_id, xenbus_state_name(v->state));
  kprintf("  ring-ref %u, event channel %u, %u requests, %u notifications sent, %u events, %u errors\n", v->ring_ref, v->port,
          v->requests, v->notifies, v->events, v->errors);
}

void blkdev_counters(const struct blkdev *d, struct blkdev_counters *c) {
  struct vbd *v = vbd_of(d);
  c->requests = v->requests, c->notifies = v->notifies, c->events = v->events;
}

/* blk_run's job over the command's: the same request, blkif's operation. */
struct adapter {
  const struct blkdev *d;
  const struct blkdev_job *job;
};
static void adapt_prep(struct vbd *v, uint32_t i, int slot, uint8_t *op, uint64_t *sector, uint32_t *nsect, void *arg) {
  (void)v;
  const struct adapter *a = arg;
  enum blkdev_op o = BLKDEV_READ;
  a->job->prep(a->d, i, slot, &o, sector, nsect, a->job->arg);
  *op = blkif_op(o);
}
static void adapt_done(struct vbd *v, uint32_t i, int slot, void *arg) {
  (void)v;
  const struct adapter *a = arg;
  if (a->job->done) a->job->done(a->d, i, slot, a->job->arg);
}

int32_t blkdev_run(const struct blkdev *d, uint32_t count, uint32_t depth, const struct blkdev_job *job) {
  struct adapter a = {d, job};
  struct blk_job j = {adapt_prep, adapt_done, &a};
  return blk_run(vbd_of(d), count, depth, &j);
}

int32_t blkdev_one(const struct blkdev *d, enum blkdev_op op, uint64_t sector, uint32_t nsect) {
  return blk_one(vbd_of(d), blkif_op(op), sector, nsect);
}

int blkdev_is_extra(const char *sub) { return !strcmp(sub, "reconnect"); }

int blkdev_extra(const struct blkdev *d, const char *sub) {
  if (!blkdev_is_extra(sub)) return -2;
  struct vbd *v = vbd_of(d);
  grant_ref_t old = v->ring_ref;
  if (blkfront_reconnect(v)) return -1;
  kprintf("disk: %s reconnected: ring-ref %u (was %u), event channel %u\n", v->vdev, v->ring_ref, old, v->port);
  return 0;
}
