/*
 * blkfront: the frontend of Xen's split block driver (io/blkif.h), after Mini-OS's.
 *
 * The toolstack describes each disk in xenstore: device/vbd/<devid>/ in our home (with
 * `backend`, `backend-id`, state Initialising) and the backend's area, where Domain-0's
 * blkback publishes the disk (sectors, sector-size, info, feature-flush-cache) and goes
 * InitWait. We then, as io/blkif.h's state diagram has it:
 *   1. allocate a ring page (SHARED_RING_INIT), grant it to the backend, allocate an
 *      unbound event channel for it, and grant BLK_SLOTS x 11 data pages once (the
 *      backend copies through them: GNTTABOP_copy in Domain-0);
 *   2. in one xenstore transaction write ring-ref, event-channel, protocol and state =
 *      Initialised (again if the transaction conflicts);
 *   3. wait for the backend to be Connected, read the disk's size, and go Connected.
 * Detach: the backend goes Closing; we go Closing, wait for the backend to let go of the
 * ring, end the grants, close the channel and go Closed. The toolstack then removes both
 * areas. A watch on device/vbd (and on each backend's state) wakes blkfront_work() from
 * the shell loop; nothing here runs in an interrupt except counting events.
 *
 * Requests: up to BLK_SLOTS in flight, one slot of 11 pages each, request id = slot.
 * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY notifies only when the backend asked (req_event);
 * responses are taken with RING_FINAL_CHECK_FOR_RESPONSES (rsp_event = rsp_cons + 1).
 */
#include "blkfront.h"
#include "blkdev.h"

#define WAIT_NS 5000000000ull

struct vbd vbds[MAX_VBDS];
static volatile int rescan;
static char names[512];

static void on_change(const char *path, const char *token) { (void)path, (void)token; rescan = 1; }
static void on_event(evtchn_port_t port, void *arg) { (void)port; ((struct vbd *)arg)->events++; }

const char *xenbus_state_name(int s) {
  static const char *const n[] = {"Unknown", "Initialising", "InitWait", "Initialised", "Connected",
                                  "Closing", "Closed", "Reconfiguring", "Reconfigured"};
  return s >= 0 && s <= 8 ? n[s] : "?";
}

/* xen-vbd-interface(7): the name of a device id (xvda = 51712). */
static void vdev_name(uint32_t devid, char *out, size_t n) {
  const char *pre;
  uint32_t disk, part;
  if (devid & (1u << 28)) pre = "xvd", disk = (devid >> 8) & 0xfffff, part = devid & 0xff;
  else if ((devid >> 8) == 202) pre = "xvd", disk = (devid >> 4) & 15, part = devid & 15;
  else if ((devid >> 8) == 8) pre = "sd", disk = (devid >> 4) & 15, part = devid & 15;
  else if ((devid >> 8) == 3 || (devid >> 8) == 22) pre = "hd", disk = ((devid >> 8) == 22 ? 2 : 0) + ((devid >> 6) & 1), part = devid & 63;
  else {
    ksnprintf(out, n, "%u", devid);
    return;
  }
  char letters[8];
  int k = 0;
  for (uint32_t d = disk + 1; d && k < 7; d = (d - 1) / 26) letters[k++] = (char)('a' + (d - 1) % 26);
  char name[8];
  for (int i = 0; i < k; i++) name[i] = letters[k - 1 - i];
  name[k] = 0;
  if (part) ksnprintf(out, n, "%s%s%u", pre, name, part);
  else ksnprintf(out, n, "%s%s", pre, name);
}

/* The backend's state (>= 0) or -errno (-ENOENT once its area is gone). */
static int32_t be_state(struct vbd *v) { return xenbus_read_state(v->be); }
/* Poll the backend's state until it is within [lo, hi]; returns it, or -errno/-ETIMEDOUT. */
static int32_t wait_be_state(struct vbd *v, int lo, int hi, uint64_t timeout) { return xenbus_wait_state(v->be, lo, hi, timeout); }
static int32_t set_state(struct vbd *v, int s) {
  v->state = s;
  return xenbus_switch_state(v->fe, s);
}

