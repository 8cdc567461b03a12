/*
 * A xenstore client over struct xenstore_domain_interface (io/xs_wire.h,
 * docs/misc/xenstore-ring.txt): requests go into req[], replies and watch events come
 * back in rsp[], each message a struct xsd_sockmsg {type, req_id, tx_id, len} and `len`
 * bytes of payload. Both rings are 1024 bytes, so a message larger than the room left
 * is copied in pieces as the other side makes room; every piece is followed by a
 * notification on start_info's store event channel.
 *
 * One request at a time, from the shell loop only (never from an interrupt): the event
 * handler just notes that the ring moved. Watch events that arrive while a reply is
 * awaited are queued and delivered later by xs_poll(), also from the shell loop, so a
 * watch callback may itself make requests.
 */
#include "pv.h"

#define XS_TIMEOUT_NS 3000000000ull
#define EVENT_QUEUE 16
#define MAX_WATCHES 8

static struct xenstore_domain_interface *xs;
static evtchn_port_t xs_port;
static int xs_broken;
static uint32_t next_req_id = 1;
/* The transaction the next requests belong to (0: none). */
static uint32_t cur_tx;
static char msgbuf[XENSTORE_PAYLOAD_MAX + 1];

struct xs_event { char path[160]; char token[32]; };
static struct xs_event queue[EVENT_QUEUE];
static uint32_t q_head, q_tail, q_dropped;

static struct { char path[160]; char token[32]; xs_watch_fn fn; } watches[MAX_WATCHES];

static void xs_event(evtchn_port_t port, void *arg) { (void)port, (void)arg; }

void xs_init(void) {
  if (!start_info->store_mfn || !start_info->store_evtchn) return;
  xs = (struct xenstore_domain_interface *)(uintptr_t)gfn_to_gpa(start_info->store_mfn);
  xs_port = start_info->store_evtchn;
  evtchn_set_handler(xs_port, xs_event, 0);
}

int xs_available(void) { return xs && !xs_broken; }

/* ---- the byte streams ---- */

static int req_room(void *arg) {
  (void)arg;
  return xs->req_prod - READ_ONCE(xs->req_cons) < XENSTORE_RING_SIZE;
}

static int rsp_ready(void *arg) {
  (void)arg;
  return READ_ONCE(xs->rsp_prod) != xs->rsp_cons;
}

static int32_t put_bytes(const void *data, uint32_t len) {
  const char *p = data;
  while (len) {
    uint32_t cons = READ_ONCE(xs->req_cons), prod = xs->req_prod;
    mb();
    if (prod - cons > XENSTORE_RING_SIZE) return -XEN_EIO;
    uint32_t k = XENSTORE_RING_SIZE - (prod - cons);
    if (!k) {
      evtchn_send(xs_port);
      if (kwait(req_room, 0, XS_TIMEOUT_NS, 0)) return -XEN_ETIMEDOUT;
      continue;
    }
    if (k > len) k = len;
    for (uint32_t i = 0; i < k; i++) xs->req[(prod + i) % XENSTORE_RING_SIZE] = p[i];
    wmb();
    WRITE_ONCE(xs->req_prod, prod + k);
    p += k, len -= k;
  }
  evtchn_send(xs_port);
  return 0;
}

static int32_t get_bytes(void *dst, uint32_t len) {
  char *p = dst;
  while (len) {
    uint32_t prod = READ_ONCE(xs->rsp_prod), cons = xs->rsp_cons;
    rmb();
    if (prod - cons > XENSTORE_RING_SIZE) return -XEN_EIO;
    uint32_t k = prod - cons;
    if (!k) {
      if (kwait(rsp_ready, 0, XS_TIMEOUT_NS, 0)) return -XEN_ETIMEDOUT;
      continue;
    }
    if (k > len) k = len;
    for (uint32_t i = 0; i < k; i++) p[i] = xs->rsp[(cons + i) % XENSTORE_RING_SIZE];
    mb();
    WRITE_ONCE(xs->rsp_cons, cons + k);
    evtchn_send(xs_port);  /* room for more */
    p += k, len -= k;
  }
  return 0;
}

/* Read one whole message into msgbuf (NUL-terminated). A failure halfway through a
 * message leaves the stream out of step: the client then stops using xenstore. */
static int32_t get_message(struct xsd_sockmsg *hdr) {
  int32_t rc = get_bytes(hdr, sizeof *hdr);
  if (!rc && hdr->len > XENSTORE_PAYLOAD_MAX) rc = -XEN_EIO;
  if (!rc) rc = get_bytes(msgbuf, hdr->len);
  if (rc) {
    xs_broken = 1;
    return rc;
  }
  msgbuf[hdr->len] = 0;
  return 0;
}

