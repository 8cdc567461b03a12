/*
 * The `disk` command, the same on pv (over blkfront) and hvm (over virtio-blk), through
 * the platform's block driver interface (include/blkdev.h):
 *   disk                          the disks, with their size and features
 *   disk read [VDEV] SECTOR [N]   N sectors (1..88) as a hex dump
 *   disk write [VDEV] SECTOR TEXT TEXT in sector SECTOR (zero-padded to whole logical sectors)
 *   disk flush [VDEV]             a cache flush: the backend's image is on stable storage
 *   disk bench [VDEV] [MIB]       sequential and random reads and writes: MB/s and IOPS
 * and the platform's own (pv: `disk reconnect [VDEV]`, close the ring and connect again,
 * as after a restore). VDEV defaults to the first disk. The bench writes back exactly the
 * bytes it read, so the disk's content is the same afterwards.
 *
 * SECTOR and N are always 512-byte units, as blkif's sector_number and virtio-blk's sector
 * are, even on a disk whose logical sector size (pv: the backend's `sector-size`; hvm:
 * blk_size) is larger. `read` sends what it is asked, so a read that is not whole logical
 * sectors reaches the backend and its error is printed (with what the disk needs); `write`
 * pads its text to whole logical sectors, as an OS's block layer does.
 */
#include "tos.h"
#include "plat.h"
#include "blkdev.h"

#define BENCH_RANDOM 1000u
#define BENCH_MAX_PAGES 2048u  /* 8 MiB */

static uint8_t *slot_byte(const struct blkdev *v, int slot, uint32_t off) { return (uint8_t *)(uintptr_t)v->pages[slot][off / PAGE_SIZE] + off % PAGE_SIZE; }

/* The disk a subcommand names (VDEV first), else the first usable one. */
static int pick(int *argc, char ***argv, struct blkdev *d) {
  if (*argc > 0 && (*argv)[0][0] >= 'a' && (*argv)[0][0] <= 'z') {
    int found = blkdev_find((*argv)[0], d);
    if (!found) kprintf("disk: no disk %s\n", (*argv)[0]);
    (*argc)--, (*argv)++;
    return found;
  }
  if (blkdev_first_usable(d)) return 1;
  kprintf("disk: no disks (%s)\n", blkdev_no_disks);
  return 0;
}

static int list(void) {
  int n = 0;
  struct blkdev d;
  for (int i = 0, r; (r = blkdev_get(i, &d)) >= 0; i++) {
    if (!r) continue;
    n++;
    blkdev_describe(&d);
  }
  if (!n) kprintf("disk: no disks (%s)\n", blkdev_no_disks);
  return 0;
}

/* hexdump -C style: offset, 16 bytes, the printable ones; a run of equal lines is one "*". */
static void hexdump(const struct blkdev *v, uint64_t base, uint32_t len) {
  uint8_t prev[16];
  int star = 0;
  for (uint32_t off = 0; off < len; off += 16) {
    uint8_t *p = slot_byte(v, 0, off);
    if (off && off + 16 < len && !memcmp(p, prev, 16)) {
      if (!star) con_puts("*\n");
      star = 1;
      continue;
    }
    star = 0;
    memcpy(prev, p, 16);
    char line[96];
    size_t k = (size_t)ksnprintf(line, sizeof line, "%08llx ", (unsigned long long)(base + off));
    for (int i = 0; i < 16; i++) k += (size_t)ksnprintf(line + k, sizeof line - k, "%s%02x", i == 8 ? "  " : " ", p[i]);
    k += (size_t)ksnprintf(line + k, sizeof line - k, "  |");
    for (int i = 0; i < 16; i++) line[k++] = p[i] >= 32 && p[i] < 127 ? (char)p[i] : '.';
    line[k++] = '|', line[k] = 0;
    kprintf("%s\n", line);
  }
}

