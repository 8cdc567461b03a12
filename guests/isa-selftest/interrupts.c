/*
 * interrupts: machine-level interrupts from the CLINT (software MSIP, timer MTIP),
 * their enables and priority (privileged spec 3.1.9), mtvec vectored mode (3.1.7),
 * mepc of an interrupt, WFI (3.3.3), and M interrupts arriving in lower modes.
 */
#include "selftest.h"

#define BIT(n) (1u << (n))

static void quiet_clint(uint32_t irq) {
  if (irq == IRQ_MSI) mmio_write32(CLINT_MSIP(0), 0);
  if (irq == IRQ_MTI) clint_set_mtimecmp(~0ull);
  if (irq == IRQ_SSI || irq == IRQ_STI) csr_clear(mip, BIT(irq));
}

static uint32_t spin(uint32_t n) {
  for (volatile uint32_t i = 0; i < n; i++) {
  }
  return n;
}

static void test_pending_bits(void) {
  mmio_write32(CLINT_MSIP(0), 1);
  CHECK(mmio_read32(CLINT_MSIP(0)), 1);
  CHECK(csr_read(mip) & BIT(IRQ_MSI), BIT(IRQ_MSI));
  mmio_write32(CLINT_MSIP(0), 0);
  CHECK(csr_read(mip) & BIT(IRQ_MSI), 0);
  clint_set_mtimecmp(0);                       /* in the past: MTIP is pending */
  CHECK(csr_read(mip) & BIT(IRQ_MTI), BIT(IRQ_MTI));
  clint_set_mtimecmp(~0ull);
  CHECK(csr_read(mip) & BIT(IRQ_MTI), 0);
  /* mip.MSIP/MTIP cannot be written by software (they mirror the CLINT). */
  csr_set(mip, BIT(IRQ_MSI) | BIT(IRQ_MTI));
  CHECK(csr_read(mip) & (BIT(IRQ_MSI) | BIT(IRQ_MTI)), 0);
}

/* Enable MIE right before `1:`, where a pending interrupt must be taken: mepc = 1b. */
static uint32_t enable_and_mark(void) {
  uint32_t at;
  __asm__ volatile("la %0, 1f\n\tcsrsi mstatus, 8\n1:\tnop\n\tcsrci mstatus, 8"
                   : "=&r"(at) : : "memory");
  return at;
}

static void test_taken(void) {
  trap_reset();
  m_irq_hook = quiet_clint;
  csr_write(mie, BIT(IRQ_MSI) | BIT(IRQ_MTI));
  mmio_write32(CLINT_MSIP(0), 1);
  CHECK(mtrap.count, 0);                       /* MIE = 0: held pending */
  uint32_t at = enable_and_mark();
  CHECK(mtrap.count, 1);
  CHECK(mtrap.cause, INTERRUPT | IRQ_MSI);
  CHECK(mtrap.epc, at);
  CHECK(mtrap.tval, 0);
  CHECK(mtrap.status & (MSTATUS_MPIE | MSTATUS_MPP), MSTATUS_MPIE | MPP(PRV_M));
  trap_reset();
  m_irq_hook = quiet_clint;
  clint_set_mtimecmp(0);
  at = enable_and_mark();
  CHECK(mtrap.count, 1);
  CHECK(mtrap.cause, INTERRUPT | IRQ_MTI);
  CHECK(mtrap.epc, at);
  /* Priority (3.1.9): MEI > MSI > MTI > SEI > SSI > STI. QEMU 7.2 (without AIA)
   * takes the lowest-numbered pending interrupt first instead, so only pairs on
   * which both orders agree are checked: MSI before MTI, SSI before STI. */
  trap_reset();
  m_irq_hook = quiet_clint;
  csr_write(mie, BIT(IRQ_MSI) | BIT(IRQ_MTI) | BIT(IRQ_SSI) | BIT(IRQ_STI));
  clint_set_mtimecmp(0);
  mmio_write32(CLINT_MSIP(0), 1);
  csr_set(mstatus, MSTATUS_MIE);
  csr_clear(mstatus, MSTATUS_MIE);
  CHECK(mtrap.count, 2);
  CHECK(mtrap.causes[0], INTERRUPT | IRQ_MSI);
  CHECK(mtrap.causes[1], INTERRUPT | IRQ_MTI);
  trap_reset();
  m_irq_hook = quiet_clint;
  csr_write(mip, BIT(IRQ_SSI) | BIT(IRQ_STI));
  csr_set(mstatus, MSTATUS_MIE);
  csr_clear(mstatus, MSTATUS_MIE);
  CHECK(mtrap.count, 2);
  CHECK(mtrap.causes[0], INTERRUPT | IRQ_SSI);
  CHECK(mtrap.causes[1], INTERRUPT | IRQ_STI);
  csr_write(mip, 0);
  csr_write(mie, 0);
}

