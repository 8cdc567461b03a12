/*
 * fuzz SEED OPS MS DATA WINDOW PEER VICTIM: OPS random grant operations (or until MS ms),
 * the building blocks of the attacks of issue 10 in random orders: grant (a page of our
 * own, a foreign page we map, or a special page: re-granting), end a grant, map a grant
 * (into a hole we ballooned out, or into the grant window), unmap, balloon out (our own
 * page, a page holding a mapping, start_info or the xenstore ring: not the grant table,
 * which a hypervisor without the fixes of issue 10 lets go, and the fuzz with it),
 * populate, copy, and reads and writes through whatever is there. Sixteen slots track
 * what each frame holds: 8 data pages at DATA and 8 grant-window frames at WINDOW. Grants use refs 8..11, so that the peer
 * (running the same fuzz against us) finds them often. Afterwards it unmaps what it
 * holds, repopulates its holes and special pages and ends its grants, so that the test
 * can account for every frame.
 */
#include "hostile.h"

#define NSLOT 16
enum { OWN, HOLE, MAPPED };
static uint32_t seed;
static uint32_t rnd(uint32_t n) {
  seed = seed * 1103515245u + 12345u;
  return (seed >> 8) % n;
}

static uint32_t peer, victim;
static uint32_t slot_gfn[NSLOT], slot_kind[NSLOT], slot_handle[NSLOT];
static uint32_t map_status[12]; /* failed maps by -status */

static uint32_t special_gfn(void) {
  uint32_t special[3] = {pv.start_info >> 12, pv.store_gfn, pv.gnttab_gfn};
  return special[rnd(3)];
}

/* Whether entry `ref` of our grant table is there and writable (we may have given its
 * page back, or mapped something read-only in its place; Xen refuses the first). */
static int table_ok(uint32_t ref) {
  int bad;
  uint32_t at = (uint32_t)(pv.gnttab + 2 * ref + 1);
  uint32_t frame = probe_read(at, &bad);
  return !bad && probe_write(at, frame) == 0;
}

static uint32_t pick_gfn(void) { return rnd(10) ? slot_gfn[rnd(NSLOT)] : special_gfn(); }

static uint32_t pick_dom(void) {
  uint32_t r = rnd(16);
  return r < 13 ? peer : r == 13 ? victim : r == 14 ? DOMID_SELF : rnd(40);
}

/* A slot of the given kind (starting at a random one), or -1. */
static int find(uint32_t kind) {
  uint32_t s0 = rnd(NSLOT);
  for (uint32_t i = 0; i < NSLOT; i++)
    if (slot_kind[(s0 + i) % NSLOT] == kind) return (int)((s0 + i) % NSLOT);
  return -1;
}

