/*
 * init: the first process. It prints the banner, mounts the pseudo file systems, switches
 * to a root disk when the command line names one (root=), and keeps a shell on the
 * console: when the shell exits, another starts. It also reaps orphaned processes.
 */
#include "net.h"

/* vfork_raw returns twice; gcc then suspects the registers of inlined system calls. */
#pragma GCC diagnostic ignored "-Wclobbered"

static void mount_fs(const char *type, const char *dir) {
  mkdir(dir, 0755); /* it may be there already */
  if (mount(type, dir, type, 0, 0) < 0) warn("init: mount", dir);
}

static char cmdline[1024];

/* Each word of the kernel command line: the value of KEY= into buf, and whether WORD is
 * there alone (e.g. "ro"). */
static int cmdline_find(const char *key, const char *word, char *buf, size_t size) {
  size_t n = strlen(key);
  int found = 0;
  if (buf) buf[0] = 0;
  if (!cmdline[0] && read_file("/proc/cmdline", cmdline, sizeof cmdline) < 0) return 0;
  for (const char *p = cmdline; *p;) {
    while (*p == ' ' || *p == '\n') p++;
    const char *end = p;
    while (*end && *end != ' ' && *end != '\n') end++;
    size_t len = (size_t)(end - p);
    if (buf && len >= n && !strncmp(p, key, n)) {
      len -= n;
      if (len >= size) len = size - 1;
      memcpy(buf, p + n, len), buf[len] = 0;
      found = 1;
    } else if (word && len == strlen(word) && !strncmp(p, word, len)) {
      found = 1;
    }
    p = end;
  }
  return found;
}

/*
 * THE ROOT DISK. Booted with no initramfs and root=/dev/vda (the disk presets), the kernel
 * mounts the disk itself and runs /sbin/init from it: nothing to do here. Booted from the
 * initramfs with root=DEV on the command line, mount DEV on /newroot (type rootfstype=, else ext4 then ext2; read
 * and write unless "ro" is on the command line), move /dev, /proc, /sys and /tmp there and
 * make it / (mount --move + chroot, as busybox's switch_root does; the initramfs stays in
 * memory under it). The disk must hold /bin/sh (this same userland). Without root=, or if
 * anything fails, the initramfs stays the root. rootfstype=bind makes root= a directory
 * to bind: root=/ rootfstype=bind runs the whole switch without a disk (userland.test.ts).
 */
static void switch_to_root_disk(void) {
  char dev[64], type[32];
  if (!cmdline_find("root=", 0, dev, sizeof dev) || !dev[0]) return;
  /* Booted without an initramfs, the kernel has mounted root= itself (prepare_namespace)
   * and we run from the disk already: the initramfs is a ramfs (rootfs), a disk is not. */
  struct statfs64 sfs;
  if (statfs_path("/", &sfs) == 0 && sfs.f_type != RAMFS_MAGIC && sfs.f_type != TMPFS_MAGIC) return;
  unsigned long flags = cmdline_find("", "ro", 0, 0) ? MS_RDONLY : 0;
  mkdir("/newroot", 0755);
  cmdline_find("rootfstype=", 0, type, sizeof type);
  int r = -1;
  if (!strcmp(type, "bind")) r = mount(dev, "/newroot", 0, MS_BIND, 0); /* a directory: see above */
  else if (type[0]) r = mount(dev, "/newroot", type, flags, 0);
  else if ((r = mount(dev, "/newroot", "ext4", flags, 0)) < 0) r = mount(dev, "/newroot", "ext2", flags, 0);
  if (r < 0) {
    warn("init: root disk", dev);
    return;
  }
  struct stat st;
  if (stat("/newroot/bin/sh", &st) < 0) {
    warn_msg("init: root disk", "no /bin/sh on it; staying in the initramfs");
    umount2("/newroot", 0);
    return;
  }
  static const char *const moved[] = {"/dev", "/proc", "/sys", "/tmp"};
  size_t n = sizeof moved / sizeof moved[0], i;
  char to[32];
  for (i = 0; i < n; i++) {
    path_join(to, sizeof to, "/newroot", moved[i] + 1);
    mkdir(to, 0755);
    if (mount(moved[i], to, 0, MS_MOVE, 0) < 0) break;
  }
  if (i < n || chdir("/newroot") < 0 || mount(".", "/", 0, MS_MOVE, 0) < 0) {
    warn("init: switch root", i < n ? moved[i] : dev);
    while (i-- > 0) { /* put back what was moved, and stay */
      path_join(to, sizeof to, "/newroot", moved[i] + 1);
      mount(to, moved[i], 0, MS_MOVE, 0);
    }
    chdir("/");
    umount2("/newroot", 0);
    return;
  }
  if (chroot(".") < 0 || chdir("/") < 0) warn("init: switch root", "chroot");
  out("init: root is "), out(dev), out(flags ? " (read-only)\n" : "\n");
}

