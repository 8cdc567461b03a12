/*
 * The shell's pv-only commands: an event-channel ping-pong between two domains, a page
 * shared through a grant, and the balloon's state.
 *
 * Meeting point: xenstore. The side that offers something (ping: an unbound port;
 * share: a grant ref) writes it under its own home, at data/tos-ping/<PEER> or
 * data/tos-share/<PEER>, and lets PEER read that node (permissions "n<self>", "r<PEER>":
 * owner self, nobody else but PEER). The other side reads
 * /local/domain/<OFFERER>/data/tos-.../<self>.
 */
#include "pv.h"

#define SECOND 1000000000ull

static int need_domid(const char *cmd) {
  if (pv_domid >= 0) return 0;
  kprintf("%s: our domain id is unknown (no xenstore)\n", cmd);
  return -1;
}

/* Write `value` at our data/<dir>/<peer>, readable by peer. */
static int32_t publish(const char *dir, uint32_t peer, const char *value) {
  char path[64], owner[16], reader[16];
  ksnprintf(path, sizeof path, "data/%s/%u", dir, peer);
  ksnprintf(owner, sizeof owner, "n%d", pv_domid);
  ksnprintf(reader, sizeof reader, "r%u", peer);
  const char *perms[] = {owner, reader};
  int32_t rc = xs_write(path, value);
  if (!rc) rc = xs_set_perms(path, perms, 2);
  return rc;
}

static int32_t lookup(const char *dir, uint32_t offerer, uint32_t *value) {
  char path[80];
  ksnprintf(path, sizeof path, "/local/domain/%u/data/%s/%d", offerer, dir, pv_domid);
  return xs_read_u32(path, value);
}

static void unpublish(const char *dir, uint32_t peer) {
  char path[64];
  ksnprintf(path, sizeof path, "data/%s/%u", dir, peer);
  xs_rm(path);
}

/* ---- ping ---- */

static volatile uint32_t ping_events;

static void ping_event(evtchn_port_t port, void *arg) {
  (void)port, (void)arg;
  ping_events = ping_events + 1;
}

static int events_reached(void *arg) { return ping_events >= *(uint32_t *)arg; }

int plat_ping(uint32_t peer, uint32_t count) {
  if (need_domid("ping")) return -1;
  evtchn_port_t port;
  uint32_t s = plat_irq_disable();
  int32_t rc = evtchn_alloc_unbound((domid_t)peer, &port);
  if (!rc) {
    ping_events = 0;
    evtchn_set_handler(port, ping_event, 0);
  }
  plat_irq_restore(s);
  if (rc) {
    kprintf("ping: EVTCHNOP_alloc_unbound for domain %u failed (%s)\n", peer, xen_strerror(rc));
    return -1;
  }
  char val[16];
  ksnprintf(val, sizeof val, "%u", port);
  if ((rc = publish("tos-ping", peer, val))) {
    kprintf("ping: cannot publish the port in xenstore (%s)\n", xen_strerror(rc));
    evtchn_close(port);
    return -1;
  }
  kprintf("ping: port %u offered to domain %u at data/tos-ping/%u; run pong there (Ctrl-C stops)\n", port, peer, peer);
  con_flush();

  /* Wait for pong's hello (its first event); re-write the node every second so that a
   * pong watching /local/domain sees it whenever it starts. */
  uint32_t one = 1;
  int w;
  while ((w = kwait(events_reached, &one, SECOND, 1)) == WAIT_TIMEOUT) publish("tos-ping", peer, val);
  uint32_t done = 0;
  uint64_t t0 = time_ns(), t1 = t0;
  if (w == 0) {
    kprintf("ping: domain %u answered; %u round trips\n", peer, count);
    con_flush();
    t0 = time_ns();
    for (; done < count; done++) {
      uint32_t want = ping_events + 1;
      evtchn_send(port);
      if ((w = kwait(events_reached, &want, SECOND, 1)) != 0) break;
    }
    t1 = time_ns();
  }
  evtchn_close(port);
  unpublish("tos-ping", peer);
  if (w == WAIT_BREAK) kprintf("ping: stopped after %u round trips\n", done);
  else if (w == WAIT_TIMEOUT) kprintf("ping: no answer from domain %u after %u round trips\n", peer, done);
  else kprintf("ping: %u round trips with domain %u\n", done, peer);
  if (done) {
    char secs[32];
    fmt_seconds(secs, sizeof secs, t1 - t0, 6);
    kprintf("timing: ping %u round trips in %s s, %llu ns per round trip\n", done, secs, (t1 - t0) / done);
  }
  return w ? -1 : 0;
}

