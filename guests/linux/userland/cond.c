/*
 * test EXPR and [ EXPR ]: the conditions of if and while. EXPR: STRING (true if not
 * empty), -n S, -z S, S = S, S != S, N -eq -ne -lt -le -gt -ge N, -e -f -d -h -L -r -w -x
 * -s FILE, ! EXPR, EXPR -a EXPR, EXPR -o EXPR (-a binding tighter). Status 0 true, 1 false,
 * 2 on a syntax error.
 */
#include "box.h"

static char **args;
static int nargs, at, bad;

static const char *next(void) { return at < nargs ? args[at++] : (bad = 1, ""); }
static const char *peek(void) { return at < nargs ? args[at] : 0; }

static int number(const char *s, s64 *v) {
  int neg = *s == '-';
  u64 u;
  if (!parse_u64(s + neg, &u)) return bad = 1, 0;
  *v = neg ? -(s64)u : (s64)u;
  return 1;
}

static int file_test(char op, const char *path) {
  struct stat st;
  if (op == 'h' || op == 'L') return lstat_path(path, &st) == 0 && S_ISLNK(st.st_mode);
  if (stat(path, &st) < 0) return 0;
  switch (op) {
  case 'e': case 'r': case 'w': return 1; /* root may read and write anything */
  case 'f': return S_ISREG(st.st_mode);
  case 'd': return S_ISDIR(st.st_mode);
  case 'x': return (st.st_mode & 0111) != 0;
  case 's': return st.st_size > 0;
  default: return bad = 1, 0;
  }
}

static int primary(void) {
  const char *a = next();
  if (!strcmp(a, "!")) return !primary();
  const char *op = peek();
  int binary = op && (!strcmp(op, "=") || !strcmp(op, "!="));
  if (a[0] == '-' && a[1] && !a[2] && strchr("nzefdhLrwxs", a[1]) && op && !binary) { /* -X ARG */
    const char *v = next();
    if (a[1] == 'n') return *v != 0;
    if (a[1] == 'z') return *v == 0;
    return file_test(a[1], v);
  }
  if (binary) {
    at++;
    int same = !strcmp(a, next());
    return op[0] == '=' ? same : !same;
  }
  if (op && op[0] == '-' && strlen(op) == 3 && strchr("elgn", op[1])) {
    s64 x, y;
    at++;
    if (!number(a, &x) || !number(next(), &y)) return 0;
    if (!strcmp(op, "-eq")) return x == y;
    if (!strcmp(op, "-ne")) return x != y;
    if (!strcmp(op, "-lt")) return x < y;
    if (!strcmp(op, "-le")) return x <= y;
    if (!strcmp(op, "-gt")) return x > y;
    if (!strcmp(op, "-ge")) return x >= y;
    return bad = 1, 0;
  }
  return *a != 0;
}

static int and_expr(void) {
  int v = primary();
  while (peek() && !strcmp(peek(), "-a")) at++, v = primary() && v;
  return v;
}

static int or_expr(void) {
  int v = and_expr();
  while (peek() && !strcmp(peek(), "-o")) at++, v = and_expr() || v;
  return v;
}

int test_main(int argc, char **argv) {
  if (!strcmp(base_name(argv[0]), "[")) {
    if (strcmp(argv[argc - 1], "]")) return warn_msg("[", "missing ]"), 2;
    argc--;
  }
  args = argv + 1, nargs = argc - 1, at = 0, bad = 0;
  if (!nargs) return 1;
  int v = or_expr();
  if (bad || at != nargs) return warn_msg("test", "syntax error"), 2;
  return !v;
}
