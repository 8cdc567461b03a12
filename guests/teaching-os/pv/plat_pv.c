/*
 * The pv platform layer: the kernel runs in S-mode as a guest that knows it is one
 * (docs/abi.md). It finds everything through start_info (a1 at entry): its RAM size,
 * shared_info, the console and xenstore rings and their event channels. Timer ticks are
 * VIRQ_TIMER events from a one-shot set_timer_op re-armed on every tick; sleeping is
 * SCHEDOP_block; power off and reboot are SCHEDOP_shutdown.
 */
#include "pv.h"
#include "blkfront.h"

extern char __image_end[];

struct start_info *start_info;
struct shared_info *shared_info;
int32_t pv_domid = -1;
char pv_name[64];
uint32_t pv_max_pages;
uint32_t gfn_origin;

static evtchn_port_t timer_port;
static uint64_t next_tick;
static char xen_ver[48] = "unknown version";

static void early(const char *s) { console_io_write(s, strlen(s)); }

/* ---- time: the time CSR counts 100 ns since the domain started (docs/abi.md section 6) ---- */

uint64_t plat_time_ns(void) {
  uint32_t hi, lo;
  do {
    hi = csr_read(timeh);
    lo = csr_read(time);
  } while (hi != csr_read(timeh));
  return ((uint64_t)hi << 32 | lo) * 100;
}

static void timer_event(evtchn_port_t port, void *arg) {
  (void)port, (void)arg;
  uint64_t now = plat_time_ns();
  next_tick += NS_PER_TICK;
  if (next_tick <= now) next_tick = now + NS_PER_TICK;  /* missed ticks are not replayed */
  set_timer_op(next_tick);
  kernel_tick();
}

/* ---- boot ---- */

static void reserve_special_pages(void) {
  /* The domain builder puts start_info, shared_info, the two rings and the grant table
   * at the top of RAM. Keep everything from the lowest of them up reserved. */
  uint32_t low = gpa_of(start_info) & ~(PAGE_SIZE - 1);
  uint32_t si = start_info->shared_info & ~(PAGE_SIZE - 1);
  if (si < low) low = si;
  if (start_info->console_mfn && gfn_to_gpa(start_info->console_mfn) < low) low = gfn_to_gpa(start_info->console_mfn);
  if (start_info->store_mfn && gfn_to_gpa(start_info->store_mfn) < low) low = gfn_to_gpa(start_info->store_mfn);
  uint32_t end = RAM_BASE + page_total() * PAGE_SIZE;
  if (low >= RAM_BASE && low < end) page_reserve(low, end - low);
  if (start_info->mod_len) page_reserve(start_info->mod_start, start_info->mod_len);
}

/* Booted on the bare virt board instead (M-mode, a1 = a device tree): say so on its
 * UART and fail through its test finisher, rather than trap forever. */
static void wrong_machine(uint32_t a1) {
  const uint8_t *p = (const uint8_t *)(uintptr_t)a1;
  if (a1 < RAM_BASE || (a1 & 3) || p[0] != 0xd0 || p[1] != 0x0d || p[2] != 0xfe || p[3] != 0xed) return;
  static const char msg[] = "teaching-os-pv.elf is the pv image: run it as a pv domain "
                            "(on the virt board, use teaching-os-hvm.elf)\r\n";
  for (const char *c = msg; *c; c++) {
    while (!(*(volatile uint8_t *)0x10000005u & 0x20)) {
    }
    *(volatile uint8_t *)0x10000000u = (uint8_t)*c;
  }
  *(volatile uint32_t *)0x00100000u = 0x3333 | 1u << 16;
  for (;;) {
  }
}

