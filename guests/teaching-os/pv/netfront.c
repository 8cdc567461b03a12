/*
 * netfront: the frontend of Xen's split network driver (io/netif.h), after Mini-OS's, for
 * the first interface the toolstack gave us (device/vif/<devid>/: backend, backend-id,
 * mac, mtu, state Initialising). As io/netif.h's handshake has it:
 *   1. wait for the backend (Domain-0's netback) to be InitWait;
 *   2. allocate and grant a tx and an rx ring page (SHARED_RING_INIT), an unbound event
 *      channel, NET_TX_BUFS transmit pages and NET_RX_BUFS receive pages; post every
 *      receive page on the rx ring (request-rx-copy: the backend copies each frame into one);
 *   3. in one xenstore transaction write tx-ring-ref, rx-ring-ref, event-channel,
 *      request-rx-copy = 1, feature-rx-notify = 1 and state = Connected (Linux's
 *      netfront skips Initialised too); wait for the backend to be Connected.
 * Transmit: one slot per frame (a frame fits a page), id = its buffer; the response frees
 * the buffer. Receive: each response is in its request's slot and names the buffer by id;
 * the frame goes to the kernel's stack (net_input), and the buffer is posted again. Both
 * rings notify only when the other side asked (req_event / rsp_event), which is the point
 * of feature-rx-notify: the backend asks to hear about new rx buffers only when it ran out.
 * A backend that goes Closing (xl network-detach) gets Closing/Closed from us.
 */
#include "pv.h"
#include "netif.h"
#include "../kernel/net.h"

#define NET_TX_BUFS 16
#define NET_RX_BUFS 32
#define WAIT_NS 5000000000ull

static struct {
  int used, state;
  char fe[40], be[96];
  domid_t be_id;
  uint8_t mac[6];
  struct netif_tx_sring *tx;
  struct netif_rx_sring *rx;
  grant_ref_t tx_ref, rx_ref;
  evtchn_port_t port;
  RING_IDX tx_prod, tx_cons, rx_prod, rx_cons;
  uint32_t tx_page[NET_TX_BUFS], rx_page[NET_RX_BUFS];
  grant_ref_t tx_gref[NET_TX_BUFS], rx_gref[NET_RX_BUFS];
  uint32_t tx_busy;   /* bit per tx buffer in flight */
  struct net_counters c;
} nf;

static volatile int rescan;
static void on_change(const char *path, const char *token) { (void)path, (void)token; rescan = 1; }
static void on_event(evtchn_port_t port, void *arg) { (void)port, (void)arg; nf.c.events++; }

static int32_t be_state(void) { return xenbus_read_state(nf.be); }
static int32_t wait_be_state(int lo, int hi) { return xenbus_wait_state(nf.be, lo, hi, WAIT_NS); }
static int32_t set_state(int s) {
  nf.state = s;
  return xenbus_switch_state(nf.fe, s);
}
static int grant_page(uint32_t *page, grant_ref_t *ref) { return xenbus_grant_page(nf.be_id, page, ref); }
static void drop_page(uint32_t page, grant_ref_t ref) { xenbus_end_page(page, ref, "net"); }

static void release(void) {
  if (nf.port) {
    evtchn_clear_handler(nf.port);
    evtchn_close(nf.port);
    nf.port = 0;
  }
  for (int i = 0; i < NET_TX_BUFS; i++) drop_page(nf.tx_page[i], nf.tx_gref[i]), nf.tx_page[i] = 0;
  for (int i = 0; i < NET_RX_BUFS; i++) drop_page(nf.rx_page[i], nf.rx_gref[i]), nf.rx_page[i] = 0;
  if (nf.tx) drop_page(gpa_of(nf.tx), nf.tx_ref);
  if (nf.rx) drop_page(gpa_of(nf.rx), nf.rx_ref);
  nf.tx = 0, nf.rx = 0, nf.tx_busy = 0;
}

static int fail(const char *what, int32_t rc) {
  kprintf("net: %s: %s (%s)\n", nf.fe, what, rc ? xen_strerror(rc) : "no");
  release();
  nf.used = 0;
  return -1;
}

