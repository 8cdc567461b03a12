/*
 * /init of hyperlab's Linux guests: a banner, the pseudo file systems, and a tiny shell
 * on the console. rv32 has no libc in Debian, so this is freestanding C over raw system
 * calls (the asm-generic numbers, 32-bit with 64-bit time).
 *
 * It is linked as a static PIE with no dynamic relocations (guests/linux/build.sh checks
 * that), which the no-MMU kernel's ELF-FDPIC loader accepts as a "constant displacement"
 * ELF and runs wherever it lands: all code and data are reached PC-relative.
 *
 * The console is put in raw mode (no ICANON, no ECHO) and the shell echoes what it
 * reads itself, one character at a time as it consumes it. So however fast the input
 * arrives, the transcript is prompt, command, answer, prompt: identical on every machine.
 *
 * Commands: help, echo ARGS, cat FILE..., ls [DIR], uname, count N, poweroff.
 */
#pragma GCC visibility push(hidden)

typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long s64;

/* ---- system calls (riscv32: asm-generic unistd, time64 only) ---- */
enum {
  SYS_ioctl = 29, SYS_mkdirat = 34, SYS_mount = 40, SYS_openat = 56, SYS_close = 57,
  SYS_getdents64 = 61, SYS_read = 63, SYS_write = 64, SYS_exit = 93, SYS_syslog = 116, SYS_reboot = 142,
  SYS_uname = 160, SYS_clock_gettime64 = 403,
};

static long syscall6(long n, long a, long b, long c, long d, long e, long f) {
  register long a7 __asm__("a7") = n;
  register long a0 __asm__("a0") = a;
  register long a1 __asm__("a1") = b;
  register long a2 __asm__("a2") = c;
  register long a3 __asm__("a3") = d;
  register long a4 __asm__("a4") = e;
  register long a5 __asm__("a5") = f;
  __asm__ volatile("ecall"
                   : "+r"(a0)
                   : "r"(a7), "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5)
                   : "memory");
  return a0;
}
#define SYSCALL(n, a, b, c, d) syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

#define AT_FDCWD (-100)
#define O_RDONLY 0
#define O_DIRECTORY 0x10000
#define CLOCK_MONOTONIC 1
#define TCGETS 0x5401
#define TCSETS 0x5402

struct termios {
  u32 c_iflag, c_oflag, c_cflag, c_lflag;
  unsigned char c_line;
  unsigned char c_cc[19];
};
#define ISIG 0x1
#define ICANON 0x2
#define ECHO 0x8
#define ECHOE 0x10
#define ECHOK 0x20
#define ECHONL 0x40
#define IEXTEN 0x8000
#define VTIME 5
#define VMIN 6

struct utsname {
  char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
};

struct timespec64 {
  s64 tv_sec;
  s64 tv_nsec;
};

struct dirent64 {
  u64 d_ino;
  s64 d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};
#define DT_DIR 4

/* ---- the few library functions the compiler may call ---- */
void *memset(void *d, int c, unsigned long n) {
  unsigned char *p = d;
  while (n--) *p++ = (unsigned char)c;
  return d;
}

void *memcpy(void *d, const void *s, unsigned long n) {
  unsigned char *p = d;
  const unsigned char *q = s;
  while (n--) *p++ = *q++;
  return d;
}

static u32 slen(const char *s) {
  u32 n = 0;
  while (s[n]) n++;
  return n;
}

static int seq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

static int scmp(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return (unsigned char)*a - (unsigned char)*b;
}

/* ---- output ---- */
static void put(const char *s) { SYSCALL(SYS_write, 1, s, slen(s), 0); }
static void putn(const char *s, u32 n) { SYSCALL(SYS_write, 1, s, n, 0); }

static void putu(u32 v) {
  char buf[11];
  int i = sizeof buf;
  do buf[--i] = (char)('0' + v % 10), v /= 10; while (v);
  putn(buf + i, sizeof buf - i);
}

