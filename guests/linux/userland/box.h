/*
 * box: hyperlab's Linux userland, one multi-call binary (busybox style) over nolibc, the
 * minimal C library in the kernel's tools/include/nolibc (Debian has no rv32 libc).
 * /bin/box looks at the name it was run by (argv[0], or argv[1] for `box NAME ...`) and
 * runs that applet; /bin/ls, /bin/sh, /init ... are symbolic links to it (docs/linux.md).
 *
 * Every file includes this header. nolibc's functions are static, one copy per file that
 * uses them. What nolibc 6.12 lacks on rv32 (64-bit time calls, vfork, rename, statfs,
 * sigaction, directories) is in lib.c and sys.c.
 */
#ifndef BOX_H
#define BOX_H

#include "nolibc.h"
#include <linux/termios.h>
#include <linux/mount.h>
#include <asm/statfs.h>
#include <linux/magic.h>

typedef unsigned long long u64;
typedef long long s64;

/* nolibc 6.12 has no _exit, and its minor() misses a parenthesis */
static inline __attribute__((noreturn)) void _exit(int status) {
  my_syscall1(__NR_exit, status);
  __builtin_unreachable();
}
#define dev_major(dev) (((dev) >> 8) & 0xfff)
#define dev_minor(dev) ((dev) & 0xff)

/* ---- applets: each is int NAME_main(int argc, char **argv) ---- */
#define APPLETS(X)                                                                        \
  X(cat, "cat [FILE]...", "print files (or standard input)")                              \
  X(chmod, "chmod MODE FILE...", "change permissions (755, +x, u+w,go-r)")                 \
  X(cksum, "cksum [FILE]...", "CRC and length of files, as POSIX cksum prints them")          \
  X(count, "count N", "count to N and print the time it took on a timing: line")          \
  X(cp, "cp [-r] SRC... DEST", "copy files (-r: directories too)")                        \
  X(dd, "dd [if= of= bs= count= skip= seek= conv=]", "copy blocks, print the throughput") \
  X(df, "df [-a]", "file system space, in 1K blocks (-a: all)")                                          \
  X(dirty, "dirty [-b MIB] MIB_PER_S [SECONDS]", "dirty memory at MIB_PER_S (for migration benchmarks)") \
  X(dmesg, "dmesg [-c]", "print (-c: and clear) the kernel log")                          \
  X(du, "du [-s] [PATH]...", "disk use, in 1K blocks")                                    \
  X(echo, "echo [-n] [-e] [ARG]...", "print the arguments")                               \
  X(false, "false", "exit with status 1")                                                 \
  X(free, "free", "memory use, in KiB")                                                   \
  X(grep, "grep [-i] [-v] [-c] [-n] STRING [FILE]...", "lines holding a fixed string")   \
  X(head, "head [-n N] [FILE]...", "the first lines (10)")                               \
  X(hexdump, "hexdump [-C] [FILE]...", "dump bytes in hex (-C: canonical, with text)")    \
  X(httpd, "httpd [-p PORT] [-v] [DIR]", "serve DIR (/www) over HTTP/1.0, one client at a time") \
  X(ifconfig, "ifconfig [-a] [IF [ADDR[/N]] [netmask M] [up|down]]", "show or set interfaces") \
  X(init, "init", "the first process: mounts, then a shell on the console")               \
  X(ip, "ip addr|link|route ...", "show or set addresses, links and routes")          \
  X(kill, "kill [-SIG] PID...", "send a signal")                                          \
  X(ln, "ln [-s] [-f] TARGET [LINK]", "make a hard or (-s) symbolic link")                 \
  X(ls, "ls [-l] [-a] [-F] [PATH]...", "list directories")                                \
  X(mkdir, "mkdir [-p] DIR...", "make directories (-p: parents, no error if there)")      \
  X(mount, "mount [-t TYPE] [-o OPTS] SRC DIR", "mount a file system; alone: list mounts") \
  X(mv, "mv SRC... DEST", "move or rename")                                               \
  X(nc, "nc [-l] [-u] [-v] [-w SECS] [HOST] PORT", "TCP/UDP: standard input to a socket, the socket to output") \
  X(ping, "ping HOST [-c N] [-i SECS] [-s SIZE] [-W SECS] [-q]", "ICMP echo, with round-trip times") \
  X(poweroff, "poweroff", "sync and power off")                                           \
  X(ps, "ps", "list processes")                                                           \
  X(pwd, "pwd", "print the working directory")                                            \
  X(reboot, "reboot", "sync and reboot")                                                  \
  X(rm, "rm [-r] [-f] PATH...", "remove files (-r: directories too)")                     \
  X(rmdir, "rmdir DIR...", "remove empty directories")                                    \
  X(sh, "sh [-c CMD | FILE [ARG]...]", "the shell")                                       \
  X(sleep, "sleep SECONDS", "wait (fractions allowed)")                                   \
  X(sync, "sync", "write cached data to disk")                                            \
  X(test, "test EXPR, [ EXPR ]", "conditions: -e -f -d FILE, -z -n S, = !=, -eq -lt ...")  \
  X(touch, "touch FILE...", "create files or update their times")                         \
  X(true, "true", "exit with status 0")                                                   \
  X(udpperf, "udpperf -l PORT | udpperf HOST PORT COUNT [SIZE]", "count or send UDP datagrams per second") \
  X(umount, "umount DIR...", "unmount file systems")                                      \
  X(uname, "uname [-asnrvm]", "system name (-a: everything)")                             \
  X(uptime, "uptime", "time since boot and load averages")                                \
  X(wc, "wc [-l] [-w] [-c] [FILE]...", "count lines, words and bytes")                   \
  X(wget, "wget [-q] [-O FILE] URL", "fetch http://HOST[:PORT]/PATH")

