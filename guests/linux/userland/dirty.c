/*
 * dirty [-b MIB] MIB_PER_S [SECONDS]
 * Dirties memory at a set rate, the workload of the live-migration benchmark (bench/migrate.ts:
 * "a Linux dirtying memory at a set rate"). It walks round a buffer of MIB MiB (default 16),
 * rewriting MIB_PER_S MiB of it a second, whole 4 KiB pages at a time, every word of a page
 * with a value that changes on each pass (so no page is ever a page of zeros, which a
 * migration stream would send without data). The writes are paced in 10 ms slices: each
 * slice catches up to rate x elapsed time, so the pages dirtied between two looks of the
 * migration's log-dirty are spread over the buffer at the rate asked. Runs SECONDS seconds
 * (fractions allowed), or until killed; then prints what it wrote:
 *   dirty: 8 MiB (2048 pages) in 2.001 s, 3.9 MiB/s, buffer 16 MiB
 */
#include "box.h"

#define PAGE 4096u

/* "2", "0.5", "1.25": milliseconds, 1 if ok. */
static int parse_ms(const char *s, u64 *ms) {
  u64 whole = 0, frac = 0, scale = 100;
  int digits = 0;
  for (; *s >= '0' && *s <= '9'; s++, digits++) {
    whole = whole * 10 + (u64)(*s - '0');
    if (whole > 100000000ull) return 0;
  }
  if (*s == '.')
    for (s++; *s >= '0' && *s <= '9'; s++, digits++, scale /= 10) frac += (u64)(*s - '0') * scale;
  if (*s || !digits) return 0;
  *ms = whole * 1000 + frac;
  return 1;
}

static volatile int stop;
static void on_signal(int sig) { (void)sig, stop = 1; }

int dirty_main(int argc, char **argv) {
  u64 buf_mib = 16, rate = 0, limit_ms = 0;
  int i = 1;
  if (i + 1 < argc && !strcmp(argv[i], "-b")) {
    if (!parse_u64(argv[i + 1], &buf_mib) || buf_mib < 1 || buf_mib > 1024) return warn_msg("dirty", "-b: a buffer of 1 to 1024 MiB"), 1;
    i += 2;
  }
  if (argc - i < 1 || argc - i > 2) return warn_msg("dirty", "usage: dirty [-b MIB] MIB_PER_S [SECONDS]"), 1;
  if (!parse_u64(argv[i], &rate) || rate < 1 || rate > 1024) return warn_msg("dirty", "MIB_PER_S: 1 to 1024"), 1;
  if (argc - i == 2 && (!parse_ms(argv[i + 1], &limit_ms) || !limit_ms)) return warn_msg("dirty", "SECONDS: a positive number"), 1;
  u64 pages = buf_mib * (1024 * 1024 / PAGE);
  unsigned *buf = malloc((size_t)(pages * PAGE));
  if (!buf) return warn("dirty", "buffer"), 1;
  catch_signal(SIGINT, on_signal), catch_signal(SIGTERM, on_signal);
  u64 t0 = now_us(), written = 0, next = 0; /* pages written; the next page to write */
  unsigned pass = 1;
  while (!stop) {
    u64 us = now_us() - t0;
    if (limit_ms && us >= limit_ms * 1000) break;
    /* pages due by now: rate MiB/s = rate * 256 pages/s */
    u64 due = rate * (1024 * 1024 / PAGE) * us / 1000000;
    for (; written < due && !stop; written++) {
      unsigned *p = buf + next * (PAGE / sizeof(unsigned));
      for (unsigned w = 0; w < PAGE / sizeof(unsigned); w++) p[w] = pass ^ w;
      if (++next == pages) next = 0, pass++;
    }
    sleep_ns(10 * 1000 * 1000);
  }
  u64 us = now_us() - t0;
  u64 bytes = written * PAGE;
  char frac[4];
  u64 ms = us / 1000 % 1000;
  frac[0] = (char)('0' + ms / 100), frac[1] = (char)('0' + ms / 10 % 10), frac[2] = (char)('0' + ms % 10), frac[3] = 0;
  u64 tenths = us ? bytes * 10 * 1000000 / us / (1024 * 1024) : 0;
  out("dirty: "), outu(bytes / (1024 * 1024), 0), out(" MiB ("), outu(written, 0), out(" pages) in "), outu(us / 1000000, 0), out("."), out(frac);
  out(" s, "), outu(tenths / 10, 0), out("."), outu(tenths % 10, 0), out(" MiB/s, buffer "), outu(buf_mib, 0), out(" MiB\n");
  free(buf);
  return 0;
}
