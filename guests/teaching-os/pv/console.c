/*
 * The console: struct xencons_interface (io/console.h) in the page start_info names,
 * with its event channel. Output: copy into out[], advance out_prod after the bytes
 * (fence w,w between), notify. Input: the backend fills in[] and notifies; the handler
 * moves bytes to the kernel's input buffer, advances in_cons and notifies back.
 *
 * Until the ring is set up, or when start_info gives none, or when the backend stops
 * consuming for a second, output goes through console_io(CONSOLEIO_write) instead.
 */
#include "pv.h"

#define STALL_NS 1000000000ull

static struct xencons_interface *cons;
static evtchn_port_t cons_port;
static uint32_t stalls;

static void rx(void) {
  uint32_t c = cons->in_cons, p = READ_ONCE(cons->in_prod);
  rmb();
  if (p - c > XENCONS_IN_SIZE) c = p;  /* a corrupt index: drop what is there */
  uint32_t start = c;
  while (c != p && con_rx_room()) con_rx((uint8_t)cons->in[c++ % XENCONS_IN_SIZE]);
  mb();
  WRITE_ONCE(cons->in_cons, c);
  if (c != start) evtchn_send(cons_port);
}

static void cons_event(evtchn_port_t port, void *arg) {
  (void)port, (void)arg;
  rx();  /* output room is polled by the writer */
}

void xencons_init(void) {
  if (!start_info->console_mfn || !start_info->console_evtchn) return;
  cons = (struct xencons_interface *)(uintptr_t)gfn_to_gpa(start_info->console_mfn);
  cons_port = start_info->console_evtchn;
  evtchn_set_handler(cons_port, cons_event, 0);
}

/* After a suspend that returned 0: the ring and port start_info names now (the same ones
 * when the restore kept them), the handler on that port, and input that came meanwhile. */
void xencons_resume(void) {
  evtchn_port_t old = cons_port;
  if (old) evtchn_clear_handler(old);
  cons = 0, cons_port = 0;
  xencons_init();
  if (cons) rx();
}

const char *xencons_mode(void) { return cons ? "ring" : "console_io"; }

static int out_room(void *arg) {
  (void)arg;
  return cons->out_prod - READ_ONCE(cons->out_cons) < XENCONS_OUT_SIZE;
}

static int out_empty(void *arg) {
  (void)arg;
  return cons->out_prod == READ_ONCE(cons->out_cons);
}

void xencons_write(const char *buf, size_t n) {
  if (!cons) {
    console_io_write(buf, n);
    return;
  }
  while (n) {
    uint32_t c = READ_ONCE(cons->out_cons), p = cons->out_prod;
    mb();
    uint32_t used = p - c;
    if (used > XENCONS_OUT_SIZE) {  /* a corrupt index: give up on the ring */
      cons = 0;
      console_io_write(buf, n);
      return;
    }
    if (used == XENCONS_OUT_SIZE) {
      evtchn_send(cons_port);
      if (kwait(out_room, 0, STALL_NS, 0) == WAIT_TIMEOUT) {
        stalls++;
        console_io_write(buf, n);  /* the backend is not reading: do not hang the shell */
        return;
      }
      continue;
    }
    uint32_t k = XENCONS_OUT_SIZE - used;
    if (k > n) k = (uint32_t)n;
    for (uint32_t i = 0; i < k; i++) cons->out[(p + i) % XENCONS_OUT_SIZE] = buf[i];
    wmb();
    WRITE_ONCE(cons->out_prod, p + k);
    buf += k, n -= k;
  }
  evtchn_send(cons_port);
}

void xencons_drain(void) {
  if (cons) kwait(out_empty, 0, STALL_NS, 0);
}

void xencons_rx_kick(void) {
  if (!cons) return;
  uint32_t s = plat_irq_disable();
  rx();
  plat_irq_restore(s);
}
