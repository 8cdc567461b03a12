/*
 * The balloon driver. The toolstack writes the domain's memory target, in KiB, to
 * memory/target in its xenstore home (`xl mem-set`); a watch on it wakes the driver,
 * which gives free pages back to the hypervisor (XENMEM_decrease_reservation: the
 * frames leave our physical map and return to the hypervisor's free pool) or takes
 * them back (XENMEM_increase_reservation with the same guest frame numbers), until
 * the pages the domain holds match the target.
 *
 * It works from the shell loop, never in an interrupt. It keeps KEEP_FREE pages so the
 * kernel can still run, and it only refills frames it gave away: the teaching OS grows
 * back to its boot size at most, even when maxmem would allow more.
 */
#include "pv.h"

#define BATCH 128
#define KEEP_FREE 64

static uint32_t target;     /* pages */
static int have_target;
static volatile int dirty;
static xen_pfn_t batch[BATCH];

static uint32_t current_pages(void) { return page_total() - page_count(PG_BALLOONED); }

static void on_target(const char *path, const char *token) {
  (void)path, (void)token;
  dirty = 1;
}

void balloon_init(void) {
  target = current_pages();
  if (!xs_available()) return;
  int32_t rc = xs_watch("memory/target", "tos-balloon", on_target);
  if (rc) kprintf("pv: balloon: cannot watch memory/target (%s)\n", xen_strerror(rc));
}

int balloon_has_work(void) { return dirty; }

static int32_t reservation(uint32_t cmd, uint32_t n) {
  struct xen_memory_reservation r = {gpa_of(batch), n, 0, 0, DOMID_SELF};
  int32_t rc = memory_op(cmd, &r);
  return rc < 0 ? 0 : rc > (int32_t)n ? (int32_t)n : rc;  /* extents done */
}

static uint32_t shrink(uint32_t n) {
  uint32_t done = 0, below = page_total();
  while (done < n) {
    uint32_t k = 0;
    while (k < BATCH && done + k < n && page_count(PG_FREE) > KEEP_FREE) {
      int32_t p = page_find_free_high(below);
      if (p < 0) break;
      page_set((uint32_t)p, PG_BALLOONED);
      batch[k++] = (uint32_t)p + gfn_origin;
      below = (uint32_t)p;
    }
    if (!k) break;
    uint32_t ok = (uint32_t)reservation(XENMEM_decrease_reservation, k);
    for (uint32_t i = ok; i < k; i++) page_set(batch[i] - gfn_origin, PG_FREE);
    done += ok;
    if (ok < k) break;
  }
  return done;
}

static uint32_t grow(uint32_t n) {
  uint32_t done = 0, from = 0;
  while (done < n) {
    uint32_t k = 0;
    int32_t p;
    while (k < BATCH && done + k < n && (p = page_find(PG_BALLOONED, from)) >= 0) {
      batch[k++] = (uint32_t)p + gfn_origin;
      from = (uint32_t)p + 1;
    }
    if (!k) break;
    uint32_t ok = (uint32_t)reservation(XENMEM_increase_reservation, k);
    for (uint32_t i = 0; i < ok; i++) page_set(batch[i] - gfn_origin, PG_FREE);
    done += ok;
    if (ok < k) break;
  }
  return done;
}

void balloon_work(void) {
  dirty = 0;
  uint32_t kib;
  int32_t rc = xs_read_u32("memory/target", &kib);
  if (rc) {
    if (rc != -XEN_ENOENT) con_notice("balloon: cannot read memory/target (%s)\n", xen_strerror(rc));
    return;
  }
  have_target = 1;
  target = kib / 4;
  uint32_t cur = current_pages();
  if (target < cur) {
    uint32_t got = shrink(cur - target);
    con_notice("balloon: target %u KiB: gave %u pages back to the hypervisor, now %u KiB%s\n", kib, got,
               current_pages() * 4, got < cur - target ? " (no more free pages to give)" : "");
  } else if (target > cur) {
    uint32_t got = grow(target - cur);
    con_notice("balloon: target %u KiB: took %u pages back from the hypervisor, now %u KiB%s\n", kib, got,
               current_pages() * 4, got < target - cur ? " (grows back to its boot size at most)" : "");
  }
}

void balloon_print(void) {
  uint32_t cur = current_pages();
  if (have_target) kprintf("balloon: target %u KiB (%u pages), from memory/target\n", target * 4, target);
  else kprintf("balloon: no target yet (memory/target is not in xenstore)\n");
  kprintf("balloon: current %u KiB (%u pages): %u ballooned, %u free\n", cur * 4, cur,
          page_count(PG_BALLOONED), page_count(PG_FREE));
  kprintf("balloon: follows xl mem-set through a watch on memory/target; at most %u KiB\n", page_total() * 4);
}

int32_t balloon_take_hole(uint32_t *pfn) {
  int32_t p = page_find_free_high(page_total());
  if (p < 0) return -XEN_ENOMEM;
  page_set((uint32_t)p, PG_BALLOONED);
  batch[0] = (uint32_t)p + gfn_origin;
  if (reservation(XENMEM_decrease_reservation, 1) != 1) {
    page_set((uint32_t)p, PG_FREE);
    return -XEN_ENOMEM;
  }
  *pfn = (uint32_t)p;
  return 0;
}

void balloon_fill_hole(uint32_t pfn) {
  batch[0] = pfn + gfn_origin;
  if (reservation(XENMEM_increase_reservation, 1) == 1) page_set(pfn, PG_FREE);
}
