/* Making, removing, copying, moving and linking: mkdir, rmdir, rm, cp, mv, ln. */
#include "box.h"

/* mkdir -p: every missing parent, and no error if the directory exists. */
static int mkdir_parents(char *path) {
  for (char *p = path + 1;; p++) {
    if (*p == '/' || !*p) {
      char c = *p;
      *p = 0;
      int r = mkdir(path, 0755);
      int ok = r == 0 || (errno == EEXIST && is_dir(path));
      *p = c;
      if (!ok) return -1;
      if (!c) return 0;
    }
  }
}

int mkdir_main(int argc, char **argv) {
  int parents = 0, status = 0, i = 1;
  if (i < argc && !strcmp(argv[i], "-p")) parents = 1, i++;
  if (i == argc) return warn_msg("mkdir", "missing operand"), 1;
  for (; i < argc; i++)
    if ((parents ? mkdir_parents(argv[i]) : mkdir(argv[i], 0755)) < 0) warn("mkdir", argv[i]), status = 1;
  return status;
}

int rmdir_main(int argc, char **argv) {
  int status = 0;
  if (argc < 2) return warn_msg("rmdir", "missing operand"), 1;
  for (int i = 1; i < argc; i++)
    if (rmdir(argv[i]) < 0) warn("rmdir", argv[i]), status = 1;
  return status;
}

/* ---- rm ---- */
static int rm_path(const char *path, int recursive, int force);

static int rm_entry(const char *name, int type, void *dir) {
  char path[512];
  (void)type;
  path_join(path, sizeof path, dir, name);
  return rm_path(path, 1, 1);
}

static int rm_path(const char *path, int recursive, int force) {
  struct stat st;
  if (lstat_path(path, &st) < 0) {
    if (force && errno == ENOENT) return 0;
    return warn("rm", path), -1;
  }
  if (S_ISDIR(st.st_mode)) {
    if (!recursive) return errno = EISDIR, warn("rm", path), -1;
    int r = each_entry(path, rm_entry, (void *)path);
    if (rmdir(path) < 0) return warn("rm", path), -1;
    return r;
  }
  if (unlink(path) < 0) return warn("rm", path), -1;
  return 0;
}

int rm_main(int argc, char **argv) {
  int recursive = 0, force = 0, status = 0, i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++)
    for (const char *f = argv[i] + 1; *f; f++) {
      if (*f == 'r' || *f == 'R') recursive = 1;
      else if (*f == 'f') force = 1;
      else return warn_msg("rm", "usage: rm [-r] [-f] PATH..."), 1;
    }
  if (i == argc && !force) return warn_msg("rm", "missing operand"), 1;
  for (; i < argc; i++)
    if (rm_path(argv[i], recursive, force) < 0) status = 1;
  return status;
}

/* ---- cp ---- */
static int cp_path(const char *from, const char *to, int recursive);

struct cp_dirs {
  const char *from, *to;
  int recursive;
};

static int cp_entry(const char *name, int type, void *arg) {
  struct cp_dirs *d = arg;
  char from[512], to[512];
  (void)type;
  path_join(from, sizeof from, d->from, name);
  path_join(to, sizeof to, d->to, name);
  return cp_path(from, to, d->recursive);
}

static int cp_path(const char *from, const char *to, int recursive) {
  struct stat st;
  if (lstat_path(from, &st) < 0) return warn("cp", from), -1;
  if (S_ISDIR(st.st_mode)) {
    if (!recursive) return warn_msg("cp", "-r not specified; omitting a directory"), -1;
    if (mkdir(to, st.st_mode & 07777) < 0 && !(errno == EEXIST && is_dir(to))) return warn("cp", to), -1;
    struct cp_dirs d = {from, to, recursive};
    return each_entry(from, cp_entry, &d);
  }
  if (S_ISLNK(st.st_mode)) {
    char target[256];
    if (read_link(from, target, sizeof target) < 0 || symlink(target, to) < 0) return warn("cp", to), -1;
    return 0;
  }
  int in = open(from, O_RDONLY);
  if (in < 0) return warn("cp", from), -1;
  int outfd = open(to, O_WRONLY | O_CREAT | O_TRUNC, st.st_mode & 07777);
  if (outfd < 0) return close(in), warn("cp", to), -1;
  int r = copy_fd(in, outfd);
  if (r < 0) warn("cp", to);
  close(in);
  close(outfd);
  return r;
}

/* The destination of SRC: DEST itself, or DEST/basename(SRC) when DEST is a directory. */
static void dest_of(char *buf, size_t size, const char *src, const char *dest, int into) {
  if (into) path_join(buf, size, dest, base_name(src));
  else strlcpy(buf, dest, size);
}

int cp_main(int argc, char **argv) {
  int recursive = 0, status = 0, i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++)
    recursive |= !strcmp(argv[i], "-r") || !strcmp(argv[i], "-R") || !strcmp(argv[i], "-a");
  if (argc - i < 2) return warn_msg("cp", "usage: cp [-r] SRC... DEST"), 1;
  const char *dest = argv[argc - 1];
  int into = is_dir(dest);
  if (argc - i > 2 && !into) return errno = ENOTDIR, warn("cp", dest), 1;
  for (; i < argc - 1; i++) {
    char to[512];
    dest_of(to, sizeof to, argv[i], dest, into);
    if (cp_path(argv[i], to, recursive) < 0) status = 1;
  }
  return status;
}

/* mv: rename(2); across file systems (EXDEV), copy then remove. */
int mv_main(int argc, char **argv) {
  int status = 0;
  if (argc < 3) return warn_msg("mv", "usage: mv SRC... DEST"), 1;
  const char *dest = argv[argc - 1];
  int into = is_dir(dest);
  if (argc > 3 && !into) return errno = ENOTDIR, warn("mv", dest), 1;
  for (int i = 1; i < argc - 1; i++) {
    char to[512];
    dest_of(to, sizeof to, argv[i], dest, into);
    if (rename_path(argv[i], to) == 0) continue;
    if (errno != EXDEV || cp_path(argv[i], to, 1) < 0 || rm_path(argv[i], 1, 0) < 0) {
      if (errno != EXDEV) warn("mv", argv[i]);
      status = 1;
    }
  }
  return status;
}

/* ln [-s] [-f] TARGET [LINK]: a hard or (-s) symbolic link; LINK a directory or absent:
 * the link goes in it (or here) under TARGET's name. */
int ln_main(int argc, char **argv) {
  int symbolic = 0, force = 0, i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++)
    for (const char *f = argv[i] + 1; *f; f++) {
      if (*f == 's') symbolic = 1;
      else if (*f == 'f') force = 1;
      else return warn_msg("ln", "usage: ln [-s] [-f] TARGET [LINK]"), 1;
    }
  if (argc - i < 1 || argc - i > 2) return warn_msg("ln", "usage: ln [-s] [-f] TARGET [LINK]"), 1;
  char link_path[512];
  const char *target = argv[i], *dest = argc - i == 2 ? argv[i + 1] : ".";
  dest_of(link_path, sizeof link_path, target, dest, is_dir(dest));
  if (force) unlink(link_path);
  if ((symbolic ? symlink(target, link_path) : link(target, link_path)) < 0) return warn("ln", link_path), 1;
  return 0;
}