void plat_init(uint32_t vcpu, uint32_t si) {
  (void)vcpu;
  start_info = (struct start_info *)(uintptr_t)si;
  if (memcmp(start_info->magic, XEN_START_MAGIC, sizeof XEN_START_MAGIC - 1)) {
    wrong_machine(si);
    early("teaching-os: a1 does not point to a start_info (no \"xen-3.0-\" magic)\n");
    xen_shutdown(SHUTDOWN_crash);
  }
  shared_info = (struct shared_info *)(uintptr_t)start_info->shared_info;
  /* Frame numbers counted from address 0 are >= 0x80000 for RAM at 0x80000000. */
  gfn_origin = start_info->console_mfn >= (RAM_BASE >> PAGE_SHIFT) ? RAM_BASE >> PAGE_SHIFT : 0;

  page_init(RAM_BASE, start_info->nr_pages, (uint32_t)(uintptr_t)__image_end);
  reserve_special_pages();

  uint32_t s = plat_irq_disable();
  shared_info->vcpu_info[0].evtchn_upcall_mask = 0;
  xencons_init();
  xs_init();
  if (evtchn_bind_virq(VIRQ_TIMER, &timer_port) == 0) {
    evtchn_set_handler(timer_port, timer_event, 0);
    next_tick = plat_time_ns() + NS_PER_TICK;
    set_timer_op(next_tick);
  } else {
    early("teaching-os: cannot bind VIRQ_TIMER: no ticks\n");
  }
  csr_set(sie, SIE_SEIE);
  plat_irq_restore(s);
  csr_set(sstatus, SSTATUS_SIE);
}

void plat_start(void) {
  int32_t v = HYPERCALL2(__HYPERVISOR_xen_version, XENVER_version, 0);
  char extra[16];
  memset(extra, 0, sizeof extra);
  if (v > 0 && HYPERCALL2(__HYPERVISOR_xen_version, XENVER_extraversion, gpa_of(extra)) == 0) {
    extra[15] = 0;
    ksnprintf(xen_ver, sizeof xen_ver, "Xen %d.%d%s", v >> 16, v & 0xffff, extra);
  }
  kprintf("pv: S-mode on hyperlab's paravirtual ABI (%s), start_info at 0x%08x\n", xen_ver, gpa_of(start_info));
  kprintf("pv: console %s (port %u), xenstore ring (port %u), timer VIRQ (port %u) at %u Hz\n", xencons_mode(),
          start_info->console_evtchn, start_info->store_evtchn, timer_port, TICK_HZ);

  domid_t self = DOMID_SELF;
  int32_t max = memory_op(XENMEM_maximum_reservation, &self);
  pv_max_pages = max > 0 ? (uint32_t)max : start_info->nr_pages;

  gnttab_init();
  if (xs_available()) {
    uint32_t id;
    int32_t rc = xs_read_u32("domid", &id);
    if (rc == 0) pv_domid = (int32_t)id;
    else kprintf("pv: xenstore: cannot read domid (%s)\n", xen_strerror(rc));
    if (xs_available() && xs_read("name", pv_name, sizeof pv_name) < 0) pv_name[0] = 0;
  }
  balloon_init();
  control_init();
  kprintf("pv: domain %d%s%s%s, %u KiB, grant table %u frame%s\n", pv_domid, pv_name[0] ? " (" : "", pv_name,
          pv_name[0] ? ")" : "", start_info->nr_pages * 4, gnttab_frames(), gnttab_frames() == 1 ? "" : "s");
  blkfront_init();
  netfront_init();
}

/* ---- resume: SCHEDOP_shutdown(SHUTDOWN_suspend) returned 0, we are a new domain ---- */

static const char *port_state(evtchn_port_t port) {
  struct evtchn_status st;
  if (!port || evtchn_status(port, &st)) return "gone";
  static const char *const n[] = {"closed", "unbound", "interdomain", "pirq", "virq", "ipi"};
  return st.status <= EVTCHNSTAT_ipi ? n[st.status] : "?";
}

/* As Linux after HYPERVISOR_suspend returns 0 (xen_irq_resume, xs_resume, dpm_resume): the
 * console ring and port from start_info; the event channels we bind ourselves (the timer
 * VIRQ) bound again if the new domain does not have them; xenstore and its watches; then
 * each frontend reconnects to the new host's backends. The restore may have kept the
 * channels and the watches (hyperlab carries them): then these steps find them there. */
