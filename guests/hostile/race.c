/*
 * The races of issue 10 items 4 and 5, one side per domain, each bounded in time.
 *
 * race-granter REF DOMID GFN MS MODE HOLD STOP
 *   grants page GFN to DOMID as REF (read/write), then takes the grant away again with a
 *   compare-exchange that fails while the hypervisor shows it pinned, and checks that no
 *   pin appears afterwards. Once the grant is taken away, the page's first word says so
 *   (SECRET, RO_MARK or DOM_MARK) until no stale pin is left, so that a mapping made with
 *   the old rights reads it. MODE 0: end the grant. MODE 1: make it read-only (the pin
 *   that must not appear is GTF_writing). MODE 2: give it to another domain. MODE 3
 *   (copies): end the grant, then swap the page's first word to 0 twice, HOLD spins
 *   apart; a copy that lands between was late. stale = pins (or late copies) seen after
 *   the grant was taken away.
 * race-mapper DOMID REF GFN MS RO BATCH STOP
 *   maps REF of DOMID at GFN..GFN+BATCH-1 in one hypercall, reads each mapping's first
 *   word (secret = a mark of a taken-away grant seen), writes its second word when
 *   mapped writable, unmaps; again until MS ms have passed.
 * race-copier DOMID REF GFN MS BATCH STOP
 *   GNTTABOP_copy of the first word of its page GFN (a nonzero marker) onto REF of
 *   DOMID, BATCH copies per hypercall.
 * STOP > 0 ends a side early once it has seen that many violations.
 */
#include "hostile.h"

#define SECRET 0x5ec2e7a5u  /* ended */
#define RO_MARK 0x5ec2e7b6u /* read-only now */
#define DOM_MARK 0x5ec2e7c7u /* granted to another domain now */
#define PUBLIC 0x0b11c000u
#define BATCH_MAX 16
#define DOMID_OTHER 0x7ff1u /* DOMID_IO: nobody may map it */

static void spin(uint32_t n) {
  for (uint32_t i = 0; i < n; i++) __asm__ volatile("" ::: "memory");
}

static uint64_t deadline(uint32_t ms) { return now_ticks() + (uint64_t)ms * 10000u; }

/* Wait (bounded) until the hypervisor drops its pin; 0 if it did. */
static int wait_unpinned(volatile uint32_t *w, uint64_t until) {
  while (*w & (GTF_reading | GTF_writing)) {
    if (now_ticks() > until) return -1;
    yield();
  }
  return 0;
}

/* Compare-exchange until it succeeds (not pinned) or time is up; counts the busy tries. */
static int cas_until(uint32_t ref, uint32_t old, uint32_t new_word, uint64_t until, uint32_t *busy) {
  while (gnt_cas(ref, old, new_word)) {
    ++*busy;
    if (now_ticks() > until) return -1;
    spin(20);
  }
  return 0;
}

void cmd_race_granter(const uint32_t *a, int n) {
  if (n < 7 || !pv.gnttab) { kprintf("= error race-granter REF DOMID GFN MS MODE HOLD STOP\n"); return; }
  uint32_t ref = a[0], dom = a[1] & 0xffff, mode = a[4], hold = a[5], stop = a[6];
  volatile uint32_t *page = (volatile uint32_t *)(a[2] << 12);
  volatile uint32_t *w = pv.gnttab + 2 * ref;
  uint64_t t0 = now_ticks(), until = deadline(a[3]), hard = until + 20000000u; /* 2 s more to unwind a pin */
  uint32_t rounds = 0, taken = 0, busy = 0, stale = 0, seed = 12345;
  const uint32_t granted = dom << 16 | GTF_permit_access;
  while (now_ticks() < until && !(stop && stale >= stop)) {
    rounds++;
    page[0] = mode == 3 ? 0 : PUBLIC;
    gnt_grant(ref, dom, a[2], 0);
    seed = seed * 1103515245u + 12345u;
    spin((seed >> 16) % (hold / 4 + 1)); /* a while granted, for the other side to use it */
    uint32_t away = mode == 1 ? granted | GTF_readonly : mode == 2 ? DOMID_OTHER << 16 | GTF_permit_access : dom << 16;
    if (cas_until(ref, granted, away, hard, &busy)) break;
    taken++;
    if (mode == 3) __atomic_exchange_n((uint32_t *)page, 0, __ATOMIC_SEQ_CST);
    else page[0] = mode == 1 ? RO_MARK : mode == 2 ? DOM_MARK : SECRET;
    spin(hold);
    uint32_t pin = mode == 1 ? GTF_writing : GTF_reading | GTF_writing;
    if (mode == 3) {
      if (__atomic_exchange_n((uint32_t *)page, 0, __ATOMIC_SEQ_CST) != 0) stale++;
    } else if (*w & pin) {
      stale++;
    }
    if (wait_unpinned(w, hard)) break; /* a stale mapping reads the mark meanwhile */
    page[0] = PUBLIC;
    gnt_end(ref, &pin); /* modes 1 and 2: now end it for good */
  }
  uint32_t seen;
  gnt_end(ref, &seen);
  kprintf("= ok race-granter rounds=%u taken=%u busy=%u stale=%u ms=%u\n", rounds, taken, busy, stale,
          (uint32_t)((now_ticks() - t0) / 10000u));
}

