/*
 * The hvm teaching OS's virtio-blk driver (virtio 1.x: 3.1.1 device initialization,
 * 4.2.2 the MMIO transport, 2.7 split virtqueues, 5.2 the block device).
 *
 * One queue of VBLK_QUEUE descriptors; VBLK_SLOTS requests in flight, each a chain of its
 * header, up to 11 data pages and its status byte, at fixed descriptors (slot * 13...).
 * The driver adds a batch of chains and notifies once (with VIRTIO_F_EVENT_IDX only when
 * the device's avail_event asks for it, 2.7.10); completions come as interrupts on the
 * slot's PLIC source, whose handler reads InterruptStatus and acknowledges it, and the
 * used ring is read from the shell loop. With EVENT_IDX the driver asks for an interrupt
 * only when its last chain in flight is used (used_event).
 */
#include "virtio_blk.h"
#include "blkdev.h"

struct vdisk vdisks[MAX_VDISKS];

#define fence() __asm__ volatile("fence rw, rw" ::: "memory")
#define DESCS_PER_SLOT (VBLK_SEGS + 2u)

static uint32_t rd(struct vdisk *d, uint32_t off) { return mmio_read32(d->base + off); }
static void wr(struct vdisk *d, uint32_t off, uint32_t v) { mmio_write32(d->base + off, v); }

static uint32_t alloc_page_or_panic(void) {
  uint32_t p = page_alloc();
  if (!p) panic("virtio-blk: out of memory");
  return p;
}