static int need_sector(const struct blkdev *v, const char *arg, uint32_t n, uint32_t *sector) {
  if (!arg || parse_u32(arg, sector)) {
    kprintf("disk: expected a sector number\n");
    return -1;
  }
  if ((uint64_t)*sector + n > v->sectors) {
    kprintf("disk: %s has %llu sectors: %u..%u is past the end\n", v->vdev, (unsigned long long)v->sectors, *sector, *sector + n - 1);
    return -1;
  }
  return 0;
}

/* After a failed request: if it was not whole logical sectors, say so (the backend's answer is printed already). */
static void explain_alignment(const struct blkdev *v, uint32_t sector, uint32_t n) {
  uint32_t per = v->ssize / 512;
  if (per > 1 && (sector % per || n % per))
    kprintf("disk: %s has %u-byte sectors: a request must start and end on one of their boundaries (SECTOR and N multiples of %u; "
            "they count 512-byte units)\n",
            v->vdev, v->ssize, per);
}

static int cmd_read(const struct blkdev *v, int argc, char **argv) {
  uint32_t sector, n = 1;
  if (argc > 1 && (parse_u32(argv[1], &n) || n < 1 || n > BLKDEV_SLOT_SECTORS)) {
    kprintf("disk: read: N must be 1..%u\n", BLKDEV_SLOT_SECTORS);
    return -1;
  }
  if (need_sector(v, argc > 0 ? argv[0] : 0, n, &sector)) return -1;
  if (blkdev_one(v, BLKDEV_READ, sector, n)) return explain_alignment(v, sector, n), -1;
  hexdump(v, (uint64_t)sector * 512, n * 512);
  return 0;
}

static int cmd_write(const struct blkdev *v, int argc, char **argv) {
  uint32_t sector;
  if (argc < 2) {
    kprintf("usage: disk write [VDEV] SECTOR TEXT\n");
    return -1;
  }
  char text[128];
  text[0] = 0;
  for (int i = 1; i < argc; i++) {
    size_t len = strlen(text);
    ksnprintf(text + len, sizeof text - len, "%s%s", i > 1 ? " " : "", argv[i]);
  }
  uint32_t per = v->ssize / 512, len = (uint32_t)strlen(text), n = (len + 511) / 512;
  if (!len) n = 1;
  n = (n + per - 1) / per * per;  /* whole logical sectors: at most 4096 bytes, the slot's first page */
  if (need_sector(v, argv[0], n, &sector)) return -1;
  memset(slot_byte(v, 0, 0), 0, PAGE_SIZE);
  memcpy(slot_byte(v, 0, 0), text, len);
  if (blkdev_one(v, BLKDEV_WRITE, sector, n)) return explain_alignment(v, sector, n), -1;
  kprintf("disk: wrote %u bytes to %s at sector %u (%u sector%s)\n", len, v->vdev, sector, n, n == 1 ? "" : "s");
  return 0;
}

static int cmd_flush(const struct blkdev *v) {
  if (!v->flush) {
    kprintf("disk: %s: %s\n", v->vdev, blkdev_no_flush);
    return -1;
  }
  if (blkdev_one(v, BLKDEV_FLUSH, 0, 0)) return -1;
  kprintf("disk: %s flushed: the backend's image is on stable storage\n", v->vdev);
  return 0;
}

/* ---- bench ---- */

struct bench {
  uint32_t pages;        /* the region: pages 0..pages-1 of the disk */
  uint32_t save[BENCH_MAX_PAGES];  /* its content, read by the sequential read */
  uint32_t rnd[BENCH_RANDOM];
  enum blkdev_op op;
  int saving;            /* the untimed first pass: keep what is read */
};
static struct bench b;