static int32_t read_be_u32(struct vbd *v, const char *name, uint32_t *out) {
  char p[128];
  ksnprintf(p, sizeof p, "%s/%s", v->be, name);
  return xs_read_u32(p, out);
}

static void drop_page(uint32_t page, grant_ref_t ref) { xenbus_end_page(page, ref, "disk"); }

static void release(struct vbd *v) {
  if (v->port) {
    evtchn_clear_handler(v->port);
    evtchn_close(v->port);
    v->port = 0;
  }
  for (int s = 0; s < BLK_SLOTS; s++)
    for (int g = 0; g < BLKIF_MAX_SEGMENTS_PER_REQUEST; g++) {
      drop_page(v->pages[s][g], v->refs[s][g]);
      v->pages[s][g] = 0;
    }
  if (v->ring) drop_page(gpa_of(v->ring), v->ring_ref);
  v->ring = 0;
  v->busy = 0;
}

static int grant_page(struct vbd *v, uint32_t *page, grant_ref_t *ref) { return xenbus_grant_page(v->be_id, page, ref); }

static int fail(struct vbd *v, const char *what, int32_t rc) {
  kprintf("disk: %s: %s (%s)\n", v->vdev, what, rc ? xen_strerror(rc) : "no");
  release(v);
  v->used = 0;
  return -1;
}

static int connect(struct vbd *v) {
  char p[128], val[24];
  ksnprintf(p, sizeof p, "%s/backend", v->fe);
  if (xs_read(p, v->be, sizeof v->be) <= 0) return fail(v, "no backend path", -XEN_ENOENT);
  uint32_t id = 0;
  ksnprintf(p, sizeof p, "%s/backend-id", v->fe);
  if (xs_read_u32(p, &id)) id = 0;
  v->be_id = (domid_t)id;
  int32_t s = wait_be_state(v, XenbusStateInitWait, XenbusStateConnected, WAIT_NS);
  if (s < XenbusStateInitWait || s > XenbusStateConnected) return fail(v, "the backend is not waiting for us", s < 0 ? s : -XEN_EIO);

  /* The ring, its channel and the data pages. */
  uint32_t ring;
  if (grant_page(v, &ring, &v->ring_ref)) return fail(v, "no page or grant for the ring", -XEN_ENOMEM);
  v->ring = (struct blkif_sring *)(uintptr_t)ring;
  v->ring->req_event = 1;  /* SHARED_RING_INIT (the page is zeroed) */
  v->ring->rsp_event = 1;
  v->req_prod_pvt = v->rsp_cons = 0;
  for (int i = 0; i < BLK_SLOTS; i++)
    for (int g = 0; g < BLKIF_MAX_SEGMENTS_PER_REQUEST; g++)
      if (grant_page(v, &v->pages[i][g], &v->refs[i][g])) return fail(v, "no pages or grants for the data", -XEN_ENOMEM);
  int32_t rc = evtchn_alloc_unbound(v->be_id, &v->port);
  if (rc) return fail(v, "alloc_unbound", rc);
  evtchn_set_handler(v->port, on_event, v);

  /* ring-ref, event-channel, protocol and Initialised, in one transaction. */
  for (int tries = 0;; tries++) {
    rc = xs_transaction_start();
    if (rc < 0) return fail(v, "transaction_start", rc);
    ksnprintf(p, sizeof p, "%s/ring-ref", v->fe);
    ksnprintf(val, sizeof val, "%u", v->ring_ref);
    rc = xs_write(p, val);
    ksnprintf(p, sizeof p, "%s/event-channel", v->fe);
    ksnprintf(val, sizeof val, "%u", v->port);
    if (!rc) rc = xs_write(p, val);
    ksnprintf(p, sizeof p, "%s/protocol", v->fe);
    if (!rc) rc = xs_write(p, XEN_IO_PROTO_ABI_NATIVE);
    if (!rc) rc = set_state(v, XenbusStateInitialised);
    if (rc) {
      xs_transaction_end(0);
      return fail(v, "writing the ring's nodes", rc);
    }
    rc = xs_transaction_end(1);
    if (rc != -XEN_EAGAIN || tries == 9) break;
  }
  if (rc) return fail(v, "transaction_end", rc);

  s = wait_be_state(v, XenbusStateConnected, XenbusStateConnected, WAIT_NS);
  if (s != XenbusStateConnected) {
    char err[96];
    ksnprintf(p, sizeof p, "%s/error", v->be);
    if (xs_read(p, err, sizeof err) > 0) kprintf("disk: %s: the backend says: %s\n", v->vdev, err);
    set_state(v, XenbusStateClosed);
    return fail(v, "the backend did not connect", s < 0 ? s : -XEN_EIO);
  }
  uint32_t sectors = 0, ssize = 512, info = 0, flush = 0;
  read_be_u32(v, "sectors", &sectors);
  read_be_u32(v, "sector-size", &ssize);
  read_be_u32(v, "info", &info);
  read_be_u32(v, "feature-flush-cache", &flush);
  if (!blkdev_ssize_ok(ssize)) {
    kprintf("disk: %s: the backend's sector-size %u is not a power of two from 512 to 4096: taken as 512\n", v->vdev, ssize);
    ssize = 512;
  }
  v->sectors = sectors, v->sector_size = ssize, v->info = info, v->flush = flush != 0;
  rc = set_state(v, XenbusStateConnected);
  if (rc) return fail(v, "writing state", rc);
  ksnprintf(p, sizeof p, "%s/state", v->be);
  xs_watch(p, "tos-vbd", on_change);
  return 0;
}

