/*
 * $((EXPR)): integer arithmetic in 64 bits. Numbers, variables (NAME or $NAME; unset or
 * not a number is 0), ( ), unary - + !, * / %, + -, < <= > >=, == !=, && || (C's
 * precedence, from highest to lowest as listed). Division by zero is an error.
 */
#include "sh.h"

static const char *at;
static int failed;

static void blanks(void) {
  while (*at == ' ' || *at == '\t') at++;
}

static int take(const char *op) {
  blanks();
  size_t n = strlen(op);
  if (strncmp(at, op, n)) return 0;
  if (n == 1 && (op[0] == '<' || op[0] == '>' || op[0] == '!') && at[1] == '=') return 0; /* <= not < */
  if (n == 1 && (op[0] == '&' || op[0] == '|')) return 0;
  at += n;
  return 1;
}

static s64 expr_or(void);

static s64 atom(void) {
  blanks();
  if (take("(")) {
    s64 v = expr_or();
    if (!take(")")) failed = 1;
    return v;
  }
  if (take("-")) return -atom();
  if (take("+")) return atom();
  if (take("!")) return !atom();
  if (*at == '$') at++;
  if (isdigit((unsigned char)*at)) {
    s64 v = 0;
    while (isdigit((unsigned char)*at)) v = v * 10 + (*at++ - '0');
    return v;
  }
  char name[64];
  size_t n = 0;
  while ((isalnum((unsigned char)*at) || *at == '_') && n < sizeof name - 1) name[n++] = *at++;
  name[n] = 0;
  if (!n) return failed = 1, 0;
  const char *v = var_get(name);
  return v ? strtoll(v, 0, 10) : 0;
}

static s64 product(void) {
  s64 v = atom();
  for (;;) {
    if (take("*")) v *= atom();
    else if (take("/") || take("%")) {
      char op = at[-1];
      s64 d = atom();
      if (!d) return failed = 1, 0;
      v = op == '/' ? v / d : v % d;
    } else return v;
  }
}

static s64 sum(void) {
  s64 v = product();
  for (;;) {
    if (take("+")) v += product();
    else if (take("-")) v -= product();
    else return v;
  }
}

static s64 compare(void) {
  s64 v = sum();
  for (;;) {
    if (take("<=")) v = v <= sum();
    else if (take(">=")) v = v >= sum();
    else if (take("<")) v = v < sum();
    else if (take(">")) v = v > sum();
    else if (take("==")) v = v == sum();
    else if (take("!=")) v = v != sum();
    else return v;
  }
}

static s64 expr_and(void) {
  s64 v = compare();
  while (take("&&")) v = compare() && v;
  return v;
}

static s64 expr_or(void) {
  s64 v = expr_and();
  while (take("||")) v = expr_and() || v;
  return v;
}

int sh_arith(const char *text, s64 *value) {
  at = text, failed = 0;
  *value = expr_or();
  blanks();
  return !failed && !*at;
}