static int parse_mac(const char *s, uint8_t mac[6]) {
  for (int i = 0; i < 6; i++) {
    uint32_t v = 0;
    for (int k = 0; k < 2; k++, s++) {
      char c = *s;
      uint32_t d = c >= '0' && c <= '9' ? (uint32_t)(c - '0') : c >= 'a' && c <= 'f' ? (uint32_t)(c - 'a' + 10) : c >= 'A' && c <= 'F' ? (uint32_t)(c - 'A' + 10) : 99;
      if (d > 15) return -1;
      v = v * 16 + d;
    }
    mac[i] = (uint8_t)v;
    if (i < 5 && *s++ != ':') return -1;
  }
  return *s ? -1 : 0;
}

/* Post rx buffer `id` in the next request slot (not yet published). */
static void post_rx(uint16_t id) {
  struct netif_rx_request *r = &nf.rx->ring[nf.rx_prod % NET_RX_RING_SIZE].req;
  r->id = id;
  r->gref = nf.rx_gref[id];
  nf.rx_prod++;
}

/* Publish req_prod and notify if the backend asked (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY). */
static void push(volatile RING_IDX *req_prod, volatile RING_IDX *req_event, RING_IDX now) {
  RING_IDX old = *req_prod;
  wmb();
  *req_prod = now;
  mb();
  if ((RING_IDX)(now - *req_event) < (RING_IDX)(now - old)) {
    evtchn_send(nf.port);
    nf.c.notifies++;
  }
}

static int connect(void) {
  char p[128], val[24];
  ksnprintf(p, sizeof p, "%s/backend", nf.fe);
  if (xs_read(p, nf.be, sizeof nf.be) <= 0) return fail("no backend path", -XEN_ENOENT);
  uint32_t id = 0;
  ksnprintf(p, sizeof p, "%s/backend-id", nf.fe);
  if (xs_read_u32(p, &id)) id = 0;
  nf.be_id = (domid_t)id;
  ksnprintf(p, sizeof p, "%s/mac", nf.fe);
  if (xs_read(p, val, sizeof val) <= 0 || parse_mac(val, nf.mac)) return fail("no usable mac", -XEN_EINVAL);
  int32_t s = wait_be_state(XenbusStateInitWait, XenbusStateConnected);
  if (s < XenbusStateInitWait || s > XenbusStateConnected) return fail("the backend is not waiting for us", s < 0 ? s : -XEN_EIO);
  uint32_t page;
  if (grant_page(&page, &nf.tx_ref)) return fail("no page or grant for the tx ring", -XEN_ENOMEM);
  nf.tx = (struct netif_tx_sring *)(uintptr_t)page;
  if (grant_page(&page, &nf.rx_ref)) return fail("no page or grant for the rx ring", -XEN_ENOMEM);
  nf.rx = (struct netif_rx_sring *)(uintptr_t)page;
  nf.tx->req_event = nf.tx->rsp_event = 1;  /* SHARED_RING_INIT (the pages are zeroed) */
  nf.rx->req_event = nf.rx->rsp_event = 1;
  nf.tx_prod = nf.tx_cons = nf.rx_prod = nf.rx_cons = 0;
  for (int i = 0; i < NET_TX_BUFS; i++)
    if (grant_page(&nf.tx_page[i], &nf.tx_gref[i])) return fail("no pages or grants for tx buffers", -XEN_ENOMEM);
  for (int i = 0; i < NET_RX_BUFS; i++) {
    if (grant_page(&nf.rx_page[i], &nf.rx_gref[i])) return fail("no pages or grants for rx buffers", -XEN_ENOMEM);
    post_rx((uint16_t)i);
  }
  nf.rx->req_prod = nf.rx_prod;  /* the backend reads it once connected */
  int32_t rc = evtchn_alloc_unbound(nf.be_id, &nf.port);
  if (rc) return fail("alloc_unbound", rc);
  evtchn_set_handler(nf.port, on_event, 0);
  static const char *const keys[] = {"tx-ring-ref", "rx-ring-ref", "event-channel", "request-rx-copy", "feature-rx-notify"};
  for (int tries = 0;; tries++) {
    rc = xs_transaction_start();
    if (rc < 0) return fail("transaction_start", rc);
    uint32_t vals[] = {nf.tx_ref, nf.rx_ref, nf.port, 1, 1};
    for (int k = 0; k < 5 && !rc; k++) {
      ksnprintf(p, sizeof p, "%s/%s", nf.fe, keys[k]);
      ksnprintf(val, sizeof val, "%u", vals[k]);
      rc = xs_write(p, val);
    }
    if (!rc) rc = set_state(XenbusStateConnected);
    if (rc) {
      xs_transaction_end(0);
      return fail("writing the rings' nodes", rc);
    }
    rc = xs_transaction_end(1);
    if (rc != -XEN_EAGAIN || tries == 9) break;
  }
  if (rc) return fail("transaction_end", rc);
  s = wait_be_state(XenbusStateConnected, XenbusStateConnected);
  if (s != XenbusStateConnected) {
    char err[96];
    ksnprintf(p, sizeof p, "%s/error", nf.be);
    if (xs_read(p, err, sizeof err) > 0) kprintf("net: the backend says: %s\n", err);
    set_state(XenbusStateClosed);
    return fail("the backend did not connect", s < 0 ? s : -XEN_EIO);
  }
  ksnprintf(p, sizeof p, "%s/state", nf.be);
  xs_watch(p, "tos-vif", on_change);
  return 0;
}

