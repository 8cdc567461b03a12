/* File systems: mount, umount, df, du, sync. */
#include "box.h"

static char mounts[4096];

/* Each line of /proc/mounts: "SRC DIR TYPE OPTS 0 0" split into fields (in place). */
static int mount_fields(char **line, char *f[4]) {
  char *p = *line;
  if (!*p) return 0;
  char *end = strchr(p, '\n');
  if (end) *end = 0, *line = end + 1;
  else *line = p + strlen(p);
  for (int i = 0; i < 4; i++) {
    f[i] = p;
    while (*p && *p != ' ') p++;
    if (*p) *p++ = 0;
  }
  return 1;
}

/* mount [-t TYPE] [-o OPTS] SRC DIR; alone, the table. OPTS: ro, rw, remount, bind, move,
 * nosuid, nodev, noexec, sync, noatime; the rest go to the file system as data. */
int mount_main(int argc, char **argv) {
  const char *type = 0, *opts = "";
  int i = 1;
  for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
    if (!strcmp(argv[i], "-t")) type = argv[i + 1];
    else if (!strcmp(argv[i], "-o")) opts = argv[i + 1];
    else break;
  }
  if (i == argc) {
    if (read_file("/proc/mounts", mounts, sizeof mounts) < 0) return warn("mount", "/proc/mounts"), 1;
    char *line = mounts, *f[4];
    while (mount_fields(&line, f)) out(f[0]), out(" on "), out(f[1]), out(" type "), out(f[2]), out(" ("), out(f[3]), out(")\n");
    return 0;
  }
  if (argc - i != 2) return warn_msg("mount", "usage: mount [-t TYPE] [-o OPTS] SRC DIR"), 1;
  unsigned long flags = 0;
  char data[256] = "", opt[64];
  for (const char *p = opts; *p;) {
    size_t n = 0;
    while (*p && *p != ',' && n < sizeof opt - 1) opt[n++] = *p++;
    opt[n] = 0;
    if (*p == ',') p++;
    if (!strcmp(opt, "ro")) flags |= MS_RDONLY;
    else if (!strcmp(opt, "rw")) flags &= ~(unsigned long)MS_RDONLY;
    else if (!strcmp(opt, "remount")) flags |= MS_REMOUNT;
    else if (!strcmp(opt, "bind")) flags |= MS_BIND;
    else if (!strcmp(opt, "move")) flags |= MS_MOVE;
    else if (!strcmp(opt, "nosuid")) flags |= MS_NOSUID;
    else if (!strcmp(opt, "nodev")) flags |= MS_NODEV;
    else if (!strcmp(opt, "noexec")) flags |= MS_NOEXEC;
    else if (!strcmp(opt, "sync")) flags |= MS_SYNCHRONOUS;
    else if (!strcmp(opt, "noatime")) flags |= MS_NOATIME;
    else if (n) {
      if (data[0]) strlcat(data, ",", sizeof data);
      strlcat(data, opt, sizeof data);
    }
  }
  if (!type && !(flags & (MS_REMOUNT | MS_BIND | MS_MOVE))) type = "ext2";
  if (mount(argv[i], argv[i + 1], type, flags, data[0] ? data : 0) < 0) return warn("mount", argv[i + 1]), 1;
  return 0;
}

int umount_main(int argc, char **argv) {
  int status = 0;
  if (argc < 2) return warn_msg("umount", "usage: umount DIR..."), 1;
  for (int i = 1; i < argc; i++)
    if (umount2(argv[i], 0) < 0) warn("umount", argv[i]), status = 1;
  return status;
}

int sync_main(int argc, char **argv) {
  (void)argc, (void)argv;
  my_syscall0(__NR_sync);
  return 0;
}

/* df [-a]: every mounted file system with blocks, in 1K blocks; -a: those without too
 * (proc, sysfs, ramfs: tmpfs is ramfs in kernels without SHMEM, as both of ours are). */
int df_main(int argc, char **argv) {
  int all = argc > 1 && !strcmp(argv[1], "-a");
  if (read_file("/proc/mounts", mounts, sizeof mounts) < 0) return warn("df", "/proc/mounts"), 1;
  out("Filesystem           1K-blocks      Used Available Use% Mounted on\n");
  char *line = mounts, *f[4];
  while (mount_fields(&line, f)) {
    struct statfs64 st;
    if (statfs_path(f[1], &st) < 0 || (st.f_blocks == 0 && !all)) continue;
    u64 k = st.f_bsize / 512, total = st.f_blocks * k / 2, avail = st.f_bavail * k / 2;
    u64 used = (st.f_blocks - st.f_bfree) * k / 2;
    u64 pct = used + avail ? (used * 100 + used + avail - 1) / (used + avail) : 0;
    outs(f[0], -20), outu(total, 10), outu(used, 10), outu(avail, 10), outu(pct, 4), out("% "), out(f[1]), out("\n");
  }
  return 0;
}

/* du [-s]: 1K blocks used under each directory (st_blocks, 512 bytes each). */
struct du_state {
  const char *path;
  int summary, depth;
  u64 total;
};

static u64 du_path(const char *path, int summary, int depth);

static int du_entry(const char *name, int type, void *arg) {
  struct du_state *s = arg;
  char path[512];
  (void)type;
  path_join(path, sizeof path, s->path, name);
  s->total += du_path(path, s->summary, s->depth + 1);
  return 0;
}

static u64 du_path(const char *path, int summary, int depth) {
  struct stat st;
  if (lstat_path(path, &st) < 0) return warn("du", path), 0;
  u64 kb = (u64)st.st_blocks / 2;
  if (!S_ISDIR(st.st_mode)) {
    if (depth == 0) outu(kb, 0), out("\t"), out(path), out("\n");
    return kb;
  }
  struct du_state s = {path, summary, depth, kb};
  if (each_entry(path, du_entry, &s) < 0) warn("du", path);
  if (!summary || depth == 0) outu(s.total, 0), out("\t"), out(path), out("\n");
  return s.total;
}

int du_main(int argc, char **argv) {
  int summary = 0, i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (!strcmp(argv[i], "-s")) summary = 1;
    else if (strcmp(argv[i], "-k")) return warn_msg("du", "usage: du [-s] [PATH]..."), 1;
  }
  if (i == argc) du_path(".", summary, 0);
  for (; i < argc; i++) du_path(argv[i], summary, 0);
  return 0;
}