static void queue_event(uint32_t len) {
  /* payload: path NUL token NUL */
  const char *path = msgbuf, *token = msgbuf + strlen(msgbuf) + 1;
  if (token >= msgbuf + len) token = "";
  if (q_head - q_tail >= EVENT_QUEUE) {
    q_dropped++;
    return;
  }
  struct xs_event *e = &queue[q_head % EVENT_QUEUE];
  strlcpy(e->path, path, sizeof e->path);
  strlcpy(e->token, token, sizeof e->token);
  q_head++;
}

static const struct { const char *name; int32_t err; } xs_errors[] = {
  {"EINVAL", XEN_EINVAL}, {"EACCES", XEN_EACCES}, {"EEXIST", XEN_EEXIST}, {"ENOENT", XEN_ENOENT},
  {"ENOMEM", XEN_ENOMEM}, {"ENOSPC", XEN_ENOSPC}, {"EIO", XEN_EIO}, {"ENOSYS", XEN_ENOSYS},
  {"EAGAIN", XEN_EAGAIN}, {"EBUSY", XEN_EBUSY}, {"EPERM", XEN_EPERM}, {"E2BIG", XEN_E2BIG},
  {"EISDIR", XEN_EISDIR}, {"ENOTEMPTY", XEN_ENOTEMPTY}, {"EROFS", XEN_EROFS}, {"EISCONN", XEN_EISCONN},
};

/* Send one request (payload = `len` bytes) and wait for its reply, queueing watch
 * events met on the way. Returns the reply's length (payload in msgbuf) or -errno. */
static int32_t request(uint32_t type, const char *payload, uint32_t len) {
  if (!xs_available()) return -XEN_ENOSYS;
  struct xsd_sockmsg hdr = {type, next_req_id++, type == XS_TRANSACTION_START ? 0 : cur_tx, len};
  int32_t rc = put_bytes(&hdr, sizeof hdr);
  if (!rc) rc = put_bytes(payload, len);
  if (rc) {
    xs_broken = 1;
    return rc;
  }
  for (;;) {
    struct xsd_sockmsg r;
    if ((rc = get_message(&r))) return rc;
    if (r.type == XS_WATCH_EVENT) {
      queue_event(r.len);
      continue;
    }
    if (r.req_id != hdr.req_id) continue;  /* a stale reply */
    if (r.type == XS_ERROR) {
      for (size_t i = 0; i < ARRAY_SIZE(xs_errors); i++)
        if (!strcmp(msgbuf, xs_errors[i].name)) return -xs_errors[i].err;
      return -XEN_EINVAL;
    }
    return (int32_t)r.len;
  }
}

/* Build "s1 NUL s2 NUL ..." (the last NUL omitted when `last_nul` is 0, as for WRITE). */
static uint32_t pack(char *buf, size_t cap, const char *const *parts, int n, int last_nul) {
  uint32_t len = 0;
  for (int i = 0; i < n; i++) {
    size_t k = strlen(parts[i]) + (i < n - 1 || last_nul);
    if (len + k > cap) return 0;
    memcpy(buf + len, parts[i], k);
    len += (uint32_t)k;
  }
  return len;
}

static char reqbuf[XENSTORE_PAYLOAD_MAX];

static int32_t simple(uint32_t type, const char *const *parts, int n, int last_nul) {
  uint32_t len = pack(reqbuf, sizeof reqbuf, parts, n, last_nul);
  if (!len) return -XEN_EINVAL;
  return request(type, reqbuf, len);
}

int32_t xs_read(const char *path, char *buf, size_t cap) {
  const char *parts[] = {path};
  int32_t rc = simple(XS_READ, parts, 1, 1);
  if (rc < 0) return rc;
  if ((size_t)rc >= cap) rc = (int32_t)cap - 1;
  memcpy(buf, msgbuf, (size_t)rc);
  buf[rc] = 0;
  return rc;
}

int32_t xs_read_u32(const char *path, uint32_t *out) {
  char buf[16];
  int32_t rc = xs_read(path, buf, sizeof buf);
  if (rc < 0) return rc;
  return parse_u32(buf, out) ? -XEN_EINVAL : 0;
}

int32_t xs_write(const char *path, const char *value) {
  const char *parts[] = {path, value};
  int32_t rc = simple(XS_WRITE, parts, 2, 0);
  return rc < 0 ? rc : 0;
}

int32_t xs_rm(const char *path) {
  const char *parts[] = {path};
  int32_t rc = simple(XS_RM, parts, 1, 1);
  return rc < 0 ? rc : 0;
}