/* "error N" for a failed system call (-errno). */
static void perr(const char *what, const char *arg, long ret) {
  put(what);
  if (arg) put(": "), put(arg);
  put(": error ");
  putu((u32)-ret);
  put("\n");
}

/* ---- commands ---- */
static void cmd_help(void) {
  put("commands: help, echo ARGS, cat FILE..., ls [DIR], uname, count N, poweroff\n");
}

static void cmd_cat(char **argv, int argc) {
  static char buf[1024];
  for (int i = 1; i < argc; i++) {
    long fd = SYSCALL(SYS_openat, AT_FDCWD, argv[i], O_RDONLY, 0);
    if (fd < 0) {
      perr("cat", argv[i], fd);
      continue;
    }
    long n;
    while ((n = SYSCALL(SYS_read, fd, buf, sizeof buf, 0)) > 0) putn(buf, (u32)n);
    if (n < 0) perr("cat", argv[i], n);
    SYSCALL(SYS_close, fd, 0, 0, 0);
  }
}

static void cmd_ls(const char *dir) {
  static char buf[4096];
  static char names[4096];
  static char *sorted[256];
  int count = 0;
  u32 used = 0;
  long fd = SYSCALL(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY, 0);
  if (fd < 0) {
    perr("ls", dir, fd);
    return;
  }
  long n;
  while ((n = SYSCALL(SYS_getdents64, fd, buf, sizeof buf, 0)) > 0) {
    for (long off = 0; off < n;) {
      struct dirent64 *d = (struct dirent64 *)(buf + off);
      off += d->d_reclen;
      const char *name = d->d_name;
      if (seq(name, ".") || seq(name, "..")) continue;
      u32 len = slen(name);
      if (count == 256 || used + len + 2 > sizeof names) continue;
      char *copy = names + used;
      memcpy(copy, name, len);
      if (d->d_type == DT_DIR) copy[len++] = '/';
      copy[len] = 0;
      used += len + 1;
      /* insertion sort: the listing does not depend on the directory's order */
      int j = count++;
      while (j > 0 && scmp(sorted[j - 1], copy) > 0) sorted[j] = sorted[j - 1], j--;
      sorted[j] = copy;
    }
  }
  if (n < 0) perr("ls", dir, n);
  SYSCALL(SYS_close, fd, 0, 0, 0);
  for (int i = 0; i < count; i++) put(sorted[i]), put("\n");
}

static void cmd_uname(void) {
  static struct utsname u;
  long r = SYSCALL(SYS_uname, &u, 0, 0, 0);
  if (r < 0) {
    perr("uname", 0, r);
    return;
  }
  put(u.sysname), put(" "), put(u.nodename), put(" "), put(u.release), put(" ");
  put(u.version), put(" "), put(u.machine), put("\n");
}

static int parse_u32(const char *s, u32 *out) {
  u32 v = 0;
  if (!*s) return 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return 0;
    u32 d = (u32)(*s - '0');
    if (v > (0xffffffffu - d) / 10) return 0;
    v = v * 10 + d;
  }
  *out = v;
  return 1;
}

static u32 now_us(void) {
  struct timespec64 t;
  SYSCALL(SYS_clock_gettime64, CLOCK_MONOTONIC, &t, 0, 0);
  return (u32)t.tv_sec * 1000000u + (u32)t.tv_nsec / 1000u;
}

/* Count to N in a loop the compiler cannot drop; the time goes on a "timing:" line,
 * the one kind of line allowed to differ between runs and machines. */
static void cmd_count(const char *arg) {
  u32 n;
  if (!arg || !parse_u32(arg, &n)) {
    put("usage: count N\n");
    return;
  }
  u32 t0 = now_us();
  volatile u32 i = 0;
  while (i < n) i = i + 1;
  u32 us = now_us() - t0;
  put("counted to "), putu(i), put("\n");
  put("timing: count "), putu(n), put(" in "), putu(us / 1000000u), put(".");
  u32 ms = us / 1000u % 1000u;
  put(ms < 100 ? (ms < 10 ? "00" : "0") : ""), putu(ms), put(" s");
  if (us >= 1000) put(", "), putu(n / (us / 1000u)), put(" thousand/s");
  put("\n");
}