void cmd_race_mapper(const uint32_t *a, int n) {
  if (n < 7) { kprintf("= error race-mapper DOMID REF GFN MS RO BATCH STOP\n"); return; }
  uint32_t dom = a[0], ref = a[1], gfn = a[2], ro = a[4], batch = a[5] ? a[5] : 1, stop = a[6];
  if (batch > BATCH_MAX) batch = BATCH_MAX;
  static struct gnttab_map_grant_ref map[BATCH_MAX];
  static struct gnttab_unmap_grant_ref unmap[BATCH_MAX];
  uint64_t until = deadline(a[3]);
  uint32_t maps = 0, okay = 0, secret = 0, writable = 0;
  while (now_ticks() < until && !(stop && secret >= stop)) {
    memset(map, 0, sizeof map);
    for (uint32_t i = 0; i < batch; i++) {
      map[i].host_addr = (gfn + i) << 12;
      map[i].flags = GNTMAP_host_map | (ro ? GNTMAP_readonly : 0);
      map[i].ref = ref;
      map[i].dom = (uint16_t)dom;
      map[i].status = -99;
    }
    hypercall(HC_grant_table_op, GNTTABOP_map_grant_ref, (uint32_t)map, batch);
    uint32_t k = 0;
    for (uint32_t i = 0; i < batch; i++) {
      maps++;
      if (map[i].status != 0) continue;
      okay++;
      int bad;
      uint32_t v = probe_read((gfn + i) << 12, &bad);
      if (!bad && (v == SECRET || v == RO_MARK || v == DOM_MARK)) secret++;
      if (!ro && probe_write(((gfn + i) << 12) + 4, 0x77) == 0) writable++;
      memset(&unmap[k], 0, sizeof unmap[k]);
      unmap[k].host_addr = (gfn + i) << 12;
      unmap[k].handle = map[i].handle;
      k++;
    }
    if (k) hypercall(HC_grant_table_op, GNTTABOP_unmap_grant_ref, (uint32_t)unmap, k);
  }
  kprintf("= ok race-mapper maps=%u okay=%u secret=%u writable=%u\n", maps, okay, secret, writable);
}

void cmd_race_copier(const uint32_t *a, int n) {
  if (n < 6) { kprintf("= error race-copier DOMID REF GFN MS BATCH STOP\n"); return; }
  uint32_t dom = a[0], ref = a[1], gfn = a[2], batch = a[4] ? a[4] : 1;
  if (batch > BATCH_MAX) batch = BATCH_MAX;
  static struct gnttab_copy op[BATCH_MAX];
  *(volatile uint32_t *)(gfn << 12) = 0xc0ffee01u;
  uint64_t until = deadline(a[3]);
  uint32_t copies = 0, okay = 0;
  while (now_ticks() < until) {
    memset(op, 0, sizeof op);
    for (uint32_t i = 0; i < batch; i++) {
      op[i].source.ref = gfn;
      op[i].source.domid = DOMID_SELF;
      op[i].dest.ref = ref;
      op[i].dest.domid = (uint16_t)dom;
      op[i].len = 4;
      op[i].flags = GNTCOPY_dest_gref;
      op[i].status = -99;
    }
    hypercall(HC_grant_table_op, GNTTABOP_copy, (uint32_t)op, batch);
    for (uint32_t i = 0; i < batch; i++) copies++, okay += op[i].status == 0;
  }
  kprintf("= ok race-copier copies=%u okay=%u\n", copies, okay);
}
