/* ls [-l] [-a] [-F] [-1] [PATH]...: one name a line, sorted; -l the long form. */
#include "box.h"

#define LS_LONG 1
#define LS_ALL 2
#define LS_CLASSIFY 4

static char ls_names[16384];
static char *ls_sorted[512];
static int ls_count;
static size_t ls_used;

static int ls_collect(const char *name, int type, void *arg) {
  size_t len = strlen(name) + 1;
  (void)type, (void)arg;
  if (ls_count == (int)(sizeof ls_sorted / sizeof ls_sorted[0]) || ls_used + len > sizeof ls_names) return 0;
  char *copy = ls_names + ls_used;
  memcpy(copy, name, len);
  ls_used += len;
  int j = ls_count++;
  while (j > 0 && strcmp(ls_sorted[j - 1], copy) > 0) ls_sorted[j] = ls_sorted[j - 1], j--;
  ls_sorted[j] = copy;
  return 0;
}

/* Days since 1970-01-01 to year, month (1-12), day (Howard Hinnant's civil_from_days). */
static void civil(s64 days, int *y, int *m, int *d) {
  days += 719468;
  s64 era = (days >= 0 ? days : days - 146096) / 146097;
  unsigned doe = (unsigned)(days - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

static void two(char *p, int v) {
  p[0] = (char)('0' + v / 10 % 10), p[1] = (char)('0' + v % 10);
}

/* "Jan  1 00:00" */
static void ls_date(s64 t) {
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  s64 days = t >= 0 ? t / 86400 : (t - 86399) / 86400, secs = t - days * 86400;
  int y, m, d;
  civil(days, &y, &m, &d);
  char buf[13];
  memcpy(buf, months + (m - 1) * 3, 3);
  buf[3] = ' ', buf[4] = d < 10 ? ' ' : (char)('0' + d / 10), buf[5] = (char)('0' + d % 10), buf[6] = ' ';
  two(buf + 7, (int)(secs / 3600)), buf[9] = ':', two(buf + 10, (int)(secs / 60 % 60)), buf[12] = 0;
  out(buf);
}

static void ls_mode(unsigned mode) {
  char m[11] = "?rwxrwxrwx";
  unsigned type = mode & S_IFMT;
  m[0] = type == S_IFDIR ? 'd' : type == S_IFLNK ? 'l' : type == S_IFCHR ? 'c' : type == S_IFBLK ? 'b'
       : type == S_IFIFO ? 'p' : type == S_IFSOCK ? 's' : '-';
  for (int i = 0; i < 9; i++)
    if (!(mode & (0400u >> i))) m[i + 1] = '-';
  out(m);
}

/* One entry: NAME is what is printed, PATH where it is. */
static int ls_one(const char *path, const char *name, int flags) {
  struct stat st;
  if (lstat_path(path, &st) < 0) return warn("ls", path), -1;
  if (flags & LS_LONG) {
    ls_mode(st.st_mode);
    outu(st.st_nlink, 5), out(" ");
    outu(st.st_uid, -8), out(" ");
    outu(st.st_gid, -8);
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      outu(dev_major(st.st_rdev), 5), out(", "), outu(dev_minor(st.st_rdev), 4);
    } else {
      outu((u64)st.st_size, 11);
    }
    out(" ");
    ls_date(st.st_mtim.tv_sec);
    out(" ");
  }
  out(name);
  if (flags & LS_CLASSIFY) {
    if (S_ISDIR(st.st_mode)) out("/");
    else if (S_ISLNK(st.st_mode)) out("@");
    else if (S_ISREG(st.st_mode) && (st.st_mode & 0111)) out("*");
  }
  if ((flags & LS_LONG) && S_ISLNK(st.st_mode)) {
    char target[256];
    if (read_link(path, target, sizeof target) >= 0) out(" -> "), out(target);
  }
  out("\n");
  return 0;
}

static int ls_dir(const char *dir, int flags) {
  ls_count = 0, ls_used = 0;
  if (each_entry(dir, ls_collect, 0) < 0) return warn("ls", dir), -1;
  int status = 0;
  for (int i = 0; i < ls_count; i++) {
    if (ls_sorted[i][0] == '.' && !(flags & LS_ALL)) continue;
    char path[512];
    path_join(path, sizeof path, dir, ls_sorted[i]);
    if (ls_one(path, ls_sorted[i], flags) < 0) status = -1;
  }
  return status;
}

int ls_main(int argc, char **argv) {
  int flags = 0, i = 1, status = 0;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++)
    for (const char *f = argv[i] + 1; *f; f++) {
      if (*f == 'l') flags |= LS_LONG;
      else if (*f == 'a' || *f == 'A') flags |= LS_ALL;
      else if (*f == 'F' || *f == 'p') flags |= LS_CLASSIFY;
      else if (*f != '1') return warn_msg("ls", "usage: ls [-l] [-a] [-F] [PATH]..."), 2;
    }
  if (i == argc) return ls_dir(".", flags) < 0 ? 2 : 0;
  int many = argc - i > 1;
  for (int k = i; k < argc; k++) {
    struct stat st;
    if (stat(argv[k], &st) < 0) {
      warn("ls", argv[k]);
      status = 2;
    } else if (S_ISDIR(st.st_mode)) {
      if (many) out(k > i ? "\n" : ""), out(argv[k]), out(":\n");
      if (ls_dir(argv[k], flags) < 0) status = 2;
    } else if (ls_one(argv[k], argv[k], flags) < 0) {
      status = 2;
    }
  }
  return status;
}
