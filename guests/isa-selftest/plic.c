/*
 * plic: an external interrupt end to end. The UART raises "transmitter holding
 * register empty" when IER.ETBEI is set and THR is empty (16550 datasheet; QEMU
 * hw/char/serial.c); the PLIC (RISC-V PLIC spec 1.0) routes source 10 to hart 0's
 * M context (0) or S context (1), where it is claimed and completed.
 */
#include "selftest.h"

#define BIT(n) (1u << (n))
#define PLIC_PRIORITY(src) (VIRT_PLIC_BASE + 4u * (src))
#define PLIC_PENDING       (VIRT_PLIC_BASE + 0x1000u)
#define PLIC_ENABLE(ctx)   (VIRT_PLIC_BASE + 0x2000u + 0x80u * (ctx))
#define PLIC_THRESHOLD(ctx) (VIRT_PLIC_BASE + 0x200000u + 0x1000u * (ctx))
#define PLIC_CLAIM(ctx)    (VIRT_PLIC_BASE + 0x200004u + 0x1000u * (ctx))
#define UART_IER (VIRT_UART0_BASE + 1)
#define UART_IIR (VIRT_UART0_BASE + 2)
#define IER_ETBEI 0x02
#define IIR_NO_INT 0x01
#define IIR_THRE 0x02
#define IRQ_UART VIRT_UART0_IRQ

static volatile uint32_t claimed, iir_seen;

/* What a driver's handler does: claim, quiet the device, complete. */
static void handle_external(uint32_t ctx) {
  uint32_t src = mmio_read32(PLIC_CLAIM(ctx));
  claimed = src;
  iir_seen = mmio_read8(UART_IIR) & 0x0f;
  mmio_write8(UART_IER, 0);
  mmio_write32(PLIC_CLAIM(ctx), src);
}
static void m_handler(uint32_t irq) { if (irq == IRQ_MEI) handle_external(0); }
static void s_handler(uint32_t irq) { if (irq == IRQ_SEI) handle_external(1); }

static uint32_t spin(uint32_t n) {
  for (volatile uint32_t i = 0; i < n; i++) {
  }
  return n;
}

static void test_polled(void) {
  mmio_write32(PLIC_PRIORITY(IRQ_UART), 1);
  CHECK(mmio_read32(PLIC_PRIORITY(IRQ_UART)), 1);
  mmio_write32(PLIC_ENABLE(0), BIT(IRQ_UART));
  CHECK(mmio_read32(PLIC_ENABLE(0)), BIT(IRQ_UART));
  mmio_write32(PLIC_THRESHOLD(0), 0);
  CHECK(mmio_read8(UART_IIR) & 0x0f, IIR_NO_INT);
  CHECK(csr_read(mip) & BIT(IRQ_MEI), 0);
  mmio_write8(UART_IER, IER_ETBEI);
  CHECK(mmio_read32(PLIC_PENDING) & BIT(IRQ_UART), BIT(IRQ_UART));
  CHECK(csr_read(mip) & BIT(IRQ_MEI), BIT(IRQ_MEI));
  /* Threshold >= priority masks the source at the hart, not in the pending array. */
  mmio_write32(PLIC_THRESHOLD(0), 1);
  CHECK(csr_read(mip) & BIT(IRQ_MEI), 0);
  mmio_write32(PLIC_THRESHOLD(0), 0);
  CHECK(csr_read(mip) & BIT(IRQ_MEI), BIT(IRQ_MEI));
  /* Claim: returns the source and clears its pending bit; a second claim gets 0. */
  CHECK(mmio_read32(PLIC_CLAIM(0)), IRQ_UART);
  CHECK(mmio_read32(PLIC_PENDING) & BIT(IRQ_UART), 0);
  CHECK(mmio_read32(PLIC_CLAIM(0)), 0);
  /* Reading IIR reports THRE and clears it (16550); then complete. */
  CHECK(mmio_read8(UART_IIR) & 0x0f, IIR_THRE);
  CHECK(mmio_read8(UART_IIR) & 0x0f, IIR_NO_INT);
  mmio_write8(UART_IER, 0);
  mmio_write32(PLIC_CLAIM(0), IRQ_UART);
  CHECK(csr_read(mip) & BIT(IRQ_MEI), 0);
  CHECK(mmio_read32(PLIC_PENDING) & BIT(IRQ_UART), 0);
}

static void test_trap_m(void) {
  trap_reset();
  claimed = iir_seen = 0;
  m_irq_hook = m_handler;
  csr_write(mie, BIT(IRQ_MEI));
  mmio_write8(UART_IER, IER_ETBEI);
  csr_set(mstatus, MSTATUS_MIE);
  csr_clear(mstatus, MSTATUS_MIE);
  CHECK(mtrap.count, 1);
  CHECK(mtrap.cause, INTERRUPT | IRQ_MEI);
  CHECK(claimed, IRQ_UART);
  CHECK(iir_seen, IIR_THRE);
  CHECK(csr_read(mip) & BIT(IRQ_MEI), 0);
  csr_write(mie, 0);
}

/* The S context: SEIP delegated, handled by the S-mode handler. */
static void test_trap_s(void) {
  mmio_write32(PLIC_ENABLE(0), 0);
  mmio_write32(PLIC_ENABLE(1), BIT(IRQ_UART));
  mmio_write32(PLIC_THRESHOLD(1), 0);
  csr_write(mideleg, BIT(IRQ_SEI));
  csr_write(mie, BIT(IRQ_SEI));
  trap_reset();
  claimed = iir_seen = 0;
  s_irq_hook = s_handler;
  mmio_write8(UART_IER, IER_ETBEI);
  CHECK(csr_read(mip) & (BIT(IRQ_SEI) | BIT(IRQ_MEI)), BIT(IRQ_SEI));
  csr_write(sstatus, MSTATUS_SIE);
  CHECK(run_in_mode(PRV_S, spin, 10), 10);
  CHECK(strap.count, 1);
  CHECK(strap.cause, INTERRUPT | IRQ_SEI);
  CHECK(mtrap.count, 0);
  CHECK(claimed, IRQ_UART);
  CHECK(iir_seen, IIR_THRE);
  CHECK(csr_read(mip) & BIT(IRQ_SEI), 0);
  csr_write(sstatus, 0);
  csr_write(mie, 0);
  csr_write(mideleg, 0);
  mmio_write32(PLIC_ENABLE(1), 0);
  mmio_write32(PLIC_PRIORITY(IRQ_UART), 0);
}

void test_plic(void) {
  test_polled();
  test_trap_m();
  test_trap_s();
}