void cmd_fuzz(const uint32_t *a, int n) {
  if (n < 7 || !pv.gnttab) { kprintf("= error fuzz SEED OPS MS DATA WINDOW PEER VICTIM\n"); return; }
  seed = a[0];
  peer = a[5], victim = a[6];
  memset(map_status, 0, sizeof map_status);
  for (uint32_t s = 0; s < NSLOT; s++) {
    slot_gfn[s] = s < 8 ? a[3] + s : a[4] + s - 8;
    slot_kind[s] = s < 8 ? OWN : HOLE;
    slot_handle[s] = 0;
  }
  uint64_t until = now_ticks() + (uint64_t)a[2] * 10000u;
  uint32_t ops = 0, maps = 0, copies = 0, outs = 0, ins = 0, faults = 0, grants = 0;
  int16_t st;
  uint32_t h;
  for (; ops < a[1] && now_ticks() < until; ops++) {
    uint32_t ref = 8 + (rnd(4) ? rnd(2) : rnd(4)), op = rnd(16);
    if (op <= 3 && !table_ok(ref)) {
      faults++;
      continue;
    }
    int s;
    switch (op) {
    case 0: case 1: case 2: /* grant our own page, or re-grant what we map */
      s = rnd(3) ? find(OWN) : find(MAPPED);
      gnt_grant(ref, pick_dom(), s >= 0 && rnd(8) ? slot_gfn[s] : pick_gfn(), rnd(3) == 0);
      grants++;
      break;
    case 3: {
      uint32_t seen;
      gnt_end(ref, &seen);
      break;
    }
    case 4: case 5: case 6: /* map into a hole (or anywhere) */
      s = find(HOLE);
      if (s >= 0 && rnd(8)) {
        if (gnt_map(pick_dom(), ref, slot_gfn[s], rnd(2), &st, &h) == 0 && st == 0) {
          maps++;
          slot_kind[s] = MAPPED;
          slot_handle[s] = h;
        } else if (st < 0 && st > -12) {
          map_status[-st]++;
        }
      } else {
        uint32_t g = pick_gfn();
        if (gnt_map(pick_dom(), ref, g, rnd(2), &st, &h) == 0 && st == 0) {
          maps++;
          gnt_unmap(rnd(8) ? g : pick_gfn(), h, &st); /* not tracked: let it go (or try, at a wrong address) */
          if (st != 0) gnt_unmap(g, h, &st);
        }
      }
      break;
    case 7:
      s = find(MAPPED);
      if (s >= 0) {
        gnt_unmap(slot_gfn[s], rnd(8) ? slot_handle[s] : rnd(64), &st);
        if (st == 0) slot_kind[s] = HOLE;
      }
      break;
    case 8: case 9: { /* balloon out: our page, a mapping, a special page */
      uint32_t r = rnd(4);
      s = r == 0 ? find(MAPPED) : r == 3 ? -1 : find(OWN);
      uint32_t g = s >= 0 ? slot_gfn[s] : rnd(2) ? pv.start_info >> 12 : pv.store_gfn;
      if (reservation(XENMEM_decrease_reservation, g) == 1) {
        outs++;
        if (s >= 0) slot_kind[s] = HOLE;
      }
      break;
    }
    case 10:
      s = rnd(3) ? find(HOLE) : -1;
      if (s >= 0 && reservation(XENMEM_increase_reservation, slot_gfn[s]) == 1) {
        ins++;
        slot_kind[s] = OWN;
      } else if (s < 0) {
        ins += reservation(XENMEM_increase_reservation, special_gfn()) == 1;
      }
      break;
    case 11: case 12: {
      uint32_t flags = rnd(4), sdom = flags & GNTCOPY_source_gref ? pick_dom() : DOMID_SELF;
      uint32_t ddom = flags & GNTCOPY_dest_gref ? pick_dom() : DOMID_SELF;
      uint32_t sref = flags & GNTCOPY_source_gref ? 8 + rnd(4) : pick_gfn();
      uint32_t dref = flags & GNTCOPY_dest_gref ? 8 + rnd(4) : pick_gfn();
      if (gnt_copy(flags, sref, sdom, rnd(4096), dref, ddom, rnd(4096), rnd(4) ? rnd(64) : rnd(4097), &st) == 0 && st == 0)
        copies++;
      break;
    }
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
  /* Clean up: drop our mappings, take back what we gave, end our grants. */
  for (uint32_t s = 0; s < NSLOT; s++) {
    if (slot_kind[s] == MAPPED) gnt_unmap(slot_gfn[s], slot_handle[s], &st);
    if (s < 8 && slot_kind[s] != OWN) reservation(XENMEM_increase_reservation, slot_gfn[s]);
  }
  uint32_t special[3] = {pv.start_info >> 12, pv.store_gfn, pv.gnttab_gfn};
  for (uint32_t i = 0; i < 3; i++) reservation(XENMEM_increase_reservation, special[i]);
  uint32_t busy = 0;
  for (uint32_t ref = 8; ref < 16; ref++) {
    uint32_t seen;
    if (!table_ok(ref) || gnt_end(ref, &seen)) busy++;
  }
  kprintf("= ok fuzz ops=%u grants=%u maps=%u copies=%u outs=%u ins=%u faults=%u busy=%u", ops, grants, maps, copies,
          outs, ins, faults, busy);
  kprintf(" failed=%u/%u/%u/%u/%u/%u/%u/%u/%u/%u\n", map_status[1], map_status[2], map_status[3], map_status[4],
          map_status[5], map_status[6], map_status[7], map_status[8], map_status[9], map_status[10]);
  memset(map_status, 0, sizeof map_status);
}