#define DECLARE_APPLET(name, usage, what) int name##_main(int argc, char **argv);
APPLETS(DECLARE_APPLET)
#undef DECLARE_APPLET

/* main.c */
int run_applet(const char *name, int argc, char **argv); /* -1: no such applet */
void list_applets(int fd);

/* ---- lib.c: output, errors, numbers ---- */
void out(const char *s);                      /* to stdout, unbuffered */
void outn(const char *s, size_t n);
void fdout(int fd, const char *s);
void outu(u64 v, int width);                  /* right-aligned in width (0: none) */
void outs(const char *s, int width);          /* left-aligned if width < 0 */
char *fmt_u(char *buf, u64 v);                /* decimal into buf (21 bytes), returns buf */
const char *err_str(int e);                   /* "No such file or directory" */
void warn(const char *who, const char *what); /* "who: what: strerror(errno)" on stderr */
void warn_msg(const char *who, const char *msg);
int parse_u64(const char *s, u64 *v);         /* decimal, 1 if ok */
int parse_size(const char *s, u64 *v);        /* 10, 4k, 1M, 2G, 512b, 100kB */
int is_dir(const char *path);
const char *base_name(const char *path);
void path_join(char *buf, size_t size, const char *dir, const char *name);
long read_file(const char *path, char *buf, size_t size); /* NUL-terminated; -1 on error */
int write_all(int fd, const char *buf, size_t n);
int copy_fd(int from, int to);                /* 0, or -1 with errno */

/* ---- sys.c: system calls nolibc 6.12 has not got on rv32 ---- */
struct ts64 {
  s64 sec, nsec;
};
int clock_now(int clock, struct ts64 *t);     /* CLOCK_REALTIME 0, CLOCK_MONOTONIC 1 */
u64 now_us(void);                             /* monotonic microseconds */
int sleep_ns(u64 ns);
int rename_path(const char *from, const char *to);
int touch_now(const char *path);             /* utimensat(path, NULL) */
int statfs_path(const char *path, struct statfs64 *st);
int klog(int type, char *buf, int len);      /* syslog(2) */
int ignore_signal(int sig, int ignore);      /* SIG_IGN or SIG_DFL */
int catch_signal(int sig, void (*handler)(int)); /* a handler; blocked calls return EINTR */
pid_t wait_child(pid_t pid, int *status);  /* waitpid(pid, status, 0); pid -1: any child */
pid_t vfork_raw(void) __attribute__((returns_twice)); /* -errno on failure */
int lstat_path(const char *path, struct stat *st);
long read_link(const char *path, char *buf, size_t size);
/* Directories: call fn(name, d_type, arg) for each entry but . and ..; 0, or -1 with errno. */
int each_entry(const char *dir, int (*fn)(const char *name, int type, void *arg), void *arg);

#endif