int32_t xs_directory(const char *path, char *buf, size_t cap) {
  const char *parts[] = {path};
  int32_t rc = simple(XS_DIRECTORY, parts, 1, 1);
  if (rc < 0) return rc;
  if ((size_t)rc > cap) return -XEN_ENOSPC;
  memcpy(buf, msgbuf, (size_t)rc);
  return rc;
}

int32_t xs_set_perms(const char *path, const char *const *perms, int n) {
  const char *parts[8] = {path};
  if (n > 7) return -XEN_EINVAL;
  for (int i = 0; i < n; i++) parts[i + 1] = perms[i];
  int32_t rc = simple(XS_SET_PERMS, parts, n + 1, 1);
  return rc < 0 ? rc : 0;
}

int32_t xs_watch(const char *path, const char *token, xs_watch_fn fn) {
  int slot = -1;
  for (int i = 0; i < MAX_WATCHES; i++)
    if (!watches[i].fn) slot = i;
  if (slot < 0) return -XEN_ENOSPC;
  strlcpy(watches[slot].path, path, sizeof watches[slot].path);
  strlcpy(watches[slot].token, token, sizeof watches[slot].token);
  watches[slot].fn = fn;
  const char *parts[] = {path, token};
  int32_t rc = simple(XS_WATCH, parts, 2, 1);
  if (rc < 0) watches[slot].fn = 0;
  return rc < 0 ? rc : 0;
}

int32_t xs_unwatch(const char *path, const char *token) {
  for (int i = 0; i < MAX_WATCHES; i++)
    if (watches[i].fn && !strcmp(watches[i].token, token) && !strcmp(watches[i].path, path)) watches[i].fn = 0;
  const char *parts[] = {path, token};
  int32_t rc = simple(XS_UNWATCH, parts, 2, 1);
  return rc < 0 ? rc : 0;
}

/* XS_TRANSACTION_START: the requests that follow, until xs_transaction_end, run in it. */
int32_t xs_transaction_start(void) {
  if (cur_tx) return -XEN_EBUSY;
  const char *parts[] = {""};
  int32_t rc = simple(XS_TRANSACTION_START, parts, 1, 1);
  if (rc < 0) return rc;
  msgbuf[rc] = 0;
  uint32_t id;
  if (parse_u32(msgbuf, &id) || !id) return -XEN_EIO;
  cur_tx = id;
  return 0;
}

/* XS_TRANSACTION_END: commit (or abort); -EAGAIN when a node it read changed meanwhile. */
int32_t xs_transaction_end(int commit) {
  if (!cur_tx) return -XEN_EINVAL;
  const char *parts[] = {commit ? "T" : "F"};
  int32_t rc = simple(XS_TRANSACTION_END, parts, 1, 1);
  cur_tx = 0;
  return rc < 0 ? rc : 0;
}

/* After a suspend that returned 0 (Linux's xs_resume): the ring and port start_info names,
 * and every watch registered again. A restore that carried the watches answers EEXIST:
 * that one is there already. */
void xs_resume(void) {
  if (xs_port) evtchn_clear_handler(xs_port);
  xs = 0, xs_port = 0, cur_tx = 0, xs_broken = 0;
  xs_init();
  if (!xs) return;
  int again = 0, kept = 0, failed = 0;
  for (int i = 0; i < MAX_WATCHES; i++) {
    if (!watches[i].fn) continue;
    const char *parts[] = {watches[i].path, watches[i].token};
    int32_t rc = simple(XS_WATCH, parts, 2, 1);
    if (rc >= 0) again++;
    else if (rc == -XEN_EEXIST) kept++;
    else failed++, kprintf("xenstore: watch %s (%s): %s\n", watches[i].path, watches[i].token, xen_strerror(rc));
  }
  kprintf("control: xenstore reconnected: %d watch%s registered again, %d kept by the restore%s\n", again, again == 1 ? "" : "es", kept,
          failed ? ", some failed" : "");
}

int xs_has_work(void) {
  return q_head != q_tail || (xs_available() && READ_ONCE(xs->rsp_prod) != xs->rsp_cons);
}

void xs_poll(void) {
  /* Messages that arrived with no request outstanding are watch events (or stale
   * replies): take every whole one the ring holds. */
  while (xs_available() && READ_ONCE(xs->rsp_prod) != xs->rsp_cons) {
    struct xsd_sockmsg r;
    if (get_message(&r)) break;
    if (r.type == XS_WATCH_EVENT) queue_event(r.len);
  }
  while (q_head != q_tail) {
    struct xs_event e = queue[q_tail % EVENT_QUEUE];
    q_tail++;
    for (int i = 0; i < MAX_WATCHES; i++)
      if (watches[i].fn && !strcmp(watches[i].token, e.token)) watches[i].fn(e.path, e.token);
  }
}
