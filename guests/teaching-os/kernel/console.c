/*
 * The console line discipline: buffered output with "\n" -> "\r\n", an input buffer
 * that the platform's interrupt handler fills, and line editing for the shell.
 *
 * Input is echoed by the reader, not by the interrupt handler: whatever moment the
 * bytes arrive at (typed one by one, or a whole script at once before the prompt is
 * even printed), the output is the same, which keeps runs comparable with QEMU's.
 */
#include "plat.h"

/* ---- output ---- */

static char obuf[512];
static size_t olen;

void con_flush(void) {
  if (olen) {
    size_t n = olen;
    olen = 0;
    plat_console_write(obuf, n);
  }
}

void con_drain(void) {
  con_flush();
  plat_console_drain();
}

void con_write_raw(const char *s, size_t n) {
  while (n) {
    size_t k = sizeof obuf - olen;
    if (k > n) k = n;
    memcpy(obuf + olen, s, k);
    olen += k, s += k, n -= k;
    if (olen == sizeof obuf) con_flush();
  }
}

void con_putc(char c) {
  if (c == '\n') con_putc('\r');
  obuf[olen++] = c;
  if (olen == sizeof obuf) con_flush();
}

void con_puts(const char *s) {
  while (*s) con_putc(*s++);
}

/* kprintf's sink (guests/common/printf.c writes through uart_putc): the line discipline,
 * on either platform. The teaching OS is linked without common/uart.c. */
void uart_putc(char c) { con_putc(c); }
void uart_puts(const char *s) { con_puts(s); }

/* ---- input: a single-producer (interrupt) single-consumer (shell) ring ---- */

#define IBUF_SIZE 512u  /* power of two */
static uint8_t ibuf[IBUF_SIZE];
static volatile uint32_t ihead, itail;  /* written by con_rx / by the reader */
static volatile int ibreak;             /* Ctrl-C seen */
static volatile int ifull;              /* the platform found no room: kick it later */

size_t con_rx_room(void) {
  size_t room = IBUF_SIZE - (ihead - itail);
  if (!room) ifull = 1;
  return room;
}

void con_rx(uint8_t c) {
  if (c == 0x03) {  /* Ctrl-C: a signal, not a character */
    ibreak = 1;
    return;
  }
  if (ihead - itail < IBUF_SIZE) {
    ibuf[ihead % IBUF_SIZE] = c;
    barrier();
    ihead = ihead + 1;
  }
}

int con_break(void) {
  int b = ibreak;
  ibreak = 0;
  return b;
}

static int input_ready(void *arg) {
  (void)arg;
  return ihead != itail || ibreak || plat_has_work();
}

static int getc_nowait(void) {
  if (ihead == itail) return -1;
  uint8_t c = ibuf[itail % IBUF_SIZE];
  barrier();
  itail = itail + 1;
  if (ifull && ihead - itail <= IBUF_SIZE / 2) {
    ifull = 0;
    plat_console_rx_kick();
  }
  return c;
}

/* ---- line editing ---- */

static const char *edit_prompt;  /* non-NULL while con_readline waits */
static char *edit_buf;
static size_t edit_len;

static void redraw(void) {
  con_puts(edit_prompt);
  con_write_raw(edit_buf, edit_len);
}

void con_notice(const char *fmt, ...) {
  va_list ap;
  if (edit_prompt) con_putc('\n');
  va_start(ap, fmt);
  kvprintf(fmt, ap);
  va_end(ap);
  if (edit_prompt) redraw();
  con_flush();
}

size_t con_readline(const char *prompt, char *buf, size_t cap) {
  static int last_cr, esc;  /* "\r\n" counts once; ESC [ ... sequences are skipped */
  size_t len = 0;
  edit_prompt = prompt, edit_buf = buf, edit_len = 0;
  con_puts(prompt);
  for (;;) {
    con_flush();
    kwait(input_ready, 0, 0, 0);
    if (plat_has_work()) plat_do_work();
    if (con_break()) {
      con_puts("^C\n");
      len = edit_len = 0;
      redraw();
      continue;
    }
    int c;
    while ((c = getc_nowait()) >= 0) {
      if (esc == 1) {
        esc = c == '[' ? 2 : 0;
        continue;
      }
      if (esc == 2) {
        if (c >= 0x40 && c <= 0x7e) esc = 0;
        continue;
      }
      if (c == '\n' && last_cr) {
        last_cr = 0;
        continue;
      }
      last_cr = c == '\r';
      if (c == '\r' || c == '\n') {
        con_putc('\n');
        buf[len] = 0;
        edit_prompt = 0;
        return len;
      }
      if (c == 0x1b) {
        esc = 1;
      } else if (c == 0x7f || c == 0x08) {  /* backspace / delete */
        if (len) {
          len--;
          con_write_raw("\b \b", 3);
        }
      } else if (c == 0x15) {  /* Ctrl-U: kill the line */
        for (; len; len--) con_write_raw("\b \b", 3);
      } else if (c >= 0x20 && c < 0x7f && len + 1 < cap) {
        buf[len++] = (char)c;
        con_putc((char)c);
      }
      edit_len = len;
    }
  }
}
