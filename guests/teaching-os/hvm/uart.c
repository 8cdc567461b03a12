/*
 * The 16550A UART (QEMU hw/char/serial.c), interrupt-driven for input, polled for output.
 *
 * The FIFOs stay off (16450 mode). Enabling them flushes the receiver (16550 data sheet;
 * QEMU's FCR write forces RFR|XFR when FE changes), so a byte the host delivered before
 * the driver got there, as when a whole script is piped in at boot, would be lost; and
 * draining RBR first still races with the next byte (measured under QEMU: about 1 run in
 * 50 under load). Without the FIFO the device itself is the flow control: while RBR
 * holds an unread byte (LSR.DR) the host keeps the rest of its input, so nothing is lost.
 *
 * Receive: the "received data" interrupt (PLIC source 10) fires while a byte waits; the
 * handler moves what it can into the kernel's input buffer. When that buffer is full it
 * turns the interrupt off and leaves the byte in RBR (the host holds back the rest); the
 * kernel kicks it back on once it has made room.
 *
 * Transmit: wait for THRE, write THR, one byte at a time.
 */
#include "hvm.h"

#define UART_RBR 0
#define UART_THR 0
#define UART_IER 1
#define UART_LCR 3
#define UART_LSR 5

#define IER_RDI   0x01          /* received data available */
#define LCR_8N1   0x03
#define LSR_DR    0x01
#define LSR_THRE  0x20
#define LSR_TEMT  0x40

static volatile int rx_throttled;

static uint8_t reg_read(unsigned r) { return mmio_read8(VIRT_UART0_BASE + r); }
static void reg_write(unsigned r, uint8_t v) { mmio_write8(VIRT_UART0_BASE + r, v); }

void uart_init(void) {
  reg_write(UART_IER, 0);
  reg_write(UART_LCR, LCR_8N1);
  reg_write(UART_IER, IER_RDI);
}

void uart_write(const char *buf, size_t n) {
  for (size_t i = 0; i < n; i++) {
    while (!(reg_read(UART_LSR) & LSR_THRE)) {
    }
    reg_write(UART_THR, (uint8_t)buf[i]);
  }
}

void uart_drain(void) {
  for (int i = 0; i < 1000000 && !(reg_read(UART_LSR) & LSR_TEMT); i++) {
  }
}

void uart_isr(void) {
  while (reg_read(UART_LSR) & LSR_DR) {
    if (!con_rx_room()) {
      reg_write(UART_IER, 0);  /* throttle: the byte waits in RBR, the host holds the rest */
      rx_throttled = 1;
      return;
    }
    con_rx(reg_read(UART_RBR));
  }
}

void uart_rx_kick(void) {
  uint32_t s = plat_irq_disable();
  if (rx_throttled) {
    rx_throttled = 0;
    reg_write(UART_IER, IER_RDI);  /* RBR still full: the interrupt comes straight back */
  }
  plat_irq_restore(s);
}