static int setup(struct vdisk *d) {
  wr(d, VMMIO_STATUS, 0);
  wr(d, VMMIO_STATUS, VIRTIO_S_ACK);
  wr(d, VMMIO_STATUS, VIRTIO_S_ACK | VIRTIO_S_DRIVER);
  wr(d, VMMIO_DEV_FEAT_SEL, 0);
  uint32_t f0 = rd(d, VMMIO_DEV_FEATURES);
  wr(d, VMMIO_DEV_FEAT_SEL, 1);
  uint32_t f1 = rd(d, VMMIO_DEV_FEATURES);
  if (!(f1 & 1u)) {
    kprintf("virtio-blk: slot %u: no VIRTIO_F_VERSION_1 (a legacy device): skipped\n", d->slot);
    return -1;
  }
  uint32_t want = (1u << VIRTIO_BLK_F_RO) | (1u << VIRTIO_BLK_F_FLUSH) | (1u << VIRTIO_BLK_F_BLK_SIZE) | (1u << VIRTIO_BLK_F_SEG_MAX) |
                  (1u << VIRTIO_BLK_F_SIZE_MAX) | (1u << VIRTIO_F_EVENT_IDX);
  d->features = f0 & want;
  wr(d, VMMIO_DRV_FEAT_SEL, 0);
  wr(d, VMMIO_DRV_FEATURES, d->features);
  wr(d, VMMIO_DRV_FEAT_SEL, 1);
  wr(d, VMMIO_DRV_FEATURES, 1u);
  wr(d, VMMIO_STATUS, VIRTIO_S_ACK | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
  if (!(rd(d, VMMIO_STATUS) & VIRTIO_S_FEATURES_OK)) {
    kprintf("virtio-blk: slot %u refused our features\n", d->slot);
    return -1;
  }
  d->ro = (d->features >> VIRTIO_BLK_F_RO) & 1;
  d->flush = (d->features >> VIRTIO_BLK_F_FLUSH) & 1;
  d->event_idx = (d->features >> VIRTIO_F_EVENT_IDX) & 1;
  wr(d, VMMIO_QUEUE_SEL, 0);
  uint32_t max = rd(d, VMMIO_QUEUE_NUM_MAX);
  if (max < VBLK_SLOTS * DESCS_PER_SLOT) {
    kprintf("virtio-blk: slot %u: queue of %u is too small\n", d->slot, max);
    return -1;
  }
  d->num = VBLK_QUEUE;
  /* 128 descriptors (2 KiB), the driver area and the device area: a page each. */
  d->desc = (volatile struct vring_desc *)(uintptr_t)alloc_page_or_panic();
  d->aring = (volatile uint16_t *)(uintptr_t)alloc_page_or_panic();
  d->uring = (volatile uint32_t *)(uintptr_t)alloc_page_or_panic();
  uint32_t meta = alloc_page_or_panic();
  d->hdr = (struct virtio_blk_req *)(uintptr_t)meta;
  d->status = (volatile uint8_t *)(uintptr_t)(meta + VBLK_SLOTS * sizeof(struct virtio_blk_req));
  for (int s = 0; s < VBLK_SLOTS; s++)
    for (uint32_t g = 0; g < VBLK_SEGS; g++) d->pages[s][g] = alloc_page_or_panic();
  wr(d, VMMIO_QUEUE_NUM, d->num);
  wr(d, VMMIO_QUEUE_DESC_LO, (uint32_t)(uintptr_t)d->desc);
  wr(d, VMMIO_QUEUE_DESC_HI, 0);
  wr(d, VMMIO_QUEUE_DRV_LO, (uint32_t)(uintptr_t)d->aring);
  wr(d, VMMIO_QUEUE_DRV_HI, 0);
  wr(d, VMMIO_QUEUE_DEV_LO, (uint32_t)(uintptr_t)d->uring);
  wr(d, VMMIO_QUEUE_DEV_HI, 0);
  wr(d, VMMIO_QUEUE_READY, 1);
  wr(d, VMMIO_STATUS, VIRTIO_S_ACK | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK);
  if (rd(d, VMMIO_STATUS) & VIRTIO_S_NEEDS_RESET) {
    kprintf("virtio-blk: slot %u needs a reset right after set-up\n", d->slot);
    return -1;
  }
  d->sectors = (uint64_t)rd(d, VMMIO_CONFIG) | (uint64_t)rd(d, VMMIO_CONFIG + 4) << 32;
  /* blk_size (5.2.4, at 20): the optimal sector size; sector numbers stay 512-byte units (5.2.5). */
  d->blk_size = 512;
  if ((d->features >> VIRTIO_BLK_F_BLK_SIZE) & 1) {
    uint32_t bs = rd(d, VMMIO_CONFIG + 20);
    if (blkdev_ssize_ok(bs)) d->blk_size = bs;
    else kprintf("virtio-blk: slot %u: blk_size %u is not a power of two from 512 to 4096: taken as 512\n", d->slot, bs);
  }
  /* The PLIC source of the slot, for hart 0's M-mode context. */
  uint32_t src = VIRT_VIRTIO_IRQ + d->slot;
  mmio_write32(PLIC_PRIORITY(src), 1);
  mmio_write32(PLIC_ENABLE0, mmio_read32(PLIC_ENABLE0) | 1u << src);
  return 0;
}

static void get_serial(struct vdisk *d);

void vblk_init(void) {
  int n = 0;
  /* From the last slot down: QEMU puts the first -device there, and Linux names it vda. */
  for (int slot = (int)VIRT_VIRTIO_COUNT - 1; slot >= 0 && n < MAX_VDISKS; slot--) {
    uint32_t base = VIRT_VIRTIO_BASE + 0x1000u * (uint32_t)slot;
    if (mmio_read32(base + VMMIO_MAGIC) != 0x74726976u || mmio_read32(base + VMMIO_DEVICE_ID) != 2u) continue;
    if (mmio_read32(base + VMMIO_VERSION) != 2u) {
      kprintf("virtio-blk: slot %d is a legacy (Version 1) device: skipped\n", slot);
      continue;
    }
    struct vdisk *d = &vdisks[n];
    memset(d, 0, sizeof *d);
    d->slot = (uint32_t)slot;
    d->base = base;
    ksnprintf(d->vdev, sizeof d->vdev, "vd%c", 'a' + n);
    if (setup(d)) continue;
    d->used = 1;
    n++;
    get_serial(d);
    kprintf("virtio-blk: %s on virtio-mmio@0x%08x (PLIC source %u): %llu sectors, %s%s\n", d->vdev, base, VIRT_VIRTIO_IRQ + d->slot,
            (unsigned long long)d->sectors, d->ro ? "read-only" : "read-write", d->flush ? ", flush" : "");
  }
}

int vblk_isr(uint32_t src) {
  if (src < VIRT_VIRTIO_IRQ || src >= VIRT_VIRTIO_IRQ + VIRT_VIRTIO_COUNT) return 0;
  for (int i = 0; i < MAX_VDISKS; i++) {
    struct vdisk *d = &vdisks[i];
    if (!d->used || d->slot != src - VIRT_VIRTIO_IRQ) continue;
    uint32_t st = rd(d, VMMIO_INT_STATUS);
    wr(d, VMMIO_INT_ACK, st);
    d->irqs = d->irqs + 1;
    return 1;
  }
  return 0;
}

/* Chain slot `s`: header, `nsect` sectors of its pages (device-writable for reads), status. */
static void build(struct vdisk *d, int s, uint32_t type, uint64_t sector, uint32_t nsect) {
  uint32_t first = (uint32_t)s * DESCS_PER_SLOT, k = first;
  struct virtio_blk_req *h = &d->hdr[s];
  h->type = type, h->reserved = 0, h->sector = sector;
  d->status[s] = 0xff;
  d->desc[k] = (struct vring_desc){(uint32_t)(uintptr_t)h, sizeof *h, VRING_DESC_F_NEXT, (uint16_t)(k + 1)};
  k++;
  uint32_t bytes = nsect * 512;
  for (uint32_t g = 0; bytes > 0; g++) {
    uint32_t n = bytes > PAGE_SIZE ? PAGE_SIZE : bytes;
    d->desc[k] = (struct vring_desc){d->pages[s][g], n, (uint16_t)(VRING_DESC_F_NEXT | (type == VIRTIO_BLK_T_OUT ? 0 : VRING_DESC_F_WRITE)),
                                     (uint16_t)(k + 1)};
    k++;
    bytes -= n;
  }
  d->desc[k] = (struct vring_desc){(uint32_t)(uintptr_t)&d->status[s], 1, VRING_DESC_F_WRITE, 0};
  d->aring[2 + d->avail_idx % d->num] = (uint16_t)first;
  d->avail_idx++;
}

/* Publish the chains added since the last call and notify if the device wants it (2.7.13). */
static void kick(struct vdisk *d, uint16_t old) {
  fence();
  d->aring[1] = d->avail_idx;
  fence();
  int notify = 1;
  if (d->event_idx) {
    uint16_t ev = (uint16_t)(d->uring[1 + 2 * d->num] & 0xffff); /* avail_event, after the used ring */
    notify = (uint16_t)(d->avail_idx - ev - 1) < (uint16_t)(d->avail_idx - old);
  } else {
    notify = !(d->uring[0] & 1u); /* VIRTQ_USED_F_NO_NOTIFY */
  }
  if (notify) {
    wr(d, VMMIO_QUEUE_NOTIFY, 0);
    d->notifies++;
  }
}

static uint16_t used_idx(struct vdisk *d) { return (uint16_t)(((volatile uint16_t *)d->uring)[1]); }

static int has_used(void *arg) {
  struct vdisk *d = arg;
  return used_idx(d) != d->used_seen;
}

int32_t vblk_run(struct vdisk *d, uint32_t count, uint32_t depth, const struct vblk_job *job) {
  uint32_t next = 0, done = 0, failed = 0;
  uint32_t job_of[VBLK_SLOTS];
  if (depth > VBLK_SLOTS) depth = VBLK_SLOTS;
  while (done < count) {
    uint16_t old = d->avail_idx;
    for (int s = 0; s < (int)depth && next < count; s++) {
      if (d->busy & (1u << s)) continue;
      uint32_t type, nsect;
      uint64_t sector;
      job->prep(d, next, s, &type, &sector, &nsect, job->arg);
      build(d, s, type, sector, nsect);
      job_of[s] = next++;
      d->busy |= 1u << s;
      d->requests++;
    }
    if (d->avail_idx != old) {
      /* Interrupt when the last chain in flight is used (used_event), not for each. */
      if (d->event_idx) d->aring[2 + d->num] = (uint16_t)(d->used_seen + __builtin_popcount(d->busy) - 1);
      kick(d, old);
    }
    if (kwait(has_used, d, 5000000000ull, 0)) {
      kprintf("virtio-blk: %s: no answer in 5 s (device status 0x%x)\n", d->vdev, rd(d, VMMIO_STATUS));
      return -1;
    }
    while (used_idx(d) != d->used_seen) {
      fence();
      uint32_t id = d->uring[1 + 2 * (d->used_seen % d->num)];
      d->used_seen++;
      int s = (int)(id / DESCS_PER_SLOT);
      if (s >= VBLK_SLOTS || !(d->busy & (1u << s))) panic("virtio-blk: used id %u is not ours", id);
      d->busy &= ~(1u << s);
      done++;
      if (d->status[s] != VIRTIO_BLK_S_OK) {
        failed++;
        d->errors++;
        kprintf("virtio-blk: %s: request %u answered status %u\n", d->vdev, job_of[s], d->status[s]);
      } else if (job->done) {
        job->done(d, job_of[s], s, job->arg);
      }
    }
  }
  return (int32_t)failed;
}

struct one {
  uint32_t type, nsect;
  uint64_t sector;
};

static void one_prep(struct vdisk *d, uint32_t i, int slot, uint32_t *type, uint64_t *sector, uint32_t *nsect, void *arg) {
  (void)d, (void)i, (void)slot;
  struct one *o = arg;
  *type = o->type, *sector = o->sector, *nsect = o->nsect;
}

int32_t vblk_one(struct vdisk *d, uint32_t type, uint64_t sector, uint32_t nsect) {
  struct one o = {type, nsect, sector};
  struct vblk_job job = {one_prep, 0, &o};
  return vblk_run(d, 1, 1, &job);
}

/* T_GET_ID writes up to 20 bytes into the data buffer (an id of 20 bytes has no NUL). */
static void get_serial(struct vdisk *d) {
  memset((void *)(uintptr_t)d->pages[0][0], 0, 512);
  if (vblk_one(d, VIRTIO_BLK_T_GET_ID, 0, 1) == 0) memcpy(d->serial, (void *)(uintptr_t)d->pages[0][0], 20);
  d->serial[20] = 0;
}