/* mtvec vectored: interrupt n enters at BASE + 4n, exceptions at BASE. */
static void test_vectored(void) {
  trap_reset();
  m_irq_hook = quiet_clint;
  csr_write(mtvec, (uintptr_t)m_vector_table | 1);
  CHECK(csr_read(mtvec), (uintptr_t)m_vector_table | 1);
  csr_write(mie, BIT(IRQ_MSI) | BIT(IRQ_MTI));
  mmio_write32(CLINT_MSIP(0), 1);
  enable_and_mark();
  CHECK(mtrap.cause, INTERRUPT | IRQ_MSI);
  CHECK(vector_slot, IRQ_MSI);
  clint_set_mtimecmp(0);
  enable_and_mark();
  CHECK(mtrap.cause, INTERRUPT | IRQ_MTI);
  CHECK(vector_slot, IRQ_MTI);
  __asm__ volatile("ebreak");
  CHECK(mtrap.cause, EXC_BREAKPOINT);
  CHECK(vector_slot, 0);
  csr_write(mtvec, (uintptr_t)trap_entry);
  csr_write(mie, 0);
}

/* WFI returns once an interrupt enabled in mie is pending, even with MIE = 0, and
 * then no trap is taken (3.3.3). The timer is set a little in the future. */
static void test_wfi(void) {
  trap_reset();
  m_irq_hook = quiet_clint;
  csr_write(mie, BIT(IRQ_MTI));
  uint64_t target = clint_mtime() + 2000;      /* 200 us */
  clint_set_mtimecmp(target);
  uint32_t rounds = 0;
  while (!(csr_read(mip) & BIT(IRQ_MTI)) && rounds < 1000000) {
    __asm__ volatile("wfi");
    rounds++;
  }
  CHECK(csr_read(mip) & BIT(IRQ_MTI), BIT(IRQ_MTI));
  CHECK_TRUE(clint_mtime() >= target);
  CHECK(mtrap.count, 0);
  enable_and_mark();
  CHECK(mtrap.count, 1);
  CHECK(mtrap.cause, INTERRUPT | IRQ_MTI);
  csr_write(mie, 0);
}

/* In S and U, machine interrupts are enabled whatever mstatus.MIE says (3.1.6.1). */
static void test_lower_modes(void) {
  static const uint32_t modes[] = {PRV_S, PRV_U};
  for (int i = 0; i < 2; i++) {
    trap_reset();
    m_irq_hook = quiet_clint;
    csr_write(mie, BIT(IRQ_MSI));
    mmio_write32(CLINT_MSIP(0), 1);
    CHECK(run_in_mode(modes[i], spin, 10), 10);
    CHECK(mtrap.count, 1);
    CHECK(mtrap.cause, INTERRUPT | IRQ_MSI);
    CHECK((mtrap.status & MSTATUS_MPP) >> 11, modes[i]);
  }
  csr_write(mie, 0);
}

void test_interrupts(void) {
  test_pending_bits();
  test_taken();
  test_vectored();
  test_wfi();
  test_lower_modes();
}
