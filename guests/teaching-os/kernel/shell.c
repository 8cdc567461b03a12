/*
 * The shell: one command per line, words separated by spaces. Every line it prints is
 * the same on every run and every machine, except lines starting with "timing:" (the
 * convention of docs/guests.md), so the hvm image's output can be compared with QEMU's.
 */
#include "plat.h"
#include "net.h"

#define MAX_ARGS 16

struct cmd {
  const char *name, *args, *help;
  int (*fn)(int argc, char **argv);
};

static const struct cmd commands[];

/* lab.c: for the guided labs */
int cmd_dirty(int argc, char **argv);
int cmd_smc(int argc, char **argv);

static int need_number(const char *cmd, const char *arg, uint32_t min, uint32_t max, uint32_t *out) {
  if (!arg || parse_u32(arg, out) || *out < min || *out > max) {
    kprintf("%s: expected a number from %u to %u\n", cmd, min, max);
    return -1;
  }
  return 0;
}

static void not_on_hvm(const char *cmd, const char *why) {
  kprintf("%s: not available on hvm (%s)\n", cmd, why);
}

static int cmd_help(int argc, char **argv) {
  (void)argc, (void)argv;
  con_puts("commands:\n");
  for (const struct cmd *c = commands; c->name; c++) {
    char left[32];
    ksnprintf(left, sizeof left, "%s %s", c->name, c->args);
    kprintf("  %-20s %s\n", left, c->help);
  }
  return 0;
}

static int cmd_info(int argc, char **argv) {
  (void)argc, (void)argv;
  struct plat_info pi;
  plat_info(&pi);
  if (pi.domid < 0) kprintf("domain: %s\n", pi.type);
  else if (pi.name[0]) kprintf("domain: %d (%s)\n", pi.domid, pi.name);
  else kprintf("domain: %d\n", pi.domid);
  kprintf("type: %s, %s\n", pi.type, pi.detail);
  if (pi.max_kib && pi.max_kib != pi.mem_kib) kprintf("memory: %u KiB (maximum %u KiB)\n", pi.mem_kib, pi.max_kib);
  else kprintf("memory: %u KiB\n", pi.mem_kib);
  if (pi.vcpus_up != pi.vcpus) kprintf("vCPUs: %u (%u up)\n", pi.vcpus, pi.vcpus_up);
  else kprintf("vCPUs: %u\n", pi.vcpus);
  return 0;
}

static int cmd_ps(int argc, char **argv) {
  (void)argc, (void)argv;
  uint32_t all = ticks, idle = ticks_idle;
  con_puts("  PID  TASK   STATE\n");
  con_puts("    0  idle   ready\n");
  con_puts("    1  shell  running\n");
  kprintf("timing: ticks idle %u shell %u (%u at %u Hz)\n", idle, all - idle, all, TICK_HZ);
  return 0;
}

static int cmd_mem(int argc, char **argv) {
  (void)argc, (void)argv;
  uint32_t total = page_total(), free = page_count(PG_FREE), ballooned = page_count(PG_BALLOONED);
  kprintf("pages: %u total, %u free, %u in use, %u ballooned (4 KiB each)\n", total, free,
          total - free - ballooned, ballooned);
  kprintf("memory: %u KiB total, %u KiB free\n", total * 4, free * 4);
  return 0;
}

static int cmd_uptime(int argc, char **argv) {
  (void)argc, (void)argv;
  uint32_t t = ticks;
  kprintf("timing: up %u.%u s (%u ticks at %u Hz)\n", t / TICK_HZ, (t * 10 / TICK_HZ) % 10, t, TICK_HZ);
  return 0;
}

