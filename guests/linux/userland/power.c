/* Time and power: sleep, count, poweroff, reboot. */
#include "box.h"

/* sleep SECONDS, with a fraction ("0.5"). */
int sleep_main(int argc, char **argv) {
  if (argc != 2) return warn_msg("sleep", "usage: sleep SECONDS"), 1;
  char whole[24];
  const char *dot = strchr(argv[1], '.');
  size_t n = dot ? (size_t)(dot - argv[1]) : strlen(argv[1]);
  if (n >= sizeof whole) return warn_msg("sleep", "invalid time"), 1;
  memcpy(whole, argv[1], n), whole[n] = 0;
  u64 secs = 0, ns = 0, scale = 100000000;
  if ((n && !parse_u64(whole, &secs)) || (!n && !dot)) return warn_msg("sleep", "invalid time"), 1;
  for (const char *p = dot ? dot + 1 : ""; *p; p++, scale /= 10) {
    if (*p < '0' || *p > '9') return warn_msg("sleep", "invalid time"), 1;
    ns += (u64)(*p - '0') * scale;
  }
  while (sleep_ns(secs * 1000000000u + ns) < 0 && errno == EINTR) {}
  return 0;
}

/* Count to N in a loop the compiler cannot drop; the time goes on a "timing:" line, the
 * one kind of line allowed to differ between runs and machines (QEMU comparisons). */
int count_main(int argc, char **argv) {
  u64 n;
  if (argc != 2 || !parse_u64(argv[1], &n) || n > 0xffffffffu) return out("usage: count N\n"), 1;
  u64 t0 = now_us();
  volatile unsigned i = 0;
  while (i < n) i = i + 1;
  u64 us = now_us() - t0;
  out("counted to "), outu(i, 0), out("\n");
  out("timing: count "), outu(n, 0), out(" in "), outu(us / 1000000, 0), out(".");
  u64 ms = us / 1000 % 1000;
  out(ms < 100 ? (ms < 10 ? "00" : "0") : ""), outu(ms, 0), out(" s");
  if (us >= 1000) out(", "), outu(n / (us / 1000), 0), out(" thousand/s");
  out("\n");
  return 0;
}

#define REBOOT_MAGIC1 0xfee1dead
#define REBOOT_MAGIC2 672274793

static int power(const char *who, unsigned cmd) {
  my_syscall0(__NR_sync);
  /* The root file system read-only first, as an init's shutdown does: on a disk (ext2) the
   * superblock is then marked clean, and the next mount has nothing to warn about. A file
   * still open for writing makes it fail (EBUSY): the sync above is all there is then. */
  mount("/", "/", 0, MS_REMOUNT | MS_RDONLY, 0);
  out(who), out(": "), out(cmd == LINUX_REBOOT_CMD_POWER_OFF ? "powering off\n" : "rebooting\n");
  long r = my_syscall4(__NR_reboot, REBOOT_MAGIC1, REBOOT_MAGIC2, cmd, 0);
  errno = (int)-r;
  warn(who, 0);
  return 1;
}

int poweroff_main(int argc, char **argv) { return (void)argc, (void)argv, power("poweroff", LINUX_REBOOT_CMD_POWER_OFF); }
int reboot_main(int argc, char **argv) { return (void)argc, (void)argv, power("reboot", LINUX_REBOOT_CMD_RESTART); }