static void disconnect(const char *why) {
  char p[128];
  set_state(XenbusStateClosing);
  wait_be_state(XenbusStateClosing, XenbusStateClosed);
  release();
  set_state(XenbusStateClosed);
  ksnprintf(p, sizeof p, "%s/state", nf.be);
  xs_unwatch(p, "tos-vif");
  nf.used = 0;
  con_notice("net: eth0 (%s) detached: %s\n", nf.fe, why);
}

/* After a suspend that returned 0 (Linux's netfront_resume): close the rings, go back to
 * Initialising and connect again, then tell the segment where our address now is with a
 * gratuitous ARP (netfront's notify_peers after a migration). */
void netfront_resume(void) {
  if (!nf.used) return;
  char p[128];
  set_state(XenbusStateClosing);
  if (wait_be_state(XenbusStateClosing, XenbusStateClosed) < XenbusStateClosing) kprintf("net: %s: the backend did not close\n", nf.fe);
  release();
  set_state(XenbusStateClosed);
  if (wait_be_state(XenbusStateClosed, XenbusStateClosed) != XenbusStateClosed) kprintf("net: %s: the backend did not close\n", nf.fe);
  ksnprintf(p, sizeof p, "%s/state", nf.be);
  xs_unwatch(p, "tos-vif");
  set_state(XenbusStateInitialising);
  struct net_counters c = nf.c;
  if (connect()) return;
  nf.c = c;
  kprintf("control: net eth0 reconnected: tx-ring-ref %u, rx-ring-ref %u, event channel %u\n", nf.tx_ref, nf.rx_ref, nf.port);
  net_announce();
}

void netfront_init(void) {
  if (!xs_available()) return;
  int32_t rc = xs_watch("device/vif", "tos-vif", on_change);  /* fires once now: the first scan */
  if (rc) kprintf("pv: cannot watch device/vif (%s)\n", xen_strerror(rc));
  rescan = 1;
  netfront_work();
}

int netfront_has_work(void) {
  return rescan || (nf.used && nf.rx && READ_ONCE(nf.rx->rsp_prod) != nf.rx_cons);
}

void netfront_work(void) {
  if (rescan) {
    rescan = 0;
    if (nf.used) {
      int32_t s = be_state();
      if (s < 0) disconnect("its backend is gone");
      else if (s >= XenbusStateClosing) disconnect("the backend is closing");
    }
    if (!nf.used) {
      static char names[256];
      int32_t n = xs_directory("device/vif", names, sizeof names);
      for (int32_t i = 0; i < n && !nf.used; i += (int32_t)strlen(names + i) + 1) {
        uint32_t devid, st;
        char p[64];
        if (parse_u32(names + i, &devid)) continue;
        ksnprintf(p, sizeof p, "device/vif/%u/state", devid);
        if (xs_read_u32(p, &st) || st != XenbusStateInitialising) continue;
        memset(&nf, 0, sizeof nf);
        nf.used = 1;
        ksnprintf(nf.fe, sizeof nf.fe, "device/vif/%u", devid);
        if (connect() == 0)
          con_notice("net: eth0 (vif %u): mac %02x:%02x:%02x:%02x:%02x:%02x, connected to domain %u\n", devid, nf.mac[0], nf.mac[1],
                     nf.mac[2], nf.mac[3], nf.mac[4], nf.mac[5], nf.be_id);
      }
    }
  }
  netdev_poll();
}