static int cmd_burn(int argc, char **argv) {
  uint32_t n;
  if (need_number("burn", argc > 1 ? argv[1] : 0, 1, 4000, &n)) return -1;
  con_drain();
  uint64_t t0 = time_ns();
  uint32_t x = 2463534242u;  /* xorshift32 (Marsaglia 2003) */
  for (uint32_t m = 0; m < n; m++)
    for (uint32_t i = 0; i < 1000000; i++) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
    }
  uint64_t ns = time_ns() - t0;
  if (!ns) ns = 1;
  char secs[32];
  fmt_seconds(secs, sizeof secs, ns, 3);
  uint64_t tenths = (uint64_t)n * 10000000000ull / ns;  /* tenths of a million per second */
  kprintf("burn: %u million iterations of xorshift32, result 0x%08x\n", n, x);
  kprintf("timing: burn %u million iterations in %s s (%llu.%llu million/s)\n", n, secs, tenths / 10, tenths % 10);
  return 0;
}

static int cmd_write(int argc, char **argv) {
  static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  uint32_t n;
  if (need_number("write", argc > 1 ? argv[1] : 0, 1, 1u << 30, &n)) return -1;
  con_drain();
  uint64_t t0 = time_ns();
  /* Lines of 62 characters and "\r\n": exactly n bytes reach the console. */
  char line[64];
  for (uint32_t off = 0, k = 0; off < n; off += 64, k++) {
    for (uint32_t p = 0; p < 62; p++) line[p] = alnum[(k + p) % 62];
    line[62] = '\r', line[63] = '\n';
    con_write_raw(line, n - off < 64 ? n - off : 64);
  }
  con_drain();
  uint64_t ns = time_ns() - t0;
  if (!ns) ns = 1;
  if (n % 64) con_putc('\n');
  char secs[32];
  fmt_seconds(secs, sizeof secs, ns, 6);
  kprintf("timing: write %u bytes in %s s (%llu KiB/s)\n", n, secs, (uint64_t)n * 1000000000ull / ns / 1024);
  return 0;
}

static int cmd_ping(int argc, char **argv) {
  uint32_t dom, count = 1000;
  if (need_number("evtping", argc > 1 ? argv[1] : 0, 0, 0x7fef, &dom)) return -1;
  if (argc > 2 && need_number("evtping", argv[2], 1, 1000000, &count)) return -1;
  int r = plat_ping(dom, count);
  if (r == PLAT_ENOTSUP) not_on_hvm("evtping", "no event channels");
  return r;
}

static int cmd_evtchn(int argc, char **argv) {
  int r = plat_evtchn(argc, argv);
  if (r == PLAT_ENOTSUP) not_on_hvm("evtchn", "no event channels");
  return r;
}

static int cmd_pong(int argc, char **argv) {
  uint32_t dom = 0;
  if (argc > 1 && need_number("pong", argv[1], 0, 0x7fef, &dom)) return -1;
  int r = plat_pong(argc > 1 ? (int32_t)dom : -1);
  if (r == PLAT_ENOTSUP) not_on_hvm("pong", "no event channels");
  return r;
}

static int cmd_share(int argc, char **argv) {
  uint32_t dom;
  char text[256];
  if (need_number("share", argc > 1 ? argv[1] : 0, 0, 0x7fef, &dom)) return -1;
  text[0] = 0;
  for (int i = 2; i < argc; i++) {
    size_t len = strlen(text);
    ksnprintf(text + len, sizeof text - len, "%s%s", i > 2 ? " " : "", argv[i]);
  }
  int r = plat_share(dom, text);
  if (r == PLAT_ENOTSUP) not_on_hvm("share", "no grant tables");
  return r;
}

static int cmd_peek(int argc, char **argv) {
  uint32_t dom;
  if (need_number("peek", argc > 1 ? argv[1] : 0, 0, 0x7fef, &dom)) return -1;
  int r = plat_peek(dom);
  if (r == PLAT_ENOTSUP) not_on_hvm("peek", "no grant tables");
  return r;
}

static int cmd_balloon(int argc, char **argv) {
  (void)argc, (void)argv;
  int r = plat_balloon();
  if (r == PLAT_ENOTSUP) not_on_hvm("balloon", "the board's memory is fixed: no xenstore, no memory_op");
  return r;
}

static int cmd_smp(int argc, char **argv) {
  uint32_t n = 100000;
  if (argc > 1 && need_number("smp", argv[1], 1, 10000000, &n)) return -1;
  int r = plat_smp(n);
  if (r == PLAT_ENOTSUP) not_on_hvm("smp", "one hart on the virt board");
  return r;
}