static void disconnect(struct vbd *v, const char *why) {
  char p[128];
  set_state(v, XenbusStateClosing);
  wait_be_state(v, XenbusStateClosing, XenbusStateClosed, WAIT_NS);  /* it has let go of the ring */
  release(v);
  set_state(v, XenbusStateClosed);
  ksnprintf(p, sizeof p, "%s/state", v->be);
  xs_unwatch(p, "tos-vbd");
  v->used = 0;
  con_notice("disk: %s (%u) detached: %s\n", v->vdev, v->devid, why);
}

/* Close the ring and open a new one with the same backend (what a restored guest does):
 * Closing, Closed, Initialising, then the connect steps again. */
int blkfront_reconnect(struct vbd *v) {
  char p[128];
  set_state(v, XenbusStateClosing);
  if (wait_be_state(v, XenbusStateClosing, XenbusStateClosed, WAIT_NS) < XenbusStateClosing) return fail(v, "the backend did not close", -XEN_ETIMEDOUT);
  release(v);
  set_state(v, XenbusStateClosed);
  if (wait_be_state(v, XenbusStateClosed, XenbusStateClosed, WAIT_NS) != XenbusStateClosed) return fail(v, "the backend did not close", -XEN_ETIMEDOUT);
  ksnprintf(p, sizeof p, "%s/state", v->be);
  xs_unwatch(p, "tos-vbd");
  set_state(v, XenbusStateInitialising);
  v->requests = v->notifies = v->events = v->errors = 0;
  return connect(v);
}

/* After a suspend that returned 0 (Linux's blkfront_resume and blkif_recover): each disk
 * gets a new ring with its backend through the `disk reconnect` steps. Requests in flight
 * would be queued again on it; the teaching OS suspends only from its shell loop, where
 * blk_run has none left (it waits for every answer), so there are none to carry. */
void blkfront_resume(void) {
  for (int i = 0; i < MAX_VBDS; i++) {
    struct vbd *v = &vbds[i];
    if (!v->used || v->state != XenbusStateConnected) continue;
    grant_ref_t old = v->ring_ref;
    uint32_t inflight = 0;
    for (uint32_t b = v->busy; b; b &= b - 1) inflight++;
    if (blkfront_reconnect(v) == 0)
      kprintf("control: disk %s reconnected: ring-ref %u (was %u), event channel %u, %u request%s in flight to re-issue\n", v->vdev,
              v->ring_ref, old, v->port, inflight, inflight == 1 ? "" : "s");
  }
  rescan = 1;  /* disks the new host added or removed meanwhile */
}

