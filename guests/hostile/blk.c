/*
 * A hostile blkfront (io/blkif.h, io/ring.h): it sets up a real shared ring for
 * Domain-0's blkback and then fills it with what a broken or malicious frontend may
 * put there. The xenstore side of the handshake (ring-ref, event-channel, protocol,
 * state) is written for it by the test, which is not what is under attack here.
 *
 *   blk-ring GFN REF
 *     grant our page GFN to Domain-0 as REF, put an empty sring on it and allocate an
 *     unbound event channel for Domain-0: answers `rc port`.
 *   blk-fuzz SEED OPS MS GFN PORT DATA NDATA REF0 SECTORS
 *     OPS rounds (or MS ms) of 1..8 requests each: plausible ones (READ, WRITE, FLUSH
 *     over our NDATA data pages at DATA, granted as REF0.., every fourth read-only)
 *     with wild parts mixed in (sectors past SECTORS, first_sect > last_sect, 0 or more
 *     than 11 segments, grant refs we never granted or granted to someone else, the
 *     ring page itself, unknown operations), whole slots of random bytes, req_prod
 *     values far ahead, responses consumed or not, rsp_event scribbled, grants ended
 *     and re-made while requests may be in flight, slots rewritten while their
 *     responses may still be on the way. Answers the counts of responses by status, and
 *     `stray`: slots read as responses whose id we never sent (after such a rewrite, our
 *     own request read back).
 */
#include "hostile.h"

#define EVTCHNOP_alloc_unbound 6
#define RING_SIZE 32u
#define REQ_SIZE 112u
#define MAX_DATA 16u

struct sring {
  volatile uint32_t req_prod, req_event, rsp_prod, rsp_event;
};

static uint32_t seed;
static uint32_t rnd(uint32_t n) {
  seed = seed * 1103515245u + 12345u;
  return (seed >> 8) % n;
}

void cmd_blk_ring(const uint32_t *a, int n) {
  if (n < 2) { kprintf("= error blk-ring GFN REF\n"); return; }
  uint32_t gfn = a[0], ref = a[1];
  memset((void *)(gfn << 12), 0, PAGE_SIZE);
  struct sring *s = (struct sring *)(gfn << 12);
  s->req_event = 1;
  s->rsp_event = 1;
  int rc = gnt_grant(ref, 0, gfn, 0);
  struct { uint16_t dom, remote_dom; uint32_t port; } op = {DOMID_SELF, 0, 0};
  if (!rc) rc = hypercall(HC_event_channel_op, EVTCHNOP_alloc_unbound, (uint32_t)&op, 0);
  kprintf("= ok blk-ring rc=%d port=%u\n", rc, op.port);
}

static uint32_t data_gfn, ndata, ref0, sectors;
/* Request ids count up across commands. */
static uint32_t next_id = 1;

/* A grant reference for a segment: mostly one of our data pages, else anything. */
static uint32_t pick_gref(uint32_t ring_ref) {
  uint32_t r = rnd(16);
  if (r < 12) return ref0 + rnd(ndata);
  if (r == 12) return ring_ref;
  if (r == 13) return rnd(8);          /* refs nobody granted, or granted to someone else */
  if (r == 14) return pv.gnttab_entries + rnd(4096);
  return seed;
}

static void put_request(uint8_t *slot, uint32_t id, uint32_t ring_ref) {
  if (rnd(4) == 0) { /* a slot of random bytes */
    for (uint32_t i = 0; i < REQ_SIZE; i++) slot[i] = (uint8_t)rnd(256);
    *(uint32_t *)(slot + 8) = id, *(uint32_t *)(slot + 12) = 0; /* ids stay ours: see `stray` */
    return;
  }
  static const uint8_t ops[8] = {0, 0, 0, 1, 1, 1, 3, 2};
  uint8_t op = rnd(16) ? ops[rnd(8)] : (uint8_t)rnd(256);
  uint32_t nseg = rnd(16) ? 1 + rnd(11) : rnd(2) ? 0 : 12 + rnd(244);
  memset(slot, 0, REQ_SIZE);
  slot[0] = op;
  slot[1] = (uint8_t)nseg;
  *(uint32_t *)(slot + 8) = id;
  uint32_t sector = rnd(8) ? rnd(sectors) : rnd(8) ? sectors - rnd(8) : seed;
  *(uint32_t *)(slot + 16) = sector;
  *(uint32_t *)(slot + 20) = rnd(32) ? 0 : seed;
  for (uint32_t g = 0; g < 11; g++) {
    uint8_t *sg = slot + 24 + g * 8;
    *(uint32_t *)sg = pick_gref(ring_ref);
    uint32_t first = rnd(8), last = first + rnd(8 - first);
    if (!rnd(16)) last = rnd(256), first = rnd(256);
    sg[4] = (uint8_t)first;
    sg[5] = (uint8_t)last;
  }
}

