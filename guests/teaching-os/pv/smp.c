/*
 * The `smp` command: bring the domain's other vCPUs up with VCPUOP_up, have every vCPU
 * (vCPU 0 too) add to two shared counters at once, one with amoadd.w and one with an
 * lr.w/sc.w loop, then take the others down again with VCPUOP_down. Each vCPU runs in a
 * worker of its own on the host, so the totals come out right only if the hart's atomics
 * are atomic across workers (RISC-V Vol. I, "A" extension).
 *
 * The secondaries run with interrupts off and no trap vector: they only count.
 */
#include "pv.h"
#include "tos.h"

#define SMP_MAX_VCPUS 8
#define SMP_STACK 2048

extern void smp_entry(void);

static uint8_t smp_stacks[SMP_MAX_VCPUS][SMP_STACK] __attribute__((aligned(16)));
static volatile uint32_t smp_amo_counter, smp_lrsc_counter;
static volatile uint32_t smp_iterations;
static volatile uint32_t smp_go;
static volatile uint32_t smp_done[SMP_MAX_VCPUS];

static int32_t vcpu_op(uint32_t cmd, uint32_t vcpu, void *arg) {
  return HYPERCALL3(__HYPERVISOR_vcpu_op, cmd, vcpu, gpa_of(arg));
}

/* The same work on every vCPU. lr.w/sc.w as a compare-and-swap loop. */
static void smp_count(void) {
  uint32_t n = smp_iterations;
  for (uint32_t i = 0; i < n; i++) {
    __atomic_fetch_add(&smp_amo_counter, 1, __ATOMIC_RELAXED);
    uint32_t old = __atomic_load_n(&smp_lrsc_counter, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&smp_lrsc_counter, &old, old + 1, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
  }
}

__attribute__((noreturn)) void smp_secondary(uint32_t id) {
  while (!__atomic_load_n(&smp_go, __ATOMIC_ACQUIRE)) {
  }
  smp_count();
  __atomic_store_n(&smp_done[id], 1, __ATOMIC_RELEASE);
  for (;;) vcpu_op(VCPUOP_down, id, 0);
}

/* vCPUs the domain has: VCPUOP_is_up answers -ENOENT past the last one. */
static uint32_t smp_nr_vcpus(void) {
  uint32_t n = 1;
  while (n < SMP_MAX_VCPUS && vcpu_op(VCPUOP_is_up, n, 0) >= 0) n++;
  return n;
}

int plat_smp(uint32_t iterations) {
  uint32_t nr = smp_nr_vcpus();
  smp_amo_counter = smp_lrsc_counter = 0;
  smp_iterations = iterations;
  smp_go = 0;
  for (uint32_t v = 1; v < nr; v++) {
    smp_done[v] = 0;
    struct vcpu_up_args up = {(uint32_t)(uintptr_t)smp_entry, gpa_of(smp_stacks[v] + SMP_STACK)};
    int32_t r = vcpu_op(VCPUOP_up, v, &up);
    if (r < 0) {
      kprintf("smp: VCPUOP_up(%u) failed: %s\n", v, xen_strerror(r));
      nr = v;
      break;
    }
  }
  uint64_t t0 = time_ns();
  __atomic_store_n(&smp_go, 1, __ATOMIC_RELEASE);
  smp_count();
  /* Wait for the others, then until they are down again, so the next `smp` can start them. */
  for (uint32_t v = 1; v < nr; v++) {
    while (!__atomic_load_n(&smp_done[v], __ATOMIC_ACQUIRE)) sched_op(SCHEDOP_yield, 0);
  }
  uint64_t ns = time_ns() - t0;
  for (uint32_t v = 1; v < nr; v++) {
    while (vcpu_op(VCPUOP_is_up, v, 0) > 0) sched_op(SCHEDOP_yield, 0);
  }
  uint32_t want = nr * iterations;
  char secs[32];
  fmt_seconds(secs, sizeof secs, ns, 3);
  kprintf("smp: %u vCPUs counted at once: amoadd.w %u, lr.w/sc.w %u (expected %u each): %s\n", nr,
          smp_amo_counter, smp_lrsc_counter, want,
          smp_amo_counter == want && smp_lrsc_counter == want ? "ok" : "LOST UPDATES");
  kprintf("timing: smp %u x %u iterations in %s s\n", nr, iterations, secs);
  return smp_amo_counter == want && smp_lrsc_counter == want ? 0 : -1;
}