static struct vbd *find(uint32_t devid) {
  for (int i = 0; i < MAX_VBDS; i++)
    if (vbds[i].used && vbds[i].devid == devid) return &vbds[i];
  return 0;
}

void blkfront_init(void) {
  if (!xs_available()) return;
  int32_t rc = xs_watch("device/vbd", "tos-vbd", on_change);  /* fires once now: the first scan */
  if (rc) kprintf("pv: cannot watch device/vbd (%s)\n", xen_strerror(rc));
  blkfront_work();
}

int blkfront_has_work(void) { return rescan; }

void blkfront_work(void) {
  rescan = 0;
  for (int i = 0; i < MAX_VBDS; i++) {
    struct vbd *v = &vbds[i];
    if (!v->used) continue;
    int32_t s = be_state(v);
    if (s < 0) disconnect(v, "its backend is gone");
    else if (s >= XenbusStateClosing) disconnect(v, "the backend is closing");
  }
  int32_t n = xs_directory("device/vbd", names, sizeof names);
  for (int32_t i = 0; i < n; i += (int32_t)strlen(names + i) + 1) {
    uint32_t devid, st;
    char p[64];
    if (parse_u32(names + i, &devid) || find(devid)) continue;
    ksnprintf(p, sizeof p, "device/vbd/%u/state", devid);
    if (xs_read_u32(p, &st) || st != XenbusStateInitialising) continue;  /* closed, or not ready yet */
    struct vbd *v = 0;
    for (int k = 0; k < MAX_VBDS && !v; k++)
      if (!vbds[k].used) v = &vbds[k];
    if (!v) {
      kprintf("disk: no room for device %u (at most %d disks)\n", devid, MAX_VBDS);
      break;
    }
    memset(v, 0, sizeof *v);
    v->used = 1;
    v->devid = devid;
    vdev_name(devid, v->vdev, sizeof v->vdev);
    ksnprintf(v->fe, sizeof v->fe, "device/vbd/%u", devid);
    if (connect(v) == 0)
      con_notice("disk: %s (%u): %llu sectors of 512 bytes (%llu KiB), sector-size %u, %s%s, connected to domain %u\n", v->vdev, devid,
                 (unsigned long long)v->sectors, (unsigned long long)v->sectors / 2, v->sector_size,
                 v->info & VDISK_READONLY ? "read-only" : "read-write", v->flush ? ", flush" : "", v->be_id);
  }
}

/* ---- requests ---- */

static void push_requests(struct vbd *v) {
  RING_IDX old = v->ring->req_prod, now = v->req_prod_pvt;
  wmb();  /* the requests before the index */
  WRITE_ONCE(v->ring->req_prod, now);
  mb();   /* the index before reading req_event */
  if ((RING_IDX)(now - READ_ONCE(v->ring->req_event)) < (RING_IDX)(now - old)) {
    evtchn_send(v->port);
    v->notifies++;
  }
}

static int rsp_ready(void *arg) {
  struct vbd *v = arg;
  return READ_ONCE(v->ring->rsp_prod) != v->rsp_cons;
}

static const char *op_name(uint8_t op) {
  return op == BLKIF_OP_READ ? "read" : op == BLKIF_OP_WRITE ? "write" : op == BLKIF_OP_FLUSH_DISKCACHE ? "flush" : "op";
}

static const char *status_name(int16_t st) {
  return st == BLKIF_RSP_ERROR ? "BLKIF_RSP_ERROR" : st == BLKIF_RSP_EOPNOTSUPP ? "BLKIF_RSP_EOPNOTSUPP" : "unknown status";
}

