/* Small file applets: cat, echo, touch, chmod, pwd, true, false. */
#include "box.h"

int cat_main(int argc, char **argv) {
  int status = 0;
  if (argc < 2) return copy_fd(0, 1) < 0 ? (warn("cat", "-"), 1) : 0;
  for (int i = 1; i < argc; i++) {
    int fd = strcmp(argv[i], "-") ? open(argv[i], O_RDONLY) : 0;
    if (fd < 0 || copy_fd(fd, 1) < 0) {
      warn("cat", argv[i]);
      status = 1;
    }
    if (fd > 0) close(fd);
  }
  return status;
}

/* echo [-n] [-e] ARGS: -e interprets \n \t \\ \c (stop) \0NNN and \xHH. */
static int echo_escape(const char *s, char *buf, size_t *len) {
  for (; *s; s++) {
    char c = *s;
    if (c == '\\' && s[1]) {
      c = *++s;
      if (c == 'n') c = '\n';
      else if (c == 't') c = '\t';
      else if (c == 'r') c = '\r';
      else if (c == 'e') c = 27;
      else if (c == 'a') c = 7;
      else if (c == 'b') c = 8;
      else if (c == 'c') return 1;
      else if (c == '0') {
        int v = 0;
        for (int k = 0; k < 3 && s[1] >= '0' && s[1] <= '7'; k++) v = v * 8 + (*++s - '0');
        c = (char)v;
      } else if (c == 'x') {
        int v = 0;
        for (int k = 0; k < 2 && isxdigit((unsigned char)s[1]); k++, s++)
          v = v * 16 + (isdigit((unsigned char)s[1]) ? s[1] - '0' : (s[1] | 32) - 'a' + 10);
        c = (char)v;
      } else if (c != '\\') buf[(*len)++] = '\\';
    }
    buf[(*len)++] = c;
  }
  return 0;
}

int echo_main(int argc, char **argv) {
  int newline = 1, escapes = 0, i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    const char *f = argv[i] + 1;
    while (*f == 'n' || *f == 'e' || *f == 'E') f++;
    if (*f) break; /* not an option: printed */
    for (f = argv[i] + 1; *f; f++) {
      if (*f == 'n') newline = 0;
      else escapes = *f == 'e';
    }
  }
  for (; i < argc; i++) {
    size_t n = strlen(argv[i]);
    char *buf = argv[i];
    if (escapes) {
      buf = malloc(n + 1);
      if (!buf) return 1;
      size_t len = 0;
      int stop = echo_escape(argv[i], buf, &len);
      outn(buf, len);
      free(buf);
      if (stop) return 0;
    } else {
      outn(buf, n);
    }
    if (i + 1 < argc) out(" ");
  }
  if (newline) out("\n");
  return 0;
}

int touch_main(int argc, char **argv) {
  int status = 0;
  if (argc < 2) return warn_msg("touch", "missing file operand"), 1;
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_WRONLY | O_CREAT, 0644);
    if (fd < 0 || touch_now(argv[i]) < 0) {
      warn("touch", argv[i]);
      status = 1;
    }
    if (fd >= 0) close(fd);
  }
  return status;
}

/* chmod MODE FILE...: MODE octal, or [ugoa]*[+-=][rwx]*, several joined by commas */
static int chmod_mode(const char *spec, unsigned mode, unsigned *out_mode) {
  u64 octal;
  if (parse_u64(spec, &octal)) {
    unsigned v = 0;
    for (const char *p = spec; *p; p++) {
      if (*p > '7') return -1;
      v = v * 8 + (unsigned)(*p - '0');
    }
    *out_mode = v & 07777;
    return 0;
  }
  for (const char *p = spec; *p;) {
    unsigned who = 0, bits = 0;
    for (; *p == 'u' || *p == 'g' || *p == 'o' || *p == 'a'; p++)
      who |= *p == 'u' ? 04700 : *p == 'g' ? 02070 : *p == 'o' ? 01007 : 07777;
    if (!who) who = 07777;
    char op = *p++;
    if (op != '+' && op != '-' && op != '=') return -1;
    for (; *p == 'r' || *p == 'w' || *p == 'x'; p++) bits |= *p == 'r' ? 0444 : *p == 'w' ? 0222 : 0111;
    bits &= who;
    mode = op == '+' ? mode | bits : op == '-' ? mode & ~bits : (mode & ~(who & 0777)) | bits;
    if (*p == ',') p++;
    else if (*p) return -1;
  }
  *out_mode = mode & 07777;
  return 0;
}

int chmod_main(int argc, char **argv) {
  int status = 0;
  if (argc < 3) return warn_msg("chmod", "usage: chmod MODE FILE..."), 1;
  for (int i = 2; i < argc; i++) {
    struct stat st;
    unsigned mode;
    if (stat(argv[i], &st) < 0) {
      warn("chmod", argv[i]);
      status = 1;
    } else if (chmod_mode(argv[1], st.st_mode, &mode) < 0) {
      return warn_msg("chmod", "invalid mode"), 1;
    } else if (chmod(argv[i], mode) < 0) {
      warn("chmod", argv[i]);
      status = 1;
    }
  }
  return status;
}

int pwd_main(int argc, char **argv) {
  char buf[512];
  (void)argc, (void)argv;
  if (my_syscall2(__NR_getcwd, buf, sizeof buf) < 0) return warn_msg("pwd", "cannot get the directory"), 1;
  out(buf), out("\n");
  return 0;
}

int true_main(int argc, char **argv) { return (void)argc, (void)argv, 0; }
int false_main(int argc, char **argv) { return (void)argc, (void)argv, 1; }
