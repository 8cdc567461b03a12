/*
 * A hostile netfront (io/netif.h, io/ring.h): it sets up a real tx and rx ring for
 * Domain-0's netback and then fills them with what a broken or malicious frontend may
 * put there. The xenstore side of the handshake (tx-ring-ref, rx-ring-ref,
 * event-channel, request-rx-copy, feature-rx-notify, state) is written for it by the
 * test, which is not what is under attack here.
 *
 *   net-ring TXGFN RXGFN TXREF RXREF
 *     grant our pages TXGFN and RXGFN to Domain-0 as TXREF and RXREF, put an empty sring
 *     on each and allocate an unbound event channel for Domain-0: answers `rc port`.
 *   net-fuzz SEED OPS MS TXGFN RXGFN PORT DATA NDATA REF0 MACHI MACLO
 *     OPS rounds (or MS ms) of: 1..8 transmitted packets, each either plausible (one slot
 *     over one of our NDATA data pages at DATA, granted as REF0.., every fourth read-only,
 *     holding a frame from our MAC MACHI:MACLO to itself, which the bridge takes and drops
 *     as it would a frame for its own port) or wild: 0..24 slots chained with more_data,
 *     sizes from 0 to 65535, offsets past the page, grant refs we never made, made for
 *     another domain, or our ring pages, extra-info slots, a chain that never ends,
 *     random bytes; 0..16 receive requests with the same kinds of grant refs; req_prod
 *     values far ahead on either ring, rsp_event scribbled, grants ended and made again
 *     while requests may be in flight. Frames arriving from the bridge (other domains'
 *     broadcasts) land on those receive requests. Answers the counts of tx responses by
 *     status (ok, err, null, other) and of rx responses (rxok: a length, rxerr).
 */
#include "hostile.h"

#define EVTCHNOP_alloc_unbound 6
#define TX_RING 256u
#define RX_RING 256u
#define TX_SLOT 12u
#define RX_SLOT 8u
#define MAX_DATA 16u
#define NETTXF_more_data 4u
#define NETTXF_extra_info 8u

struct sring {
  volatile uint32_t req_prod, req_event, rsp_prod, rsp_event;
};

static uint32_t seed;
static uint32_t rnd(uint32_t n) {
  seed = seed * 1103515245u + 12345u;
  return (seed >> 8) % n;
}

static int32_t alloc_unbound(uint32_t *port) {
  struct { uint16_t dom, remote_dom; uint32_t port; } op = {DOMID_SELF, 0, 0};
  int32_t rc = hypercall(HC_event_channel_op, EVTCHNOP_alloc_unbound, (uint32_t)&op, 0);
  *port = op.port;
  return rc;
}

void cmd_net_ring(const uint32_t *a, int n) {
  if (n < 4) { kprintf("= error net-ring TXGFN RXGFN TXREF RXREF\n"); return; }
  int rc = 0;
  for (int i = 0; i < 2; i++) {
    memset((void *)(a[i] << 12), 0, PAGE_SIZE);
    struct sring *s = (struct sring *)(a[i] << 12);
    s->req_event = 1;
    s->rsp_event = 1;
    if (!rc) rc = gnt_grant(a[2 + i], 0, a[i], 0);
  }
  uint32_t port = 0;
  if (!rc) rc = alloc_unbound(&port);
  kprintf("= ok net-ring rc=%d port=%u\n", rc, port);
}

static uint32_t ndata, ref0, tx_ref, rx_ref;

/* A grant reference: mostly one of our data pages, else anything. */
static uint32_t pick_gref(void) {
  uint32_t r = rnd(16);
  if (r < 11) return ref0 + rnd(ndata);
  if (r == 11) return rnd(2) ? tx_ref : rx_ref;
  if (r == 12) return ref0 + ndata + rnd(4);  /* granted to another domain (see net-fuzz) */
  if (r == 13) return rnd(8);                 /* refs nobody granted */
  if (r == 14) return pv.gnttab_entries + rnd(4096);
  return seed;
}

static void put_tx(uint8_t *ring, uint32_t at, uint32_t gref, uint32_t off, uint32_t flags, uint32_t id, uint32_t size) {
  uint8_t *s = ring + (at % TX_RING) * TX_SLOT;
  *(uint32_t *)s = gref;
  *(uint16_t *)(s + 4) = (uint16_t)off;
  *(uint16_t *)(s + 6) = (uint16_t)flags;
  *(uint16_t *)(s + 8) = (uint16_t)id;
  *(uint16_t *)(s + 10) = (uint16_t)size;
}

