/* The system: ps, free, uptime, dmesg, uname, kill. */
#include "box.h"

/* ---- ps: /proc/PID/stat (state, ppid, times) and /proc/PID/cmdline ---- */
static int ps_entry(const char *name, int type, void *arg) {
  char path[64], buf[512];
  (void)type, (void)arg;
  if (name[0] < '0' || name[0] > '9') return 0;
  path_join(path, sizeof path, "/proc", name);
  strlcat(path, "/stat", sizeof path);
  if (read_file(path, buf, sizeof buf) <= 0) return 0;
  /* "PID (COMM) S PPID ..." : COMM may hold spaces and parentheses, so the last ')' ends it */
  char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
  if (!open_paren || !close_paren) return 0;
  *close_paren = 0;
  char comm[32];
  strlcpy(comm, open_paren + 1, sizeof comm);
  char *p = close_paren + 2, state = *p;
  long ppid = strtol(p + 2, 0, 10);
  char cmd[256];
  path_join(path, sizeof path, "/proc", name);
  strlcat(path, "/cmdline", sizeof path);
  long n = read_file(path, cmd, sizeof cmd);
  for (long i = 0; i + 1 < n; i++)
    if (!cmd[i]) cmd[i] = ' ';
  outs(name, 5), outu((u64)ppid, 6), out(" "), outn(&state, 1), out(" ");
  if (n > 0) out(cmd);
  else out("["), out(comm), out("]");
  out("\n");
  return 0;
}

/* each_entry gives /proc's order, which is the pid order. */
int ps_main(int argc, char **argv) {
  (void)argc, (void)argv;
  out("  PID  PPID S COMMAND\n");
  return each_entry("/proc", ps_entry, 0) < 0 ? (warn("ps", "/proc"), 1) : 0;
}

/* ---- free: /proc/meminfo ---- */
static u64 meminfo_kb(const char *text, const char *key) {
  size_t n = strlen(key);
  for (const char *p = text; *p;) {
    if (!strncmp(p, key, n) && p[n] == ':') return (u64)strtoul(p + n + 1, 0, 10);
    p = strchr(p, '\n');
    if (!p) break;
    p++;
  }
  return 0;
}

int free_main(int argc, char **argv) {
  static char text[2048];
  (void)argc, (void)argv;
  if (read_file("/proc/meminfo", text, sizeof text) < 0) return warn("free", "/proc/meminfo"), 1;
  u64 total = meminfo_kb(text, "MemTotal"), mfree = meminfo_kb(text, "MemFree");
  u64 shared = meminfo_kb(text, "Shmem"), buffers = meminfo_kb(text, "Buffers");
  u64 cache = meminfo_kb(text, "Cached") + meminfo_kb(text, "SReclaimable");
  u64 avail = meminfo_kb(text, "MemAvailable"), used = total - mfree - buffers - cache;
  if (used > total) used = total - mfree;
  out("               total        used        free      shared  buff/cache   available\n");
  out("Mem:    "), outu(total, 12), outu(used, 12), outu(mfree, 12), outu(shared, 12), outu(buffers + cache, 12), outu(avail, 12), out("\n");
  u64 stotal = meminfo_kb(text, "SwapTotal"), sfree = meminfo_kb(text, "SwapFree");
  out("Swap:   "), outu(stotal, 12), outu(stotal - sfree, 12), outu(sfree, 12), out("\n");
  return 0;
}

