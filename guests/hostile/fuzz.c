/*
 * fuzz SEED OPS MS DATA WINDOW PEER VICTIM: OPS random grant sequences (or until MS ms),
 * built from the primitives of grant.c: grant and end (refs 8..15), map and unmap, copy,
 * balloon out and populate, reads and writes through whatever is mapped. Frames are picked
 * from 8 data pages at DATA, 8 grant-window frames at WINDOW, and our special pages
 * (start_info, the xenstore ring, the grant table; never the console ring, which the shell
 * reads, nor shared_info); domains from PEER, VICTIM, DOMID_SELF and a random one.
 * Afterwards it unmaps what it holds, ends its grants and repopulates what it gave back,
 * so that the test can account for every frame.
 */
#include "hostile.h"

#define NSLOT 8
static uint32_t seed;
static uint32_t rnd(uint32_t n) {
  seed = seed * 1103515245u + 12345u;
  return (seed >> 8) % n;
}

static uint32_t data0, window0, peer, victim;
static uint32_t handles[NSLOT]; /* by window slot: 0 = none */

static uint32_t pick_gfn(void) {
  switch (rnd(5)) {
  case 0: case 1: return data0 + rnd(NSLOT);
  case 2: case 3: return window0 + rnd(NSLOT);
  default: {
    uint32_t special[3] = {pv.start_info >> 12, pv.store_gfn, pv.gnttab_gfn};
    return special[rnd(3)];
  }
  }
}

static uint32_t pick_dom(void) {
  switch (rnd(6)) {
  case 0: case 1: case 2: return peer;
  case 3: return victim;
  case 4: return DOMID_SELF;
  default: return rnd(40);
  }
}

void cmd_fuzz(const uint32_t *a, int n) {
  if (n < 7 || !pv.gnttab) { kprintf("= error fuzz SEED OPS MS DATA WINDOW PEER VICTIM\n"); return; }
  seed = a[0];
  data0 = a[3], window0 = a[4], peer = a[5], victim = a[6];
  uint64_t until = now_ticks() + (uint64_t)a[2] * 10000u;
  uint32_t ops = 0, maps = 0, copies = 0, outs = 0, ins = 0, faults = 0, grants = 0;
  int16_t st;
  uint32_t h;
  for (; ops < a[1] && now_ticks() < until; ops++) {
    uint32_t ref = 8 + rnd(8), slot = rnd(NSLOT);
    switch (rnd(10)) {
    case 0: case 1:
      gnt_grant(ref, pick_dom(), pick_gfn(), rnd(2));
      grants++;
      break;
    case 2: {
      uint32_t seen;
      gnt_end(ref, &seen);
      break;
    }
    case 3: case 4: {
      uint32_t g = rnd(4) ? window0 + slot : pick_gfn();
      if (gnt_map(pick_dom(), ref, g, rnd(2), &st, &h) == 0 && st == 0) {
        maps++;
        if (g == window0 + slot && !handles[slot]) handles[slot] = h;
        else gnt_unmap(g, h, &st); /* keep at most one mapping per window slot */
      }
      break;
    }
    case 5:
      if (handles[slot]) {
        gnt_unmap(window0 + slot, handles[slot], &st);
        handles[slot] = 0;
      } else {
        gnt_unmap(pick_gfn(), rnd(64), &st);
      }
      break;
    case 6: {
      uint32_t flags = rnd(4), sdom = flags & GNTCOPY_source_gref ? pick_dom() : DOMID_SELF;
      uint32_t ddom = flags & GNTCOPY_dest_gref ? pick_dom() : DOMID_SELF;
      uint32_t sref = flags & GNTCOPY_source_gref ? 8 + rnd(8) : pick_gfn();
      uint32_t dref = flags & GNTCOPY_dest_gref ? 8 + rnd(8) : pick_gfn();
      if (gnt_copy(flags, sref, sdom, rnd(4096), dref, ddom, rnd(4096), rnd(4) ? rnd(64) : rnd(4097), &st) == 0 && st == 0)
        copies++;
      break;
    }
    case 7:
      if (rnd(2)) outs += reservation(XENMEM_decrease_reservation, pick_gfn()) == 1;
      else ins += reservation(XENMEM_increase_reservation, pick_gfn()) == 1;
      break;
    default: {
      uint32_t addr = (pick_gfn() << 12) + 4 * rnd(1024);
      int bad = 0;
      if (rnd(2)) bad = probe_write(addr, seed);
      else probe_read(addr, &bad);
      faults += bad != 0;
      break;
    }
    }
  }
  /* Clean up: drop our mappings, end our grants, take back what we gave. */
  for (uint32_t s = 0; s < NSLOT; s++) {
    if (handles[s]) gnt_unmap(window0 + s, handles[s], &st);
    handles[s] = 0;
  }
  uint32_t busy = 0;
  for (uint32_t ref = 8; ref < 16; ref++) {
    uint32_t seen;
    if (gnt_end(ref, &seen)) busy++;
  }
  for (uint32_t i = 0; i < NSLOT; i++) reservation(XENMEM_increase_reservation, data0 + i);
  uint32_t special[3] = {pv.start_info >> 12, pv.store_gfn, pv.gnttab_gfn};
  for (uint32_t i = 0; i < 3; i++) reservation(XENMEM_increase_reservation, special[i]);
  kprintf("= ok fuzz ops=%u grants=%u maps=%u copies=%u outs=%u ins=%u faults=%u busy=%u\n", ops, grants, maps, copies,
          outs, ins, faults, busy);
}