/* Write one packet at tx slot `at`; returns its slots. */
static uint32_t put_packet(uint8_t *ring, uint32_t at, uint32_t left, uint32_t *id) {
  if (rnd(3) == 0 || left < 24) {   /* plausible: one slot, our own frame */
    uint32_t page = rnd(ndata);
    put_tx(ring, at, ref0 + page, 0, 0, (*id)++, 60 + rnd(1455));
    return 1;
  }
  if (rnd(8) == 0) {   /* a slot of random bytes */
    uint8_t *s = ring + (at % TX_RING) * TX_SLOT;
    for (uint32_t i = 0; i < TX_SLOT; i++) s[i] = (uint8_t)rnd(256);
    *(uint16_t *)(s + 6) &= (uint16_t)~NETTXF_more_data;
    return 1;
  }
  uint32_t slots = rnd(4) ? 1 + rnd(4) : 1 + rnd(24);
  uint32_t total = rnd(8) ? 14 + rnd(1500) : rnd(2) ? rnd(14) : rnd(65536);
  for (uint32_t k = 0; k < slots; k++) {
    uint32_t flags = k + 1 < slots ? NETTXF_more_data : 0;
    if (k == 0 && !rnd(8)) flags |= NETTXF_extra_info;
    if (k + 1 == slots && !rnd(12)) flags |= NETTXF_more_data;   /* never ends (or eats the next packet) */
    uint32_t off = rnd(8) ? rnd(64) : rnd(8192);
    uint32_t size = k == 0 ? total : rnd(8) ? rnd(total / slots + 1) : rnd(65536);
    put_tx(ring, at + k, pick_gref(), off, flags, (*id)++, size);
  }
  return slots;
}

void cmd_net_fuzz(const uint32_t *a, int n) {
  if (n < 11 || !pv.gnttab) { kprintf("= error net-fuzz SEED OPS MS TXGFN RXGFN PORT DATA NDATA REF0 MACHI MACLO\n"); return; }
  seed = a[0];
  uint32_t ops = a[1], txg = a[3], rxg = a[4], port = a[5], data = a[6];
  ndata = a[7] < MAX_DATA ? a[7] : MAX_DATA, ref0 = a[8];
  uint8_t mac[6] = {(uint8_t)(a[9] >> 8), (uint8_t)a[9], (uint8_t)(a[10] >> 24), (uint8_t)(a[10] >> 16), (uint8_t)(a[10] >> 8), (uint8_t)a[10]};
  uint64_t until = now_ticks() + (uint64_t)a[2] * 10000u;
  for (uint32_t i = 0; i < pv.gnttab_entries; i++) {
    if (pv.gnttab[2 * i + 1] == txg && (pv.gnttab[2 * i] & GTF_permit_access)) tx_ref = i;
    if (pv.gnttab[2 * i + 1] == rxg && (pv.gnttab[2 * i] & GTF_permit_access)) rx_ref = i;
  }
  /* Our data pages: a frame from our MAC to itself, then junk; granted to Domain-0 (every
   * fourth read-only), and four more refs granted to a domain that is not Domain-0. */
  for (uint32_t i = 0; i < ndata; i++) {
    uint8_t *p = (uint8_t *)((data + i) << 12);
    for (uint32_t k = 0; k < PAGE_SIZE; k++) p[k] = (uint8_t)rnd(256);
    memcpy(p, mac, 6);
    memcpy(p + 6, mac, 6);
    p[12] = 0x88, p[13] = 0xb5;   /* local experimental ethertype */
    gnt_grant(ref0 + i, 0, data + i, (i & 3) == 3);
  }
  for (uint32_t i = 0; i < 4; i++) gnt_grant(ref0 + ndata + i, 1 + rnd(40), data + i, 0);
  struct sring *tx = (struct sring *)(txg << 12), *rx = (struct sring *)(rxg << 12);
  uint8_t *txr = (uint8_t *)(txg << 12) + 64, *rxr = (uint8_t *)(rxg << 12) + 64;
  uint32_t tprod = tx->rsp_prod, tcons = tx->rsp_prod, rprod = rx->req_prod, rcons = rx->rsp_prod;
  uint32_t sent = 0, ok = 0, err = 0, null = 0, other = 0, rxok = 0, rxerr = 0, posted = 0, kicks = 0, regrants = 0, id = 0;
  uint32_t round = 0;
  for (; round < ops && now_ticks() < until; round++) {
    uint32_t k = 1 + rnd(8), used = 0;
    for (uint32_t j = 0; j < k && used < 64; j++) used += put_packet(txr, tprod + used, 64 - used, &id), sent++;
    uint32_t m = rnd(17);
    for (uint32_t j = 0; j < m; j++) {
      uint8_t *s = rxr + ((rprod + j) % RX_RING) * RX_SLOT;
      *(uint16_t *)s = (uint16_t)(rnd(8) ? id++ : rnd(65536));
      *(uint32_t *)(s + 4) = pick_gref();
    }
    __asm__ volatile("fence w,w" ::: "memory");
    uint32_t r = rnd(32);
    tx->req_prod = r == 0 ? seed : r == 1 ? tprod + TX_RING + 1 + rnd(64) : tprod + used;
    tprod += used;
    r = rnd(32);
    rx->req_prod = r == 0 ? seed : r == 1 ? rprod + RX_RING + 1 + rnd(64) : rprod + m;
    rprod += m;
    posted += m;
    if (rnd(8)) { evtchn_send(port); kicks++; }
    if (!rnd(16)) tx->rsp_event = seed;   /* the backend must not trust them */
    if (!rnd(16)) rx->rsp_event = seed;
    if (!rnd(32)) {   /* end a data grant and make it again, maybe read-only now */
      uint32_t i = rnd(ndata), seen;
      if (gnt_end(ref0 + i, &seen) == 0) gnt_grant(ref0 + i, 0, data + i, rnd(2)), regrants++;
    }
    if (rnd(4)) yield();
    uint32_t rp = tx->rsp_prod;
    __asm__ volatile("fence r,r" ::: "memory");
    for (uint32_t c = 0; tcons != rp && c < TX_RING; c++, tcons++) {
      int16_t st = *(int16_t *)(txr + (tcons % TX_RING) * TX_SLOT + 2);
      if (st == 0) ok++;
      else if (st == -1) err++;
      else if (st == 1) null++;
      else other++;
    }
    tcons = rp;
    rp = rx->rsp_prod;
    __asm__ volatile("fence r,r" ::: "memory");
    for (uint32_t c = 0; rcons != rp && c < RX_RING; c++, rcons++) {
      int16_t st = *(int16_t *)(rxr + (rcons % RX_RING) * RX_SLOT + 6);
      if (st > 0) rxok++;
      else rxerr++;
    }
    rcons = rp;
    /* After a wild req_prod the backend takes nothing from that batch: start again from its view. */
    tprod = tx->rsp_prod;
    if ((uint32_t)(rprod - rx->rsp_prod) > RX_RING) rprod = rx->rsp_prod;
    if (rnd(2)) tx->rsp_event = tcons + 1;
    if (rnd(2)) rx->rsp_event = rcons + 1;
  }
  for (uint32_t i = 0; i < ndata + 4; i++) {
    uint32_t seen;
    for (int t = 0; t < 1000 && gnt_end(ref0 + i, &seen) != 0; t++) yield();
  }
  kprintf("= ok net-fuzz rounds=%u sent=%u ok=%u err=%u null=%u other=%u rxok=%u rxerr=%u posted=%u kicks=%u regrants=%u\n", round,
          sent, ok, err, null, other, rxok, rxerr, posted, kicks, regrants);
}