static void cmd_poweroff(void) {
  put("init: powering off\n");
  long r = SYSCALL(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc /* POWER_OFF */, 0);
  perr("poweroff", 0, r);
}

static void run(char *line) {
  char *argv[16];
  int argc = 0;
  for (char *p = line; *p;) {
    while (*p == ' ' || *p == '\t') *p++ = 0;
    if (!*p) break;
    if (argc == 16) break;
    argv[argc++] = p;
    while (*p && *p != ' ' && *p != '\t') p++;
  }
  argv[argc] = 0;
  if (argc == 0) return;
  const char *c = argv[0];
  if (seq(c, "help")) {
    cmd_help();
  } else if (seq(c, "echo")) {
    for (int i = 1; i < argc; i++) put(argv[i]), put(i + 1 < argc ? " " : "");
    put("\n");
  } else if (seq(c, "cat")) {
    cmd_cat(argv, argc);
  } else if (seq(c, "ls")) {
    cmd_ls(argc > 1 ? argv[1] : "/");
  } else if (seq(c, "uname")) {
    cmd_uname();
  } else if (seq(c, "count")) {
    cmd_count(argv[1]);
  } else if (seq(c, "poweroff")) {
    cmd_poweroff();
  } else {
    put("sh: "), put(c), put(": unknown command (try help)\n");
  }
}

/* Read one line, echoing each character as it is consumed; backspace erases. */
static void read_line(char *line, u32 size) {
  static char buf[64];
  static long have, at;
  u32 len = 0;
  for (;;) {
    if (at == have) {
      have = SYSCALL(SYS_read, 0, buf, sizeof buf, 0);
      at = 0;
      if (have <= 0) {
        have = 0;
        continue;
      }
    }
    char ch = buf[at++];
    if (ch == '\n' || ch == '\r') {
      put("\n");
      line[len] = 0;
      return;
    }
    if (ch == 0x7f || ch == '\b') {
      if (len) len--, put("\b \b");
      continue;
    }
    if ((unsigned char)ch < ' ' || len + 1 == size) continue;
    line[len++] = ch;
    putn(&ch, 1);
  }
}

static void mount_fs(const char *type, const char *dir) {
  long r = SYSCALL(SYS_mount, type, dir, type, 0);
  if (r < 0) perr("mount", dir, r);
}

void start_c(long *sp) {
  (void)sp;
  /* the console: raw, no echo (the shell echoes), CR still mapped to NL */
  struct termios t;
  if (SYSCALL(SYS_ioctl, 0, TCGETS, &t, 0) == 0) {
    t.c_lflag &= ~(u32)(ICANON | ECHO | ECHOE | ECHOK | ECHONL | ISIG | IEXTEN);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    SYSCALL(SYS_ioctl, 0, TCSETS, &t, 0);
  }
  static struct utsname u;
  put("\nhyperlab init");
  if (SYSCALL(SYS_uname, &u, 0, 0, 0) == 0) put(": "), put(u.sysname), put(" "), put(u.release), put(" on "), put(u.machine);
  put("\n");
  /* Kernel messages below warning level stay in the log, off the console: a late notice
   * (such as "random: crng init done") would otherwise land in the middle of a command. */
  SYSCALL(SYS_syslog, 8 /* SYSLOG_ACTION_CONSOLE_LEVEL */, 0, 5, 0);
  mount_fs("proc", "/proc");
  mount_fs("sysfs", "/sys");
  mount_fs("devtmpfs", "/dev");
  cmd_help();
  static char line[256];
  for (;;) {
    put("hyperlab# ");
    read_line(line, sizeof line);
    run(line);
  }
}

__asm__(
    ".section .text._start,\"ax\",@progbits\n"
    ".globl _start\n"
    ".type _start,@function\n"
    "_start:\n"
    "  mv a0, sp\n"
    "  andi sp, sp, -16\n"
    "  call start_c\n"
    "1: j 1b\n");
