/*
 * The start of the program, and the system calls nolibc 6.12 has not got on rv32.
 *
 * box is a static PIE with no dynamic linker. The no-MMU kernel's ELF-FDPIC loader runs
 * it as a "constant displacement" binary wherever it lands, the MMU kernel's binfmt_elf
 * at its ELF_ET_DYN_BASE; neither applies relocations, so _start applies them itself
 * before anything reads a pointer from data: the linker leaves only R_RISCV_RELATIVE
 * ones (guests/linux/build.sh checks), each "base + addend", as glibc's static-pie
 * start-up does.
 */
#include "box.h"

#pragma GCC visibility push(hidden)
typedef struct {
  long tag;
  unsigned long val;
} Elf32_Dyn_;
extern const char __ehdr_start[]; /* the ELF header: the load base, since we link at 0 */
extern const Elf32_Dyn_ _DYNAMIC[];
#pragma GCC visibility pop

void box_relocate(void);
void box_relocate(void) {
  unsigned long base = (unsigned long)__ehdr_start, rela = 0, size = 0;
  for (const Elf32_Dyn_ *d = _DYNAMIC; d->tag; d++) {
    if (d->tag == 7) rela = d->val;      /* DT_RELA */
    else if (d->tag == 8) size = d->val; /* DT_RELASZ */
  }
  for (unsigned long off = 0; off < size; off += 12) {
    const unsigned long *r = (const unsigned long *)(base + rela + off);
    if ((r[1] & 0xff) == 3) *(unsigned long *)(base + r[0]) = base + r[2]; /* R_RISCV_RELATIVE */
  }
}

/* The entry point (-e box_start; nolibc has its own _start): relocate, then nolibc's _start_c (argv, environ, main). */
__asm__(".section .text.box_start,\"ax\",@progbits\n"
        ".globl box_start\n"
        ".type box_start,@function\n"
        "box_start:\n"
        ".option push\n"
        ".option norelax\n"
        "  lla gp, __global_pointer$\n"
        ".option pop\n"
        "  mv s0, sp\n"
        "  andi sp, sp, -16\n"
        "  call box_relocate\n"
        "  mv a0, s0\n"
        "  call _start_c\n"
        "1: j 1b\n"
        /* vfork: clone(CLONE_VM | CLONE_VFORK | SIGCHLD, 0): a leaf with no stack frame, so
         * the child, which borrows the parent's stack until it execs, overwrites nothing
         * the parent will return through. No-MMU Linux has no fork. */
        ".text\n"
        ".globl vfork_raw\n"
        ".type vfork_raw,@function\n"
        "vfork_raw:\n"
        "  li a7, 220\n"
        "  li a0, 0x4111\n"
        "  li a1, 0\n"
        "  li a2, 0\n"
        "  li a3, 0\n"
        "  li a4, 0\n"
        "  ecall\n"
        "  ret\n");

int clock_now(int clock, struct ts64 *t) {
  return __sysret(my_syscall2(__NR_clock_gettime64, clock, t));
}

u64 now_us(void) {
  struct ts64 t = {0, 0};
  clock_now(1, &t);
  return (u64)t.sec * 1000000u + (u64)t.nsec / 1000u;
}

int sleep_ns(u64 ns) {
  struct ts64 t = {(s64)(ns / 1000000000u), (s64)(ns % 1000000000u)};
  return __sysret(my_syscall4(__NR_clock_nanosleep_time64, 1, 0, &t, 0));
}

/* waitpid(pid or -1, status, 0) over waitid(2): rv32 has no wait4. The status is encoded
 * as wait4 would (WIFEXITED and friends work on it). */
pid_t wait_child(pid_t pid, int *status) {
  struct {
    int signo, errno_, code, pid, uid, status;
    int pad[26];
  } info;
  memset(&info, 0, sizeof info);
  long r = my_syscall5(__NR_waitid, pid < 0 ? 0 /* P_ALL */ : 1 /* P_PID */, pid < 0 ? 0 : pid, &info, 4 /* WEXITED */, 0);
  if (r < 0) return (pid_t)__sysret(r);
  *status = info.code == 1 /* CLD_EXITED */ ? (info.status & 0xff) << 8 : (info.status & 0x7f) | (info.code == 3 ? 0x80 : 0);
  return info.pid;
}