static int cmd_xs(int argc, char **argv) {
  int r = plat_xs(argc, argv);
  if (r == PLAT_ENOTSUP) not_on_hvm("xs", "no xenstore");
  return r;
}

static int cmd_disk(int argc, char **argv) {
  int r = plat_disk(argc, argv);
  if (r == PLAT_ENOTSUP) not_on_hvm("disk", "no block device here");
  return r;
}

static int cmd_shutdown(int argc, char **argv) {
  (void)argc, (void)argv;
  con_puts("shutdown: powering off\n");
  con_drain();
  plat_poweroff();
}

static int cmd_reboot(int argc, char **argv) {
  (void)argc, (void)argv;
  con_puts("reboot: restarting\n");
  con_drain();
  plat_reboot();
}

static const struct cmd commands[] = {
  {"help", "", "this list", cmd_help},
  {"info", "", "domain id, type, memory, vCPUs", cmd_info},
  {"ps", "", "the kernel's tasks and their ticks", cmd_ps},
  {"mem", "", "page frames: total, free, ballooned", cmd_mem},
  {"uptime", "", "time since boot, from the timer", cmd_uptime},
  {"burn", "N", "spin the CPU for N million iterations", cmd_burn},
  {"write", "N", "write N bytes of text to the console", cmd_write},
  {"dirty", "PAGES SECS", "rewrite PAGES pages for SECS seconds (lab 10)", cmd_dirty},
  {"smc", "[N]", "rewrite our own code N times (lab 11)", cmd_smc},
  {"evtping", "DOMID [N]", "N event-channel round trips with DOMID's pong (pv)", cmd_ping},
  {"pong", "[DOMID]", "answer a ping from DOMID or anyone (pv)", cmd_pong},
  {"evtchn", "[mask PORT MS]", "bound ports and their upcalls; mask one for MS ms (pv)", cmd_evtchn},
  {"share", "DOMID [TEXT]", "grant DOMID a page holding TEXT (pv)", cmd_share},
  {"peek", "DOMID", "map and print the page DOMID shared with us (pv)", cmd_peek},
  {"balloon", "", "balloon target and size; follows xl mem-set (pv)", cmd_balloon},
  {"smp", "[N]", "every vCPU adds N to shared counters at once (pv)", cmd_smp},
  {"xs", "OP PATH", "xenstore: ls, read, write, rm, watch, unwatch, incr (pv)", cmd_xs},
  {"ifconfig", "[dhcp | A.B.C.D[/N]]", "eth0: show it, or set its address", net_cmd_ifconfig},
  {"ping", "A.B.C.D [N]", "ICMP echo, N times, with round-trip times", net_cmd_ping},
  {"udp", "send A.B.C.D PORT TEXT | listen PORT [N]", "send or receive UDP datagrams", net_cmd_udp},
  {"arp", "", "the ARP cache", net_cmd_arp},
  {"disk", "[OP ...]", "disks: list, read, write, flush, bench", cmd_disk},
  {"shutdown", "", "power off", cmd_shutdown},
  {"reboot", "", "restart", cmd_reboot},
  {0, 0, 0, 0},
};

void shell_run(void) {
  static char line[128];
  char prompt[72];
  struct plat_info pi;
  plat_info(&pi);
  ksnprintf(prompt, sizeof prompt, "%s$ ", pi.name[0] ? pi.name : "tos");
  con_puts("type help for the list of commands\n");
  for (;;) {
    con_readline(prompt, line, sizeof line);
    char *argv[MAX_ARGS];
    int argc = 0;
    for (char *p = line; *p && argc < MAX_ARGS;) {
      while (*p == ' ' || *p == '\t') *p++ = 0;
      if (!*p) break;
      argv[argc++] = p;
      while (*p && *p != ' ' && *p != '\t') p++;
    }
    if (!argc) continue;
    const struct cmd *c = commands;
    while (c->name && strcmp(c->name, argv[0])) c++;
    if (c->name) c->fn(argc, argv);
    else kprintf("%s: unknown command (type help)\n", argv[0]);
  }
}