/* ---- the kernel's interface (kernel/net.h) ---- */

int netdev_mac(uint8_t mac[6]) {
  if (!nf.used || !nf.tx) return PLAT_ENOTSUP;
  memcpy(mac, nf.mac, 6);
  return 0;
}

void netdev_counters(struct net_counters *c) { *c = nf.c; }

/* Take tx responses: each frees its buffer. */
static void reap_tx(void) {
  for (;;) {
    RING_IDX prod = READ_ONCE(nf.tx->rsp_prod);
    rmb();
    for (; nf.tx_cons != prod; nf.tx_cons++) {
      struct netif_tx_response *r = &nf.tx->ring[nf.tx_cons % NET_TX_RING_SIZE].rsp;
      if (r->id < NET_TX_BUFS) nf.tx_busy &= ~(1u << r->id);
      if (r->status != NETIF_RSP_OKAY) nf.c.tx_errors++;
    }
    nf.tx->rsp_event = nf.tx_cons + 1;  /* RING_FINAL_CHECK_FOR_RESPONSES */
    mb();
    if (READ_ONCE(nf.tx->rsp_prod) == nf.tx_cons) return;
  }
}

int netdev_send(const void *frame, uint32_t len) {
  if (!nf.used || !nf.tx || len < 14 || len > PAGE_SIZE) return -1;
  reap_tx();
  int b = 0;
  while (b < NET_TX_BUFS && (nf.tx_busy & (1u << b))) b++;
  if (b == NET_TX_BUFS) return -1;
  memcpy((void *)(uintptr_t)nf.tx_page[b], frame, len);
  struct netif_tx_request *r = &nf.tx->ring[nf.tx_prod % NET_TX_RING_SIZE].req;
  r->gref = nf.tx_gref[b];
  r->offset = 0;
  r->flags = 0;
  r->id = (uint16_t)b;
  r->size = (uint16_t)len;
  nf.tx_busy |= 1u << b;
  nf.tx_prod++;
  push(&nf.tx->req_prod, &nf.tx->req_event, nf.tx_prod);
  nf.c.tx_packets++;
  nf.c.tx_bytes += len;
  return 0;
}

void netdev_poll(void) {
  if (!nf.used || !nf.rx) return;
  int posted = 0;
  for (;;) {
    RING_IDX prod = READ_ONCE(nf.rx->rsp_prod);
    rmb();
    for (; nf.rx_cons != prod; nf.rx_cons++) {
      struct netif_rx_response *r = &nf.rx->ring[nf.rx_cons % NET_RX_RING_SIZE].rsp;
      uint16_t id = r->id;
      int16_t st = r->status;
      uint16_t off = r->offset;
      if (id >= NET_RX_BUFS) {  /* not one of ours: a broken backend; the slot is lost */
        nf.c.rx_errors++;
        continue;
      }
      if (st > 0 && off + (uint32_t)st <= PAGE_SIZE) {
        nf.c.rx_packets++;
        nf.c.rx_bytes += (uint32_t)st;
        net_input((const uint8_t *)(uintptr_t)nf.rx_page[id] + off, (uint32_t)st);
      } else
        nf.c.rx_errors++;
      if (!nf.rx) return;  /* detached meanwhile */
      post_rx(id);
      posted = 1;
    }
    nf.rx->rsp_event = nf.rx_cons + 1;
    mb();
    if (READ_ONCE(nf.rx->rsp_prod) == nf.rx_cons) break;
  }
  if (posted) push(&nf.rx->req_prod, &nf.rx->req_event, nf.rx_prod);
}