/* ---- pong ---- */

static volatile uint32_t pong_count;
static volatile int32_t pong_hint = -1;

static void pong_event(evtchn_port_t port, void *arg) {
  (void)arg;
  pong_count = pong_count + 1;
  evtchn_send(port);  /* the reply, straight from the upcall */
}

/* A watch event for /local/domain/<D>/data/tos-ping/<self>: D pings us. */
static void pong_watch(const char *path, const char *token) {
  (void)token;
  const char *prefix = "/local/domain/";
  if (strncmp(path, prefix, strlen(prefix))) return;
  const char *p = path + strlen(prefix);
  uint32_t d = 0;
  for (; *p >= '0' && *p <= '9'; p++) d = d * 10 + (uint32_t)(*p - '0');
  char tail[32];
  ksnprintf(tail, sizeof tail, "/data/tos-ping/%d", pv_domid);
  if (!strcmp(p, tail)) pong_hint = (int32_t)d;
}

static int pong_wake(void *arg) {
  (void)arg;
  return pong_hint >= 0 || xs_has_work();
}

static int never(void *arg) {
  (void)arg;
  return 0;
}

static int32_t pong_bind(uint32_t peer, evtchn_port_t *local) {
  uint32_t remote;
  int32_t rc = lookup("tos-ping", peer, &remote);
  if (rc) return rc;
  uint32_t s = plat_irq_disable();
  rc = evtchn_bind_interdomain((domid_t)peer, remote, local);
  if (!rc) {
    pong_count = 0;
    evtchn_set_handler(*local, pong_event, 0);
  }
  plat_irq_restore(s);
  return rc;
}

int plat_pong(int32_t want) {
  if (need_domid("pong")) return -1;
  /* Find the pinger: with a domid, try its node every second; without, watch
   * /local/domain: pinging domains rewrite their node every second, and the event
   * reaches us because the node is readable by us. */
  char watch_path[80];
  if (want >= 0) ksnprintf(watch_path, sizeof watch_path, "/local/domain/%d/data/tos-ping/%d", want, pv_domid);
  else strlcpy(watch_path, "/local/domain", sizeof watch_path);
  pong_hint = -1;
  int32_t rc = xs_watch(watch_path, "tos-pong", pong_watch);
  if (rc) kprintf("pong: cannot watch %s (%s)\n", watch_path, xen_strerror(rc));
  if (want >= 0) kprintf("pong: waiting for a ping from domain %d (Ctrl-C stops)\n", want);
  else kprintf("pong: waiting for a ping from any domain (Ctrl-C stops)\n");
  con_flush();

  evtchn_port_t local = 0;
  int32_t peer = -1;
  for (;;) {
    int32_t d = want >= 0 ? want : pong_hint;
    pong_hint = -1;
    if (d >= 0 && pong_bind((uint32_t)d, &local) == 0) {
      peer = d;
      break;
    }
    if (kwait(pong_wake, 0, SECOND, 1) == WAIT_BREAK) break;
    xs_poll();
  }
  xs_unwatch(watch_path, "tos-pong");
  if (peer < 0) {
    kprintf("pong: stopped\n");
    return -1;
  }
  kprintf("pong: bound port %u to domain %d; answering (Ctrl-C stops)\n", local, peer);
  con_flush();
  evtchn_send(local);  /* hello */
  /* Answer from the upcall until Ctrl-C, or until the pinger closes its end (which
   * leaves our port unbound): look once a second. */
  while (kwait(never, 0, SECOND, 1) != WAIT_BREAK) {
    struct evtchn_status st;
    if (evtchn_status(local, &st) || st.status != EVTCHNSTAT_interdomain) break;
  }
  evtchn_close(local);
  kprintf("pong: answered %u pings from domain %d\n", pong_count, peer);
  return 0;
}

/* ---- share / peek ---- */

#define MAX_SHARES 8
static struct { int32_t dom; grant_ref_t ref; uint32_t page; } shares[MAX_SHARES];

