/*
 * The `disk` command's block driver interface (include/blkdev.h) over the virtio-blk
 * driver (virtio_blk.c): a view of a struct vdisk, and virtio-blk's request types for the
 * command's operations. Disks are found at boot (no hot-plug on virtio-mmio).
 */
#include "virtio_blk.h"
#include "blkdev.h"

_Static_assert(VBLK_SLOTS == BLKDEV_SLOTS && VBLK_SEGS == BLKDEV_SEGS, "the driver's slots are the command's");

const char blkdev_events_name[] = "interrupts";
const char blkdev_no_disks[] = "put one in the config: disk = [ ... ]";
const char blkdev_no_flush[] = "the device offers no flush (VIRTIO_BLK_F_FLUSH)";
const char blkdev_extra_usage[] = "";

static void view(struct vdisk *v, struct blkdev *d) {
  d->drv = v;
  d->vdev = v->vdev;
  d->sectors = v->sectors;
  d->ssize = v->blk_size;
  d->ro = v->ro;
  d->flush = v->flush;
  d->pages = (const uint32_t(*)[BLKDEV_SEGS])v->pages;
}

static struct vdisk *vdisk_of(const struct blkdev *d) { return (struct vdisk *)d->drv; }

static uint32_t blk_type(enum blkdev_op op) {
  return op == BLKDEV_READ ? VIRTIO_BLK_T_IN : op == BLKDEV_WRITE ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_FLUSH;
}

void blkdev_refresh(void) {}

int blkdev_get(int i, struct blkdev *d) {
  if (i < 0 || i >= MAX_VDISKS) return -1;
  if (!vdisks[i].used) return 0;
  view(&vdisks[i], d);
  return 1;
}

int blkdev_find(const char *vdev, struct blkdev *d) {
  for (int i = 0; i < MAX_VDISKS; i++)
    if (vdisks[i].used && !strcmp(vdisks[i].vdev, vdev)) return view(&vdisks[i], d), 1;
  return 0;
}

int blkdev_first_usable(struct blkdev *d) {
  for (int i = 0; i < MAX_VDISKS; i++)
    if (vdisks[i].used) return view(&vdisks[i], d), 1;
  return 0;
}

int blkdev_ready(const struct blkdev *d) {
  (void)d;
  return 1;
}

void blkdev_describe(const struct blkdev *d) {
  struct vdisk *v = vdisk_of(d);
  kprintf("%s: virtio-blk, %llu sectors of 512 bytes (%llu KiB), blk_size %u, %s, %s%s, id '%s'\n", v->vdev, (unsigned long long)v->sectors,
          (unsigned long long)v->sectors / 2, v->blk_size, v->ro ? "read-only" : "read-write", v->flush ? "flush" : "no flush",
          v->event_idx ? ", event-idx" : "", v->serial);
  kprintf("  virtio-mmio@0x%08x, PLIC source %u, features 0x%08x, queue of %u, %u requests, %u notifications sent, %u interrupts, %u errors\n",
          v->base, VIRT_VIRTIO_IRQ + v->slot, v->features, v->num, v->requests, v->notifies, v->irqs, v->errors);
}

void blkdev_counters(const struct blkdev *d, struct blkdev_counters *c) {
  struct vdisk *v = vdisk_of(d);
  c->requests = v->requests, c->notifies = v->notifies, c->events = v->irqs;
}

/* vblk_run's job over the command's: the same request, virtio-blk's type. */
struct adapter {
  const struct blkdev *d;
  const struct blkdev_job *job;
};
static void adapt_prep(struct vdisk *v, uint32_t i, int slot, uint32_t *type, uint64_t *sector, uint32_t *nsect, void *arg) {
  (void)v;
  const struct adapter *a = arg;
  enum blkdev_op o = BLKDEV_READ;
  a->job->prep(a->d, i, slot, &o, sector, nsect, a->job->arg);
  *type = blk_type(o);
}
static void adapt_done(struct vdisk *v, uint32_t i, int slot, void *arg) {
  (void)v;
  const struct adapter *a = arg;
  if (a->job->done) a->job->done(a->d, i, slot, a->job->arg);
}

int32_t blkdev_run(const struct blkdev *d, uint32_t count, uint32_t depth, const struct blkdev_job *job) {
  struct adapter a = {d, job};
  struct vblk_job j = {adapt_prep, adapt_done, &a};
  return vblk_run(vdisk_of(d), count, depth, &j);
}

int32_t blkdev_one(const struct blkdev *d, enum blkdev_op op, uint64_t sector, uint32_t nsect) {
  return vblk_one(vdisk_of(d), blk_type(op), sector, nsect);
}

int blkdev_is_extra(const char *sub) {
  (void)sub;
  return 0;
}

int blkdev_extra(const struct blkdev *d, const char *sub) {
  (void)d, (void)sub;
  return -2;
}