/* A page copy by words, 8 at a time (the runtime's memcpy goes byte by byte). */
static void copy_page(uint32_t dst, uint32_t src) {
  uint32_t *d = (uint32_t *)(uintptr_t)dst;
  const uint32_t *q = (const uint32_t *)(uintptr_t)src;
  for (uint32_t i = 0; i < PAGE_SIZE / 4; i += 8) {
    uint32_t a0 = q[i], a1 = q[i + 1], a2 = q[i + 2], a3 = q[i + 3], a4 = q[i + 4], a5 = q[i + 5], a6 = q[i + 6], a7 = q[i + 7];
    d[i] = a0, d[i + 1] = a1, d[i + 2] = a2, d[i + 3] = a3, d[i + 4] = a4, d[i + 5] = a5, d[i + 6] = a6, d[i + 7] = a7;
  }
}

static uint32_t seq_count(void) { return (b.pages + BLKDEV_SEGS - 1) / BLKDEV_SEGS; }

static void seq_prep(const struct blkdev *v, uint32_t i, int slot, enum blkdev_op *op, uint64_t *sector, uint32_t *nsect, void *arg) {
  (void)arg;
  uint32_t first = i * BLKDEV_SEGS, n = b.pages - first;
  if (n > BLKDEV_SEGS) n = BLKDEV_SEGS;
  *op = b.op, *sector = (uint64_t)first * 8, *nsect = n * 8;
  if (b.op == BLKDEV_WRITE)
    for (uint32_t g = 0; g < n; g++) copy_page(v->pages[slot][g], b.save[first + g]);
}

static void seq_done(const struct blkdev *v, uint32_t i, int slot, void *arg) {
  (void)arg;
  if (!b.saving) return;
  uint32_t first = i * BLKDEV_SEGS;
  for (uint32_t g = 0; g < BLKDEV_SEGS && first + g < b.pages; g++)
    copy_page(b.save[first + g], v->pages[slot][g]);
}

static void rnd_prep(const struct blkdev *v, uint32_t i, int slot, enum blkdev_op *op, uint64_t *sector, uint32_t *nsect, void *arg) {
  (void)arg;
  uint32_t k = b.rnd[i];
  *op = b.op, *sector = (uint64_t)k * 8, *nsect = 8;
  if (b.op == BLKDEV_WRITE) copy_page(v->pages[slot][0], b.save[k]);
}

static void report(const char *what, uint32_t ops, uint64_t bytes, uint64_t ns) {
  if (!ns) ns = 1;
  char secs[32];
  fmt_seconds(secs, sizeof secs, ns, 3);
  uint64_t tenths = bytes * 10000 / ns;  /* MB/s (10^6 bytes) in tenths */
  kprintf("timing: %s: %s s, %llu.%llu MB/s, %llu IOPS\n", what, secs, tenths / 10, tenths % 10, (uint64_t)ops * 1000000000ull / ns);
}

static int run_timed(const struct blkdev *v, uint32_t count, uint32_t depth, const struct blkdev_job *job, uint64_t *ns, int flush) {
  uint64_t t0 = time_ns();
  int32_t rc = blkdev_run(v, count, depth, job);
  if (!rc && flush && v->flush) rc = blkdev_one(v, BLKDEV_FLUSH, 0, 0);
  *ns = time_ns() - t0;
  if (rc) kprintf("disk: bench: %d request%s failed: stopped\n", rc, rc == 1 ? "" : "s");
  return rc ? -1 : 0;
}

