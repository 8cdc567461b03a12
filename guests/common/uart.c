/*
 * NS16550A UART at 0x10000000 (QEMU hw/char/serial.c), polled.
 * Registers (byte offsets, DLAB = 0): 0 RBR/THR, 1 IER, 2 IIR/FCR, 3 LCR, 5 LSR.
 * QEMU needs no baud-rate setup, so none is done: guests stay short and the
 * device model sees as few register accesses as possible.
 */
#include "runtime.h"

#define UART_RBR 0
#define UART_THR 0
#define UART_LSR 5
#define LSR_DR   0x01  /* data ready */
#define LSR_THRE 0x20  /* transmit holding register empty */

void uart_putc(char c) {
  if (c == '\n') uart_putc('\r');
  while (!(mmio_read8(VIRT_UART0_BASE + UART_LSR) & LSR_THRE)) {
  }
  mmio_write8(VIRT_UART0_BASE + UART_THR, (uint8_t)c);
}

int uart_getc(void) {
  if (!(mmio_read8(VIRT_UART0_BASE + UART_LSR) & LSR_DR)) return -1;
  return mmio_read8(VIRT_UART0_BASE + UART_RBR);
}

void uart_puts(const char *s) {
  while (*s) uart_putc(*s++);
}
