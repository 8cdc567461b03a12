/*
 * The frontend's side of the XenbusState handshake and of granted pages, shared by
 * blkfront.c and netfront.c (Linux's xenbus_switch_state, xenbus_read_driver_state and
 * xenbus_grant_ring play these parts): read and wait for the other end's `state`, publish
 * ours, grant a fresh page to the backend, and end a grant and free its page.
 */
#include "pv.h"
#include "blkif.h"

#define POLL_NS 2000000ull

static int never(void *arg) { (void)arg; return 0; }

int32_t xenbus_read_state(const char *dir) {
  char p[128];
  uint32_t s;
  ksnprintf(p, sizeof p, "%s/state", dir);
  int32_t rc = xs_read_u32(p, &s);
  return rc ? rc : (int32_t)s;
}

int32_t xenbus_wait_state(const char *dir, int lo, int hi, uint64_t timeout_ns) {
  uint64_t end = time_ns() + timeout_ns;
  for (;;) {
    int32_t s = xenbus_read_state(dir);
    if (s >= lo && s <= hi) return s;
    if (s < 0 && s != -XEN_ENOENT) return s;
    if (s > hi) return s;  /* past it (closed on us): the caller sees which */
    if (time_ns() >= end) return s < 0 ? s : -XEN_ETIMEDOUT;
    kwait(never, 0, POLL_NS, 0);
  }
}

int32_t xenbus_switch_state(const char *dir, int s) {
  char p[64], val[4];
  ksnprintf(p, sizeof p, "%s/state", dir);
  ksnprintf(val, sizeof val, "%d", s);
  return xs_write(p, val);
}

int xenbus_grant_page(domid_t to, uint32_t *page, grant_ref_t *ref) {
  *page = page_alloc();
  if (!*page) return -1;
  int32_t r = gnttab_grant(to, gpa_to_gfn(*page), 0);
  if (r < 0) {
    page_free(*page);
    *page = 0;
    return -1;
  }
  *ref = (grant_ref_t)r;
  return 0;
}

/* The backend may still be letting go of the page (it unmaps when it sees our Closing):
 * try for up to a second, then keep the page for good. */
void xenbus_end_page(uint32_t page, grant_ref_t ref, const char *who) {
  if (!page) return;
  for (int i = 0; i < 500; i++) {
    if (gnttab_end(ref) == 0) {
      page_free(page);
      return;
    }
    kwait(never, 0, POLL_NS, 0);
  }
  kprintf("%s: grant %u still in use by the backend: page 0x%08x kept\n", who, ref, page);
}