int32_t blk_run(struct vbd *v, uint32_t count, uint32_t depth, const struct blk_job *job) {
  if (!v->ring) return -1;
  if (depth > BLK_SLOTS) depth = BLK_SLOTS;
  if (!depth) depth = 1;
  uint32_t issued = 0, answered = 0, inflight = 0;
  int32_t errors = 0;
  uint32_t job_of[BLK_SLOTS];
  uint8_t op_of[BLK_SLOTS];
  uint64_t sector_of[BLK_SLOTS];
  while (answered < count) {
    int pushed = 0;
    while (issued < count && inflight < depth && v->req_prod_pvt - v->rsp_cons < BLKIF_RING_SIZE) {
      int slot = 0;
      while (v->busy & (1u << slot)) slot++;
      uint8_t op = BLKIF_OP_READ;
      uint64_t sector = 0;
      uint32_t nsect = 0;
      job->prep(v, issued, slot, &op, &sector, &nsect, job->arg);
      if (nsect > BLK_SLOT_SECTORS) nsect = BLK_SLOT_SECTORS;
      struct blkif_request *r = &v->ring->ring[v->req_prod_pvt % BLKIF_RING_SIZE].req;
      uint32_t nseg = (nsect + 7) / 8;
      r->operation = op;
      r->nr_segments = (uint8_t)nseg;
      r->handle = 0;
      r->id = (uint64_t)slot;
      r->sector_number = sector;
      for (uint32_t g = 0; g < nseg; g++) {
        uint32_t left = nsect - g * 8;
        r->seg[g].gref = v->refs[slot][g];
        r->seg[g].first_sect = 0;
        r->seg[g].last_sect = (uint8_t)((left > 8 ? 8 : left) - 1);
      }
      v->req_prod_pvt++;
      v->busy |= 1u << slot;
      job_of[slot] = issued++;
      op_of[slot] = op;
      sector_of[slot] = sector;
      inflight++;
      v->requests++;
      pushed = 1;
    }
    if (pushed) push_requests(v);
    uint32_t got = 0;
    for (;;) {  /* RING_FINAL_CHECK_FOR_RESPONSES */
      RING_IDX rp = READ_ONCE(v->ring->rsp_prod);
      rmb();
      if (rp - v->rsp_cons > v->req_prod_pvt - v->rsp_cons) {
        kprintf("disk: %s: the backend's rsp_prod %u is past our requests: giving up\n", v->vdev, rp);
        v->busy = 0;
        return -1;
      }
      for (; v->rsp_cons != rp; v->rsp_cons++) {
        struct blkif_response *rsp = &v->ring->ring[v->rsp_cons % BLKIF_RING_SIZE].rsp;
        uint64_t id = rsp->id;
        int16_t st = rsp->status;
        if (id >= BLK_SLOTS || !(v->busy & (1u << id))) {
          errors++;
          continue;
        }
        v->busy &= ~(1u << id);
        inflight--, answered++, got++;
        if (st != BLKIF_RSP_OKAY) {
          if (errors++ < 4)
            kprintf("disk: %s: %s at sector %llu: %s\n", v->vdev, op_name(op_of[id]), (unsigned long long)sector_of[id], status_name(st));
          v->errors++;
        } else if (job->done) {
          job->done(v, job_of[id], (int)id, job->arg);
        }
      }
      WRITE_ONCE(v->ring->rsp_event, v->rsp_cons + 1);
      mb();
      if (READ_ONCE(v->ring->rsp_prod) == v->rsp_cons) break;
    }
    if (!got && answered < count && (inflight == depth || issued == count)) {
      if (kwait(rsp_ready, v, WAIT_NS, 0)) {
        kprintf("disk: %s: no answer from the backend for 5 s\n", v->vdev);
        v->busy = 0;
        return -1;
      }
    }
  }
  return errors;
}

struct one { uint8_t op; uint64_t sector; uint32_t nsect; };

static void one_prep(struct vbd *v, uint32_t i, int slot, uint8_t *op, uint64_t *sector, uint32_t *nsect, void *arg) {
  (void)v, (void)i, (void)slot;
  struct one *o = arg;
  *op = o->op, *sector = o->sector, *nsect = o->nsect;
}

int32_t blk_one(struct vbd *v, uint8_t op, uint64_t sector, uint32_t nsect) {
  struct one o = {op, sector, nsect};
  struct blk_job j = {one_prep, 0, &o};
  return blk_run(v, 1, 1, &j);
}