int plat_share(uint32_t peer, const char *text) {
  if (need_domid("share")) return -1;
  int slot = -1;
  for (int i = 0; i < MAX_SHARES; i++)
    if (shares[i].page && shares[i].dom == (int32_t)peer) slot = i;
  if (slot >= 0) {  /* replace the page shared with peer before */
    if (gnttab_end(shares[slot].ref)) {
      kprintf("share: domain %u still has our page (ref %u) mapped; try again later\n", peer, shares[slot].ref);
      return -1;
    }
    page_free(shares[slot].page);
    shares[slot].page = 0;
  } else {
    for (int i = 0; i < MAX_SHARES && slot < 0; i++)
      if (!shares[i].page) slot = i;
    if (slot < 0) {
      kprintf("share: %d pages shared already\n", MAX_SHARES);
      return -1;
    }
  }
  uint32_t page = page_alloc();
  if (!page) {
    kprintf("share: out of memory\n");
    return -1;
  }
  ksnprintf((char *)(uintptr_t)page, PAGE_SIZE, "from domain %d%s%s%s: %s", pv_domid, pv_name[0] ? " (" : "",
            pv_name, pv_name[0] ? ")" : "", text[0] ? text : "hello through a grant");
  int32_t ref = gnttab_grant((domid_t)peer, gpa_to_gfn(page), 1);
  if (ref < 0) {
    kprintf("share: no grant entry (%s)\n", xen_strerror(ref));
    page_free(page);
    return -1;
  }
  char val[16];
  ksnprintf(val, sizeof val, "%d", ref);
  int32_t rc = publish("tos-share", peer, val);
  if (rc) {
    kprintf("share: cannot publish the ref in xenstore (%s)\n", xen_strerror(rc));
    gnttab_end((grant_ref_t)ref);
    page_free(page);
    return -1;
  }
  shares[slot].dom = (int32_t)peer;
  shares[slot].ref = (grant_ref_t)ref;
  shares[slot].page = page;
  kprintf("share: page 0x%08x (gfn 0x%x) granted read-only to domain %u as ref %d (data/tos-share/%u)\n", page,
          gpa_to_gfn(page), peer, ref, peer);
  return 0;
}

int plat_peek(uint32_t peer) {
  if (need_domid("peek")) return -1;
  uint32_t ref;
  int32_t rc = lookup("tos-share", peer, &ref);
  if (rc) {
    kprintf("peek: domain %u shares no page with us (/local/domain/%u/data/tos-share/%d: %s)\n", peer, peer,
            pv_domid, xen_strerror(rc));
    return -1;
  }
  /* Map into the grant window just above maxmem (never populated), or else into a
   * page we first give back to the hypervisor. */
  uint32_t gpa = RAM_BASE + pv_max_pages * PAGE_SIZE, hole = 0;
  int have_hole = 0;
  grant_handle_t handle = 0;
  int16_t st;
  rc = gnttab_map((domid_t)peer, ref, gpa, 1, &handle, &st);
  if (!rc && st == GNTST_bad_virt_addr && balloon_take_hole(&hole) == 0) {
    have_hole = 1;
    gpa = RAM_BASE + hole * PAGE_SIZE;
    rc = gnttab_map((domid_t)peer, ref, gpa, 1, &handle, &st);
  }
  if (rc || st != GNTST_okay) {
    if (rc) kprintf("peek: GNTTABOP_map_grant_ref failed (%s)\n", xen_strerror(rc));
    else kprintf("peek: cannot map ref %u of domain %u (%s)\n", ref, peer, gntst_name(st));
    if (have_hole) balloon_fill_hole(hole);
    return -1;
  }
  char text[200];
  const volatile char *src = (const volatile char *)(uintptr_t)gpa;
  size_t n = 0;
  for (; n < sizeof text - 1 && src[n]; n++) text[n] = src[n] >= 0x20 && src[n] < 0x7f ? src[n] : '.';
  text[n] = 0;
  kprintf("peek: ref %u of domain %u mapped read-only at 0x%08x\n", ref, peer, gpa);
  kprintf("peek: \"%s\"\n", text);
  rc = gnttab_unmap(gpa, handle, &st);
  if (rc || st != GNTST_okay) kprintf("peek: unmap failed (%s, %s)\n", xen_strerror(rc), gntst_name(st));
  if (have_hole) balloon_fill_hole(hole);
  return 0;
}

int plat_balloon(void) {
  balloon_print();
  return 0;
}