/*
 *   net-storm MS PORT TXGFN DATA REF MACHI MACLO [PAUSE [DSTHI DSTLO]]
 *     a broadcast storm for MS ms: the plausible packet, to ff:ff:ff:ff:ff:ff (or to the
 *     unicast MAC DSTHI:DSTLO: a flood of one guest), as fast as the tx ring takes them
 *     (PAUSE: yields between batches). Answers `sent answered`.
 */
void cmd_net_storm(const uint32_t *a, int n) {
  if (n < 7) { kprintf("= error net-storm MS PORT TXGFN DATA REF MACHI MACLO [PAUSE [DSTHI DSTLO]]\n"); return; }
  uint32_t port = a[1], txg = a[2], data = a[3], ref = a[4], pause = n >= 8 ? a[7] : 0;
  uint8_t *p = (uint8_t *)(data << 12);
  memset(p, 0xff, 6);
  if (n >= 10) p[0] = (uint8_t)(a[8] >> 8), p[1] = (uint8_t)a[8], p[2] = (uint8_t)(a[9] >> 24), p[3] = (uint8_t)(a[9] >> 16), p[4] = (uint8_t)(a[9] >> 8), p[5] = (uint8_t)a[9];
  p[6] = (uint8_t)(a[5] >> 8), p[7] = (uint8_t)a[5], p[8] = (uint8_t)(a[6] >> 24), p[9] = (uint8_t)(a[6] >> 16), p[10] = (uint8_t)(a[6] >> 8),
  p[11] = (uint8_t)a[6];
  p[12] = 0x88, p[13] = 0xb5;
  memset(p + 14, 0x5a, 100);
  gnt_grant(ref, 0, data, 1);
  struct sring *tx = (struct sring *)(txg << 12);
  uint8_t *txr = (uint8_t *)(txg << 12) + 64;
  uint32_t prod = tx->req_prod, start = tx->rsp_prod, sent = 0;
  uint64_t until = now_ticks() + (uint64_t)a[0] * 10000u;
  while (now_ticks() < until) {
    uint32_t room = TX_RING - (prod - tx->rsp_prod);
    for (uint32_t k = 0; k < room && k < 32; k++, prod++, sent++) put_tx(txr, prod, ref, 0, 0, prod & 0xffff, 114);
    __asm__ volatile("fence w,w" ::: "memory");
    tx->req_prod = prod;
    evtchn_send(port);
    for (uint32_t t = 0; t <= pause; t++) yield();
  }
  kprintf("= ok net-storm sent=%u answered=%u\n", sent, tx->rsp_prod - start);
}