/* ---- uptime: " 00:01:02 up 3 min,  load average: 0.00, 0.01, 0.00" ---- */
int uptime_main(int argc, char **argv) {
  char up[64], load[64];
  (void)argc, (void)argv;
  if (read_file("/proc/uptime", up, sizeof up) < 0 || read_file("/proc/loadavg", load, sizeof load) < 0)
    return warn("uptime", "/proc"), 1;
  struct ts64 now = {0, 0};
  clock_now(0, &now);
  u64 secs = (u64)strtoul(up, 0, 10), t = (u64)now.sec % 86400;
  char hms[10] = "00:00:00 ";
  for (int i = 0; i < 3; i++) {
    u64 v = i == 0 ? t / 3600 : i == 1 ? t / 60 % 60 : t % 60;
    hms[i * 3] = (char)('0' + v / 10), hms[i * 3 + 1] = (char)('0' + v % 10);
  }
  out(" "), out(hms), out("up ");
  if (secs >= 86400) outu(secs / 86400, 0), out(secs >= 2 * 86400 ? " days, " : " day, ");
  if (secs % 86400 >= 3600) {
    outu(secs % 86400 / 3600, 0), out(":");
    u64 m = secs / 60 % 60;
    if (m < 10) out("0");
    outu(m, 0);
  } else {
    outu(secs / 60 % 60, 0), out(" min");
  }
  /* loadavg: "0.00 0.01 0.00 1/23 45" */
  char *p = load, *l[3];
  for (int i = 0; i < 3; i++) {
    l[i] = p;
    while (*p && *p != ' ') p++;
    if (*p) *p++ = 0;
  }
  out(",  load average: "), out(l[0]), out(", "), out(l[1]), out(", "), out(l[2]), out("\n");
  return 0;
}

/* ---- dmesg [-c]: syslog(2) READ_ALL (3), or READ_CLEAR (4) ---- */
int dmesg_main(int argc, char **argv) {
  int clear = argc > 1 && !strcmp(argv[1], "-c");
  int size = klog(10, 0, 0); /* SYSLOG_ACTION_SIZE_BUFFER */
  if (size <= 0) size = 16384;
  char *buf = malloc((size_t)size);
  if (!buf) return warn("dmesg", 0), 1;
  int n = klog(clear ? 4 : 3, buf, size);
  if (n < 0) return warn("dmesg", 0), 1;
  /* Lines start with "<N>" (the level): drop it, as util-linux's dmesg does. */
  for (int i = 0; i < n;) {
    int end = i;
    while (end < n && buf[end] != '\n') end++;
    int start = i;
    if (buf[start] == '<') {
      int j = start + 1;
      while (j < end && buf[j] >= '0' && buf[j] <= '9') j++;
      if (j < end && buf[j] == '>') start = j + 1;
    }
    outn(buf + start, (size_t)(end - start + (end < n)));
    i = end + 1;
  }
  free(buf);
  return 0;
}

/* ---- uname [-asnrvm] ---- */
int uname_main(int argc, char **argv) {
  struct utsname u;
  int fields = 0; /* s n r v m = bits 0..4 */
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] != '-') return warn_msg("uname", "usage: uname [-asnrvm]"), 1;
    for (const char *f = argv[i] + 1; *f; f++) {
      const char *all = "snrvm", *at = strchr(all, *f);
      if (*f == 'a') fields |= 31;
      else if (at && *f) fields |= 1 << (at - all);
      else return warn_msg("uname", "usage: uname [-asnrvm]"), 1;
    }
  }
  if (!fields) fields = 1;
  if (uname(&u) < 0) return warn("uname", 0), 1;
  const char *vals[5] = {u.sysname, u.nodename, u.release, u.version, u.machine};
  int first = 1;
  for (int k = 0; k < 5; k++)
    if (fields & (1 << k)) out(first ? "" : " "), out(vals[k]), first = 0;
  out("\n");
  return 0;
}

/* ---- kill [-SIG] PID... (SIG a number, or HUP INT KILL TERM) ---- */
int kill_main(int argc, char **argv) {
  int sig = 15, i = 1, status = 0;
  if (i < argc && argv[i][0] == '-') {
    const char *s = argv[i++] + 1;
    u64 n;
    if (parse_u64(s, &n)) sig = (int)n;
    else if (!strcmp(s, "HUP")) sig = 1;
    else if (!strcmp(s, "INT")) sig = 2;
    else if (!strcmp(s, "KILL")) sig = 9;
    else if (!strcmp(s, "TERM")) sig = 15;
    else return warn_msg("kill", "unknown signal"), 1;
  }
  if (i == argc) return warn_msg("kill", "usage: kill [-SIG] PID..."), 1;
  for (; i < argc; i++)
    if (kill((pid_t)strtol(argv[i], 0, 10), sig) < 0) warn("kill", argv[i]), status = 1;
  return status;
}