/*
 * THE NETWORK. The kernel configures eth0 itself when the command line has ip= (ip=dhcp,
 * or ip=ADDR::GW:MASK::eth0:off; IP_PNP), before init runs, and then brings lo up too.
 * Here: lo up in any case, ICMP datagram sockets open to every group (ping needs no raw
 * socket), and /etc/rc run by the shell if it is there (e.g. "ifconfig eth0 10.0.0.5/24;
 * ip route add default via 10.0.0.1" on a root disk).
 */
static void start_network(char **env) {
  int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
  if (fd >= 0) write_all(fd, "0 2147483647\n", 13), close(fd);
  if (if_set_up("lo", 1) < 0 && errno != EAFNOSUPPORT) warn("init", "lo");
  struct stat st;
  if (stat("/etc/rc", &st) < 0) return;
  static char *const argv[] = {"sh", "/etc/rc", 0};
  pid_t pid = vfork_raw();
  if (pid == 0) {
    execve("/bin/sh", argv, env);
    _exit(127);
  }
  int status;
  if (pid > 0)
    while (wait_child(pid, &status) < 0 && errno == EINTR) {}
}

/* Start /bin/sh on the console in a session of its own (so ^C reaches what it runs). */
static pid_t start_shell(char **env) {
  static char *const argv[] = {"sh", "-i", 0};
  pid_t pid = vfork_raw();
  if (pid == 0) {
    setsid();
    ioctl(0, TIOCSCTTY, 0);
    execve("/bin/sh", argv, env);
    _exit(127);
  }
  return pid;
}

int init_main(int argc, char **argv) {
  static char *env[] = {"PATH=/bin:/sbin", "HOME=/root", "TERM=vt100", 0};
  struct utsname u;
  (void)argc, (void)argv;
  if (getpid() != 1) return warn_msg("init", "must be process 1"), 1;
  out("\nhyperlab init");
  if (uname(&u) == 0) out(": "), out(u.sysname), out(" "), out(u.release), out(" on "), out(u.machine);
  out("\n");
  /* Kernel messages below warning level stay in the log (dmesg), off the console: a late
   * notice (such as "random: crng init done") would otherwise land in a command's output. */
  klog(8 /* SYSLOG_ACTION_CONSOLE_LEVEL */, 0, 5);
  mount_fs("proc", "/proc");
  mount_fs("sysfs", "/sys");
  mount_fs("devtmpfs", "/dev");
  mount_fs("tmpfs", "/tmp"); /* ramfs in our kernels, which have no SHMEM */
  switch_to_root_disk();
  start_network(env);
  chdir("/root");
  out("Type help for the commands.\n");
  for (;;) {
    pid_t shell = start_shell(env);
    if (shell < 0) {
      errno = -shell;
      warn("init", "cannot start /bin/sh");
      sleep_ns(1000000000u);
      continue;
    }
    int status = 0;
    pid_t pid;
    while ((pid = wait_child(-1, &status)) != shell)
      if (pid < 0 && errno != EINTR) break;
    out("init: the shell exited with status "), outu(WIFEXITED(status) ? (u64)WEXITSTATUS(status) : 128u + (u64)WTERMSIG(status), 0);
    out("; starting another\n");
  }
}
