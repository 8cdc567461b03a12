/*
 * Event channels: binding ports, and the upcall that demultiplexes them.
 *
 * The upcall is the supervisor external interrupt: the hypervisor shows sip.SEIP while
 * vcpu_info.evtchn_upcall_pending is set and evtchn_upcall_mask is clear. The handler
 * follows Xen's 2-level scheme (and Mini-OS's do_hypervisor_callback): clear
 * upcall_pending first, then swap the selector word to 0, and for each set bit w scan
 * evtchn_pending[w] & ~evtchn_mask[w], clearing each port's pending bit before calling
 * its handler. An event that arrives meanwhile sets everything again, so SEIP comes
 * straight back after sret and nothing is lost.
 *
 * evtchn_upcall_mask stays 0: sstatus.SIE is how the kernel holds upcalls off.
 *
 * The `evtchn` command shows the bound ports with the times each handler ran, and masks
 * one for a while: events that come meanwhile only set its pending bit (no upcall), and
 * EVTCHNOP_unmask delivers them, once, as Xen does (a pending bit is one event or many).
 */
#include "pv.h"

static evtchn_handler_t handlers[NR_EVTCHN_PORTS];
static void *handler_args[NR_EVTCHN_PORTS];
static volatile uint32_t handled[NR_EVTCHN_PORTS];
volatile uint32_t evtchn_upcalls;
static volatile uint32_t evtchn_spurious;

static uint32_t lowest_bit(uint32_t x) {  /* x != 0; no Zbb, so no ctz instruction */
  uint32_t n = 0;
  while (!(x & 1)) x >>= 1, n++;
  return n;
}

void evtchn_upcall(void) {
  struct vcpu_info *v = &shared_info->vcpu_info[0];
  evtchn_upcalls = evtchn_upcalls + 1;
  WRITE_ONCE(v->evtchn_upcall_pending, 0);
  mb();
  uint32_t sel = __atomic_exchange_n(&v->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
  while (sel) {
    uint32_t w = lowest_bit(sel);
    sel &= sel - 1;
    uint32_t pending = READ_ONCE(shared_info->evtchn_pending[w]) & ~READ_ONCE(shared_info->evtchn_mask[w]);
    while (pending) {
      uint32_t b = lowest_bit(pending);
      pending &= pending - 1;
      evtchn_port_t port = w * 32 + b;
      __atomic_fetch_and(&shared_info->evtchn_pending[w], ~(1u << b), __ATOMIC_SEQ_CST);
      if (handlers[port]) {
        handled[port] = handled[port] + 1;
        handlers[port](port, handler_args[port]);
      }
      else evtchn_spurious = evtchn_spurious + 1;
    }
  }
}

/* Install a handler, then make sure the port is unmasked (EVTCHNOP_unmask redelivers an
 * event that came while it was masked). Call with upcalls off around the bind, so an
 * event cannot arrive between the bind and this. */
void evtchn_set_handler(evtchn_port_t port, evtchn_handler_t fn, void *arg) {
  if (port == 0 || port >= NR_EVTCHN_PORTS) return;
  handler_args[port] = arg;
  handlers[port] = fn;
  if (READ_ONCE(shared_info->evtchn_mask[port / 32]) & (1u << (port % 32))) {
    struct evtchn_unmask op = {port};
    event_channel_op(EVTCHNOP_unmask, &op);
  }
}

void evtchn_clear_handler(evtchn_port_t port) {
  if (port == 0 || port >= NR_EVTCHN_PORTS) return;
  handlers[port] = 0;
  handler_args[port] = 0;
}

int32_t evtchn_send(evtchn_port_t port) {
  struct evtchn_send op = {port};
  return event_channel_op(EVTCHNOP_send, &op);
}

int32_t evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port) {
  struct evtchn_alloc_unbound op = {DOMID_SELF, remote, 0};
  int32_t rc = event_channel_op(EVTCHNOP_alloc_unbound, &op);
  if (!rc) *port = op.port;
  return rc;
}

int32_t evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t *port) {
  struct evtchn_bind_interdomain op = {remote, remote_port, 0};
  int32_t rc = event_channel_op(EVTCHNOP_bind_interdomain, &op);
  if (!rc) *port = op.local_port;
  return rc;
}

int32_t evtchn_bind_virq(uint32_t virq, evtchn_port_t *port) {
  struct evtchn_bind_virq op = {virq, 0, 0};
  int32_t rc = event_channel_op(EVTCHNOP_bind_virq, &op);
  if (!rc) *port = op.port;
  return rc;
}

int32_t evtchn_close(evtchn_port_t port) {
  struct evtchn_close op = {port};
  evtchn_clear_handler(port);
  return event_channel_op(EVTCHNOP_close, &op);
}

static int port_bit(volatile uint32_t *words, evtchn_port_t port) { return (READ_ONCE(words[port / 32]) >> (port % 32)) & 1; }
static int never(void *arg) { (void)arg; return 0; }

/* evtchn: one line per bound port; evtchn mask PORT MS: mask it for MS ms, then unmask. */
int plat_evtchn(int argc, char **argv) {
  if (argc < 2) {
    for (evtchn_port_t p = 1; p < NR_EVTCHN_PORTS; p++)
      if (handlers[p])
        kprintf("evtchn: port %u handled %u pending %d masked %d\n", p, handled[p], port_bit(shared_info->evtchn_pending, p),
                port_bit(shared_info->evtchn_mask, p));
    return 0;
  }
  uint32_t port, ms;
  if (argc != 4 || strcmp(argv[1], "mask") || parse_u32(argv[2], &port) || parse_u32(argv[3], &ms) || ms < 1 || ms > 10000) {
    kprintf("usage: evtchn [mask PORT MS]  (MS from 1 to 10000)\n");
    return -1;
  }
  if (port == 0 || port >= NR_EVTCHN_PORTS || !handlers[port]) {
    kprintf("evtchn: port %u is not bound\n", port);
    return -1;
  }
  uint32_t before = handled[port];
  __atomic_fetch_or(&shared_info->evtchn_mask[port / 32], 1u << (port % 32), __ATOMIC_SEQ_CST);
  kwait(never, 0, (uint64_t)ms * 1000000ull, 0);
  int pending = port_bit(shared_info->evtchn_pending, port);
  kprintf("evtchn: port %u masked for %u ms: handled %u times, pending %d\n", port, ms, handled[port] - before, pending);
  before = handled[port];
  struct evtchn_unmask op = {port};
  event_channel_op(EVTCHNOP_unmask, &op);   /* redelivers what came while masked */
  kwait(never, 0, 50000000ull, 0);
  kprintf("evtchn: port %u unmasked: handled %u times since\n", port, handled[port] - before);
  return 0;
}

int32_t evtchn_status(evtchn_port_t port, struct evtchn_status *st) {
  memset(st, 0, sizeof *st);
  st->dom = DOMID_SELF;
  st->port = port;
  return event_channel_op(EVTCHNOP_status, st);
}