static int cmd_bench(const struct blkdev *v, int argc, char **argv) {
  uint32_t mib = 4;
  if (argc > 0 && (parse_u32(argv[0], &mib) || mib < 1 || mib > BENCH_MAX_PAGES / 256)) {
    kprintf("disk: bench: MIB must be 1..%u\n", BENCH_MAX_PAGES / 256);
    return -1;
  }
  uint32_t pages = mib * 256;
  if (pages > v->sectors / 8) pages = (uint32_t)(v->sectors / 8);
  if (!pages) {
    kprintf("disk: bench: %s is smaller than a page\n", v->vdev);
    return -1;
  }
  uint32_t got = 0;
  while (got < pages && page_count(PG_FREE) > 64) {
    b.save[got] = page_alloc();
    if (!b.save[got]) break;
    got++;
  }
  if (got < pages) kprintf("disk: bench: memory for %u KiB only\n", got * 4);
  b.pages = got;
  uint32_t x = 2463534242u;
  for (uint32_t i = 0; i < BENCH_RANDOM; i++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    b.rnd[i] = x % b.pages;
  }
  int ro = v->ro;
  kprintf("disk bench: %s, the first %u KiB: sequential in 44 KiB requests, random 4 KiB x %u, %u in flight%s\n", v->vdev,
          b.pages * 4, BENCH_RANDOM, BLKDEV_SLOTS, ro ? "; read-only disk: reads only" : "; writes put back what was read");
  con_drain();
  struct blkdev_job seq = {seq_prep, seq_done, 0}, rnd = {rnd_prep, 0, 0};
  uint64_t ns;
  int rc = 0;
  char what[64];
  uint64_t bytes = (uint64_t)b.pages * PAGE_SIZE;
  b.saving = 0;
  b.op = BLKDEV_READ;
  if (!ro) {  /* keep the region's content, to write it back */
    b.saving = 1;
    rc = run_timed(v, seq_count(), BLKDEV_SLOTS, &seq, &ns, 0);
    b.saving = 0;
  }
  struct blkdev_counters c0, c1;
  blkdev_counters(v, &c0);
  if (!rc && !(rc = run_timed(v, seq_count(), BLKDEV_SLOTS, &seq, &ns, 0))) {
    ksnprintf(what, sizeof what, "sequential read %u KiB", b.pages * 4);
    report(what, seq_count(), bytes, ns);
  }
  if (!rc && !ro) {
    b.op = BLKDEV_WRITE;
    if (!(rc = run_timed(v, seq_count(), BLKDEV_SLOTS, &seq, &ns, 1))) {
      ksnprintf(what, sizeof what, "sequential write %u KiB (and a flush)", b.pages * 4);
      report(what, seq_count(), bytes, ns);
    }
  }
  b.op = BLKDEV_READ;
  if (!rc && !(rc = run_timed(v, BENCH_RANDOM, BLKDEV_SLOTS, &rnd, &ns, 0))) report("random read 4 KiB", BENCH_RANDOM, BENCH_RANDOM * 4096ull, ns);
  if (!rc && !ro) {
    b.op = BLKDEV_WRITE;
    if (!(rc = run_timed(v, BENCH_RANDOM, BLKDEV_SLOTS, &rnd, &ns, 0))) report("random write 4 KiB", BENCH_RANDOM, BENCH_RANDOM * 4096ull, ns);
  }
  blkdev_counters(v, &c1);
  kprintf("timing: disk bench: %u requests, %u notifications sent, %u %s received\n", c1.requests - c0.requests, c1.notifies - c0.notifies,
          c1.events - c0.events, blkdev_events_name);
  for (uint32_t i = 0; i < got; i++) page_free(b.save[i]);
  return rc;
}

int plat_disk(int argc, char **argv) {
  blkdev_refresh();
  if (argc < 2) return list();
  const char *sub = argv[1];
  argc -= 2, argv += 2;
  if (strcmp(sub, "read") && strcmp(sub, "write") && strcmp(sub, "flush") && strcmp(sub, "bench") && !blkdev_is_extra(sub)) {
    kprintf("usage: disk | disk read [VDEV] SECTOR [N] | disk write [VDEV] SECTOR TEXT | disk flush [VDEV] | disk bench [VDEV] [MIB]%s\n",
            blkdev_extra_usage);
    return -1;
  }
  struct blkdev d;
  if (!pick(&argc, &argv, &d) || !blkdev_ready(&d)) return -1;
  if (!strcmp(sub, "read")) return cmd_read(&d, argc, argv);
  if (!strcmp(sub, "write")) return cmd_write(&d, argc, argv);
  if (!strcmp(sub, "flush")) return cmd_flush(&d);
  if (!strcmp(sub, "bench")) return cmd_bench(&d, argc, argv);
  return blkdev_extra(&d, sub);
}