void cmd_blk_fuzz(const uint32_t *a, int n) {
  if (n < 9 || !pv.gnttab) { kprintf("= error blk-fuzz SEED OPS MS GFN PORT DATA NDATA REF0 SECTORS\n"); return; }
  seed = a[0];
  uint32_t ops = a[1], gfn = a[3], port = a[4], ring_ref = 0;
  data_gfn = a[5], ndata = a[6] < MAX_DATA ? a[6] : MAX_DATA, ref0 = a[7], sectors = a[8] ? a[8] : 1;
  uint64_t until = now_ticks() + (uint64_t)a[2] * 10000u;
  for (uint32_t i = 0; i < pv.gnttab_entries; i++)
    if (pv.gnttab[2 * i + 1] == gfn && (pv.gnttab[2 * i] & GTF_permit_access)) ring_ref = i;
  for (uint32_t i = 0; i < ndata; i++) gnt_grant(ref0 + i, 0, data_gfn + i, (i & 3) == 3);
  struct sring *s = (struct sring *)(gfn << 12);
  uint8_t *ring = (uint8_t *)(gfn << 12) + 64;
  uint32_t prod = s->req_prod, cons = s->rsp_prod;
  uint32_t sent = 0, rsp_ok = 0, rsp_err = 0, rsp_unsupp = 0, rsp_other = 0, stray = 0, kicks = 0, regrants = 0;
  uint32_t round = 0;
  for (; round < ops && now_ticks() < until; round++) {
    uint32_t k = 1 + rnd(8);
    for (uint32_t j = 0; j < k; j++) put_request(ring + ((prod + j) % RING_SIZE) * REQ_SIZE, next_id++, ring_ref);
    __asm__ volatile("fence w,w" ::: "memory");
    uint32_t r = rnd(32);
    s->req_prod = r == 0 ? seed : r == 1 ? prod + RING_SIZE + 1 + rnd(64) : prod + k;
    prod += k;
    sent += k;
    if (rnd(8)) { evtchn_send(port); kicks++; }
    if (!rnd(16)) s->rsp_event = seed; /* the backend must not trust it */
    if (!rnd(32)) { /* end a data grant and make it again, maybe read-only now */
      uint32_t i = rnd(ndata), seen;
      if (gnt_end(ref0 + i, &seen) == 0) gnt_grant(ref0 + i, rnd(8) ? 0 : rnd(40), data_gfn + i, rnd(2)), regrants++;
    }
    if (rnd(4)) yield();
    /* Consume what came back (a wild rsp_prod from a broken backend would show as stray). */
    uint32_t rp = s->rsp_prod;
    __asm__ volatile("fence r,r" ::: "memory");
    for (uint32_t c = 0; cons != rp && c < RING_SIZE; c++, cons++) {
      uint8_t *rsp = ring + (cons % RING_SIZE) * REQ_SIZE;
      uint32_t id = *(uint32_t *)rsp, id_hi = *(uint32_t *)(rsp + 4);
      int16_t st = *(int16_t *)(rsp + 10);
      if (st == 0) rsp_ok++;
      else if (st == -1) rsp_err++;
      else if (st == -2) rsp_unsupp++;
      else rsp_other++;
      if (id >= next_id || id_hi) stray++;
    }
    cons = rp;
    /* After a wild req_prod the backend gives up on the ring: start again from its view. */
    prod = s->rsp_prod;
    if (rnd(2)) s->rsp_event = cons + 1;
  }
  for (uint32_t i = 0; i < ndata; i++) {
    uint32_t seen;
    for (int t = 0; t < 1000 && gnt_end(ref0 + i, &seen) != 0; t++) yield();
  }
  kprintf("= ok blk-fuzz rounds=%u sent=%u ok=%u err=%u unsupp=%u other=%u stray=%u kicks=%u regrants=%u\n", round, sent,
          rsp_ok, rsp_err, rsp_unsupp, rsp_other, stray, kicks, regrants);
}