int rename_path(const char *from, const char *to) {
  return __sysret(my_syscall5(__NR_renameat2, AT_FDCWD, from, AT_FDCWD, to, 0));
}

int touch_now(const char *path) {
  return __sysret(my_syscall4(__NR_utimensat_time64, AT_FDCWD, path, 0, 0));
}

int statfs_path(const char *path, struct statfs64 *st) {
  return __sysret(my_syscall3(__NR_statfs64, path, sizeof *st, st));
}

int klog(int type, char *buf, int len) {
  return __sysret(my_syscall3(__NR_syslog, type, buf, len));
}

int ignore_signal(int sig, int ignore) {
  struct {
    unsigned long handler, flags;
    unsigned long mask[2];
  } sa = {ignore ? 1u : 0u, 0, {0, 0}}; /* SIG_IGN = 1, SIG_DFL = 0 */
  return __sysret(my_syscall4(__NR_rt_sigaction, sig, &sa, 0, 8));
}

/* A handler for sig (no SA_RESTART: a blocked call returns EINTR); the kernel returns from
 * it through the vDSO's rt_sigreturn (MMU) or a trampoline on the signal frame (no MMU). */
int catch_signal(int sig, void (*handler)(int)) {
  struct {
    unsigned long handler, flags;
    unsigned long mask[2];
  } sa = {(unsigned long)handler, 0, {0, 0}};
  return __sysret(my_syscall4(__NR_rt_sigaction, sig, &sa, 0, 8));
}

int lstat_path(const char *path, struct stat *st) {
  struct statx x;
  if (__sysret(my_syscall5(__NR_statx, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &x)) < 0) return -1;
  memset(st, 0, sizeof *st);
  st->st_dev = makedev(x.stx_dev_major, x.stx_dev_minor);
  st->st_ino = x.stx_ino;
  st->st_mode = x.stx_mode;
  st->st_nlink = x.stx_nlink;
  st->st_uid = x.stx_uid;
  st->st_gid = x.stx_gid;
  st->st_rdev = makedev(x.stx_rdev_major, x.stx_rdev_minor);
  st->st_size = x.stx_size;
  st->st_blksize = x.stx_blksize;
  st->st_blocks = x.stx_blocks;
  st->st_mtim.tv_sec = x.stx_mtime.tv_sec;
  return 0;
}

long read_link(const char *path, char *buf, size_t size) {
  long n = __sysret(my_syscall4(__NR_readlinkat, AT_FDCWD, path, buf, size - 1));
  if (n >= 0) buf[n] = 0;
  return n;
}

/* The names are read first and the directory closed, so fn may remove entries or recurse. */
int each_entry(const char *dir, int (*fn)(const char *name, int type, void *arg), void *arg) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return -1;
  char dents[1024];
  char *names = 0; /* entries: type byte, name, NUL */
  size_t used = 0, cap = 0;
  int n, ret = 0;
  while ((n = getdents64(fd, (struct linux_dirent64 *)dents, sizeof dents)) > 0) {
    for (int off = 0; off < n;) {
      struct linux_dirent64 *d = (struct linux_dirent64 *)(dents + off);
      off += d->d_reclen;
      if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")) continue;
      size_t len = strlen(d->d_name) + 2;
      if (used + len > cap) {
        cap = cap ? cap * 2 : 4096;
        char *grown = realloc(names, cap);
        if (!grown) break;
        names = grown;
      }
      names[used] = (char)d->d_type;
      memcpy(names + used + 1, d->d_name, len - 1);
      used += len;
    }
  }
  if (n < 0) ret = -1;
  close(fd);
  for (size_t at = 0; at < used; at += strlen(names + at + 1) + 2)
    if (fn(names + at + 1, (unsigned char)names[at], arg) < 0) ret = -1;
  free(names);
  return ret;
}
