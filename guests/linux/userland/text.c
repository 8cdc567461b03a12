/* Text filters: wc, head, grep (fixed strings). */
#include "box.h"

/* Open FILE for reading ("-" or none: standard input); -1 after a message. */
static int open_in(const char *who, const char *name) {
  if (!name || !strcmp(name, "-")) return 0;
  int fd = open(name, O_RDONLY);
  if (fd < 0) warn(who, name);
  return fd;
}

/* Lines of fd, each passed to fn with its length (without the newline); a line longer
 * than the buffer comes in pieces. Stops when fn returns nonzero. */
static void each_line(int fd, int (*fn)(const char *line, size_t len, void *arg), void *arg) {
  static char buf[4096];
  size_t have = 0;
  ssize_t n;
  while ((n = read(fd, buf + have, sizeof buf - have)) > 0 || have) {
    if (n > 0) have += (size_t)n;
    size_t start = 0;
    for (size_t i = 0; i < have; i++)
      if (buf[i] == '\n') {
        if (fn(buf + start, i - start, arg)) return;
        start = i + 1;
      }
    if (start == 0 && (have == sizeof buf || n <= 0)) { /* a full buffer, or the last line */
      if (fn(buf, have, arg)) return;
      start = have;
    }
    memmove(buf, buf + start, have - start);
    have -= start;
    if (n <= 0 && !have) break;
  }
}

/* wc [-l] [-w] [-c]: GNU's order (lines, words, bytes); without flags, all three. */
static void wc_line(const u64 *n, int flags, const char *name) {
  int first = 1;
  for (int k = 0; k < 3; k++) {
    if (!(flags & (1 << k))) continue;
    if (!first) out(" ");
    outu(n[k], flags == 7 ? 7 : 0);
    first = 0;
  }
  if (name) out(" "), out(name);
  out("\n");
}

int wc_main(int argc, char **argv) {
  int flags = 0, i = 1, status = 0, files = 0;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++)
    for (const char *f = argv[i] + 1; *f; f++) flags |= *f == 'l' ? 1 : *f == 'w' ? 2 : *f == 'c' ? 4 : 0;
  if (!flags) flags = 7;
  u64 total[3] = {0, 0, 0};
  for (int k = i; k < argc || (k == i && i == argc); k++) {
    const char *name = k < argc ? argv[k] : 0;
    int fd = name && strcmp(name, "-") ? open(name, O_RDONLY) : 0;
    if (fd < 0) {
      warn("wc", name);
      status = 1;
      continue;
    }
    u64 n[3] = {0, 0, 0};
    char buf[1024];
    ssize_t got;
    int inword = 0;
    while ((got = read(fd, buf, sizeof buf)) > 0) {
      for (ssize_t j = 0; j < got; j++) {
        char c = buf[j];
        if (c == '\n') n[0]++;
        int space = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
        if (!space && !inword) n[1]++;
        inword = !space;
      }
      n[2] += (u64)got;
    }
    if (fd > 0) close(fd);
    for (int j = 0; j < 3; j++) total[j] += n[j];
    wc_line(n, flags, name);
    files++;
  }
  if (files > 1) wc_line(total, flags, "total");
  return status;
}

/* head [-n N | -N] [FILE]...: the first N lines (10) */
static int head_line(const char *line, size_t len, void *arg) {
  u64 *left = arg;
  if (!*left) return 1;
  outn(line, len), out("\n");
  return --*left == 0;
}

int head_main(int argc, char **argv) {
  u64 lines = 10;
  int i = 1, status = 0;
  if (i < argc && !strcmp(argv[i], "-n") && i + 1 < argc) {
    if (!parse_u64(argv[i + 1], &lines)) return warn_msg("head", "invalid number of lines"), 1;
    i += 2;
  } else if (i < argc && argv[i][0] == '-' && parse_u64(argv[i] + 1, &lines)) {
    i++;
  }
  for (int k = i; k < argc || (k == i && i == argc); k++) {
    int fd = open_in("head", k < argc ? argv[k] : 0);
    if (fd < 0) {
      status = 1;
      continue;
    }
    if (argc - i > 1) out(k > i ? "\n==> " : "==> "), out(argv[k]), out(" <==\n");
    u64 left = lines;
    if (left) each_line(fd, head_line, &left);
    if (fd > 0) close(fd);
  }
  return status;
}

/* grep [-i] [-v] [-c] [-n] STRING [FILE]...: lines holding STRING (a fixed string, no
 * regular expressions); status 0 if a line was selected, 1 if none, 2 on an error. */
static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

struct grep {
  const char *pat, *file;
  int ignore_case, invert, count_only, numbers;
  u64 lineno, matches;
};

static int grep_line(const char *line, size_t len, void *arg) {
  struct grep *g = arg;
  size_t n = strlen(g->pat);
  int found = 0;
  g->lineno++;
  for (size_t i = 0; !found && i + n <= len; i++) {
    size_t k = 0;
    while (k < n && (g->ignore_case ? lower(line[i + k]) == lower(g->pat[k]) : line[i + k] == g->pat[k])) k++;
    found = k == n;
  }
  if (found == g->invert) return 0;
  g->matches++;
  if (g->count_only) return 0;
  if (g->file) out(g->file), out(":");
  if (g->numbers) outu(g->lineno, 0), out(":");
  outn(line, len), out("\n");
  return 0;
}

int grep_main(int argc, char **argv) {
  struct grep g = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 1, status = 0;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++)
    for (const char *f = argv[i] + 1; *f; f++) {
      if (*f == 'i') g.ignore_case = 1;
      else if (*f == 'v') g.invert = 1;
      else if (*f == 'c') g.count_only = 1;
      else if (*f == 'n') g.numbers = 1;
      else return warn_msg("grep", "usage: grep [-i] [-v] [-c] [-n] STRING [FILE]..."), 2;
    }
  if (i == argc) return warn_msg("grep", "usage: grep [-i] [-v] [-c] [-n] STRING [FILE]..."), 2;
  g.pat = argv[i++];
  u64 total = 0;
  for (int k = i; k < argc || (k == i && i == argc); k++) {
    int fd = open_in("grep", k < argc ? argv[k] : 0);
    if (fd < 0) {
      status = 2;
      continue;
    }
    g.file = argc - i > 1 ? argv[k] : 0, g.lineno = 0, g.matches = 0;
    each_line(fd, grep_line, &g);
    if (g.count_only) {
      if (g.file) out(g.file), out(":");
      outu(g.matches, 0), out("\n");
    }
    total += g.matches;
    if (fd > 0) close(fd);
  }
  return status ? 2 : total ? 0 : 1;
}