void pv_resume(void) {
  uint32_t s = plat_irq_disable();
  xencons_resume();
  struct evtchn_status st;
  int rebound = 0;
  if (!timer_port || evtchn_status(timer_port, &st) || st.status != EVTCHNSTAT_virq || st.u.virq != VIRQ_TIMER) {
    if (timer_port) evtchn_clear_handler(timer_port);
    timer_port = 0;
    if (evtchn_bind_virq(VIRQ_TIMER, &timer_port) == 0) evtchn_set_handler(timer_port, timer_event, 0), rebound = 1;
    else timer_port = 0;
  }
  next_tick = plat_time_ns() + NS_PER_TICK;
  set_timer_op(next_tick);
  plat_irq_restore(s);
  kprintf("control: event channels: timer VIRQ port %u (%s), console port %u (%s), xenstore port %u (%s)\n", timer_port,
          rebound ? "bound again" : "kept", start_info->console_evtchn, port_state(start_info->console_evtchn), start_info->store_evtchn,
          port_state(start_info->store_evtchn));
  xs_resume();
  uint32_t id;
  if (xs_available() && xs_read_u32("domid", &id) == 0) pv_domid = (int32_t)id;
  kprintf("control: now domain %d\n", pv_domid);
  blkfront_resume();
  netfront_resume();
}

/* ---- traps: the upcall, or a bug ---- */

void pv_trap(struct trap_frame *f);

void pv_trap(struct trap_frame *f) {
  if (f->cause == (0x80000000u | IRQ_S_EXT)) {
    evtchn_upcall();
    return;
  }
  panic("trap: scause 0x%08x sepc 0x%08x stval 0x%08x", f->cause, f->epc, f->tval);
}

/* ---- the platform interface ---- */

void plat_console_write(const char *buf, size_t n) { xencons_write(buf, n); }
void plat_console_drain(void) { xencons_drain(); }
void plat_console_rx_kick(void) { xencons_rx_kick(); }

uint32_t plat_irq_disable(void) { return csr_read_clear(sstatus, SSTATUS_SIE) & SSTATUS_SIE; }

void plat_irq_restore(uint32_t s) {
  if (s) csr_set(sstatus, SSTATUS_SIE);
}

/* SCHEDOP_block returns at once if an upcall is pending, else when one is: the check
 * and the sleep are one step in the hypervisor, so no event is missed. */
void plat_wait(void) { sched_op(SCHEDOP_block, 0); }

int plat_has_work(void) { return xs_has_work() || balloon_has_work() || control_has_work() || blkfront_has_work() || netfront_has_work(); }

void plat_do_work(void) {
  xs_poll();
  if (balloon_has_work()) balloon_work();
  if (control_has_work()) control_work();
  if (blkfront_has_work()) blkfront_work();
  if (netfront_has_work()) netfront_work();
}

void plat_poweroff(void) { xen_shutdown(SHUTDOWN_poweroff); }
void plat_reboot(void) { xen_shutdown(SHUTDOWN_reboot); }

void plat_crash(void) {
  early("teaching-os: crashed\n");
  xen_shutdown(SHUTDOWN_crash);
}

void plat_info(struct plat_info *pi) {
  static char detail[96];
  memset(pi, 0, sizeof *pi);
  pi->type = "pv";
  ksnprintf(detail, sizeof detail, "S-mode on hyperlab's paravirtual ABI (%s)", xen_ver);
  pi->detail = detail;
  pi->domid = pv_domid;
  strlcpy(pi->name, pv_name, sizeof pi->name);
  domid_t self = DOMID_SELF;
  int32_t cur = memory_op(XENMEM_current_reservation, &self);
  pi->mem_kib = (cur > 0 ? (uint32_t)cur : page_total() - page_count(PG_BALLOONED)) * 4;
  pi->max_kib = pv_max_pages * 4;
  /* VCPUOP_is_up: 1 up, 0 down, -ENOENT past the last vCPU. */
  for (uint32_t v = 0; v < XEN_LEGACY_MAX_VCPUS; v++) {
    int32_t up = HYPERCALL3(__HYPERVISOR_vcpu_op, VCPUOP_is_up, v, 0);
    if (up < 0) break;
    pi->vcpus++;
    pi->vcpus_up += up > 0;
  }
  if (!pi->vcpus) pi->vcpus = pi->vcpus_up = 1;
}
