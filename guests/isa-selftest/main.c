/*
 * isa-selftest: self-checking tests of RV32IMA + Zicsr + Zifencei and of the
 * privileged architecture 1.12 (M, S and U modes, traps, interrupts, Sv32, PMP)
 * on QEMU's `virt` board. One line per group, then "isa-selftest: PASS" or "FAIL";
 * the test finisher reports the same result as the exit status.
 *
 * Where the specification leaves a choice, the tests expect what QEMU 7.2 does
 * (QEMU is the reference machine) and say so in a comment, citing the spec.
 */
#include "selftest.h"

static const struct {
  const char *name;
  void (*run)(void);
} groups[] = {
    {"rv32i", test_rv32i},           {"rv32i-mem", test_rv32i_mem},
    {"rv32m", test_rv32m},           {"rv32a", test_rv32a},
    {"zicsr", test_zicsr},           {"zifencei", test_zifencei},
    {"machine", test_machine},       {"exceptions", test_exceptions},
    {"privilege", test_privilege},   {"delegation", test_delegation},
    {"interrupts", test_interrupts}, {"plic", test_plic},
    {"counters", test_counters},     {"pmp", test_pmp},
    {"sv32", test_sv32},             {"sv32-perm", test_sv32_perm},
};

/* Privileged spec 3.7: with PMP implemented and no entry matching, S and U accesses
 * fail. QEMU implements PMP, so grant everything to S/U with one NAPOT entry
 * covering the whole address space (pmpaddr all ones), R|W|X, not locked. */
void pmp_allow_all(void) {
  csr_write(pmpaddr0, 0xffffffffu);
  csr_write(pmpcfg0, 0x1f); /* A = NAPOT (3 << 3), X|W|R */
  __asm__ volatile("sfence.vma" ::: "memory");
}

/* Put every piece of trap state back to the defaults the groups start from. */
static void reset_machine(void) {
  extern char __trap_stack_top[];
  static uint8_t s_trap_stack[8192] __attribute__((aligned(16)));
  csr_write(mstatus, 0);
  csr_write(mie, 0);
  csr_write(mip, 0);
  csr_write(medeleg, 0);
  csr_write(mideleg, 0);
  csr_write(satp, 0);
  csr_write(mtvec, (uintptr_t)trap_entry);
  csr_write(stvec, (uintptr_t)s_trap_entry);
  csr_write(mscratch, (uintptr_t)__trap_stack_top);
  csr_write(sscratch, (uintptr_t)(s_trap_stack + sizeof s_trap_stack));
  csr_write(mcounteren, 0);
  csr_write(scounteren, 0);
  mmio_write32(CLINT_MSIP(0), 0);
  clint_set_mtimecmp(~0ull);
  pmp_allow_all();
  trap_reset();
}

int main(void) {
  int failed = 0;
  uart_puts("isa-selftest: RV32IMA + Zicsr + Zifencei, privileged architecture 1.12\n");
  for (unsigned i = 0; i < sizeof groups / sizeof groups[0]; i++) {
    reset_machine();
    group_begin(groups[i].name);
    groups[i].run();
    reset_machine();
    failed |= group_end();
  }
  uart_puts(failed ? "isa-selftest: FAIL\n" : "isa-selftest: PASS\n");
  return failed;
}
