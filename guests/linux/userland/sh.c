/*
 * sh: the shell. A command line is a list of pipelines joined by ; && || & or newlines;
 * a pipeline is commands joined by |; a command is NAME=VALUE assignments, words and
 * redirections (< > >> N> N>> N< N>&M). Words: '...' literal, "..." with $ expansion,
 * \ escapes, $NAME ${NAME} $? $$ $# $0..$9 $@ $((EXPR)), ~ at the start, * and ? patterns
 * in the last path component. No field splitting. if, while and for are sh_flow.c's.
 *
 * Each pipeline is parsed and expanded just before it runs, so $? is the status of the one
 * before (false; echo $?).
 */
#include "sh.h"

int sh_status, sh_interactive;
static char **pos_argv; /* $0, $1 ... */
static int pos_argc;

/* ---- words ---- */
static char wordbuf[SH_WORDBUF];
static size_t wordused;
static const char *src; /* the text being parsed */

void put_char(char c) {
  if (wordused < sizeof wordbuf - 1) wordbuf[wordused++] = c;
}

void put_str(const char *s) {
  while (s && *s) put_char(*s++);
}

char *word_end(void) { return wordbuf + wordused; }

/* An expansion's value: outside double quotes its blanks split words (marked \3 until
 * add_word splits there). */
static int splitting;

static void put_value(const char *s) {
  for (; s && *s; s++) put_char(splitting && (*s == ' ' || *s == '\t' || *s == '\n') ? 3 : *s);
}

static int is_name_char(char c, int first) { return c == '_' || isalpha((unsigned char)c) || (!first && isdigit((unsigned char)c)); }

/* $... at src (just past the $) */
static void expand_dollar(void) {
  char name[64], num[21];
  size_t n = 0;
  if (src[0] == '(' && src[1] == '(') { /* $((EXPR)) */
    const char *end = src + 2;
    int depth = 0;
    while (*end && !(depth == 0 && end[0] == ')' && end[1] == ')')) depth += *end == '(' ? 1 : *end == ')' ? -1 : 0, end++;
    char expr[128];
    size_t len = (size_t)(end - src - 2);
    s64 v = 0;
    if (!*end || len >= sizeof expr) return warn_msg("sh", "$(( without ))"), src = end, (void)0;
    memcpy(expr, src + 2, len), expr[len] = 0;
    src = end + 2;
    if (!sh_arith(expr, &v)) return warn_msg("sh", "bad arithmetic"), (void)0;
    if (v < 0) put_char('-'), v = -v;
    put_str(fmt_u(num, (u64)v));
    return;
  }
  if (src[0] == '(') { /* $(COMMAND): its output, the last newlines dropped */
    const char *end = src + 1;
    int depth = 0;
    for (; *end && (depth || *end != ')'); end++) {
      if (*end == '\'' || *end == '"')
        for (char q = *end++; *end && *end != q; end++) {}
      else depth += *end == '(' ? 1 : *end == ')' ? -1 : 0;
      if (!*end) break;
    }
    char cmd[512], output[2048];
    size_t len = (size_t)(end - src - 1);
    if (!*end || len >= sizeof cmd) return warn_msg("sh", "$( without )"), src = end, (void)0;
    memcpy(cmd, src + 1, len), cmd[len] = 0;
    src = end + 1;
    sh_capture(cmd, output, sizeof output);
    put_value(output);
    return;
  }
  int braces = *src == '{';
  if (braces) src++;
  if (*src == '?' || *src == '$' || *src == '#' || *src == '@' || *src == '*' || isdigit((unsigned char)*src)) {
    char c = *src++;
    if (c == '?') put_str(fmt_u(num, (u64)sh_status));
    else if (c == '$') put_str(fmt_u(num, (u64)getpid()));
    else if (c == '#') put_str(fmt_u(num, (u64)(pos_argc > 0 ? pos_argc - 1 : 0)));
    else if (c == '@' || c == '*')
      for (int i = 1; i < pos_argc; i++) put_value(pos_argv[i]), i + 1 < pos_argc ? put_char(splitting ? 3 : ' ') : (void)0;
    else if (c - '0' < pos_argc) put_value(pos_argv[c - '0']);
  } else if (is_name_char(*src, 1)) {
    while (is_name_char(*src, 0) && n < sizeof name - 1) name[n++] = *src++;
    name[n] = 0;
    put_value(var_get(name));
  } else {
    put_char('$');
  }
  if (braces && *src == '}') src++;
}

static int is_op_char(char c) { return c == ';' || c == '|' || c == '&' || c == '<' || c == '>' || c == '\n'; }

/* One word from src into wordbuf; returns it, or 0 at an operator or the end. *flags:
 * W_GLOB when it has an unquoted * or ? (marked in the text as \1 and \2), W_QUOTED when
 * it has quotes (so that "" is a word, and an unquoted expansion to nothing is none). */
#define W_GLOB 1
#define W_QUOTED 2
static char *read_word(int *flags) {
  while (*src == ' ' || *src == '\t') src++;
  if (*src == '#') while (*src && *src != '\n') src++;
  if (!*src || is_op_char(*src)) return 0;
  char *start = wordbuf + wordused;
  *flags = 0;
  if (*src == '~' && (src[1] == '/' || !src[1] || src[1] == ' ' || is_op_char(src[1]))) src++, put_str(var_get("HOME"));
  while (*src && *src != ' ' && *src != '\t' && !is_op_char(*src)) {
    char c = *src++;
    if (c == '\'') {
      *flags |= W_QUOTED;
      while (*src && *src != '\'') put_char(*src++);
      if (*src) src++;
    } else if (c == '"') {
      *flags |= W_QUOTED;
      splitting = 0;
      while (*src && *src != '"') {
        if (*src == '\\' && (src[1] == '"' || src[1] == '\\' || src[1] == '$' || src[1] == '`')) src++, put_char(*src++);
        else if (*src == '$') src++, expand_dollar();
        else put_char(*src++);
      }
      if (*src) src++;
    } else if (c == '\\') {
      if (*src == '\n') src++;
      else if (*src) put_char(*src++);
    } else if (c == '$') {
      splitting = 1;
      expand_dollar();
    } else if (c == '*' || c == '?') {
      put_char(c == '*' ? 1 : 2), *flags |= W_GLOB;
    } else {
      put_char(c);
    }
  }
  put_char(0);
  return start;
}

/* The word as written: the pattern marks back to * and ?, the split marks to blanks */
char *unmark(char *w) {
  for (char *p = w; *p; p++)
    if (*p >= 1 && *p <= 3) *p = *p == 1 ? '*' : *p == 2 ? '?' : ' ';
  return w;
}

/* The fields of a word (split where an unquoted expansion had blanks), patterns expanded */
static void add_word(struct cmd *c, char *w, int flags) {
  if (!*w && !(flags & W_QUOTED)) return;
  if (!strchr(w, 3)) {
    add_field(c, w, flags & W_GLOB);
    return;
  }
  for (char *f = w, *end; *f; f = end) {
    while (*f == 3) f++;
    for (end = f; *end && *end != 3; end++) {}
    if (*end) *end++ = 0;
    if (*f) add_field(c, f, (flags & W_GLOB) && (strchr(f, 1) || strchr(f, 2)));
  }
}

/* One command; returns the operator that ended it ('|', ';', '&', 'A' for &&, 'O' for ||, 0). */
static int parse_cmd(struct cmd *c) {
  memset(c, 0, sizeof *c);
  for (;;) {
    while (*src == ' ' || *src == '\t') src++;
    int fd = -1;
    const char *p = src;
    while (isdigit((unsigned char)*p)) p++;
    if (p > src && (*p == '<' || *p == '>')) fd = (int)strtol(src, 0, 10), src = p;
    if (*src == '<' || *src == '>') {
      char op = *src++;
      if (op == '>' && *src == '>') op = 'a', src++;
      if (op == '>' && *src == '&') op = '&', src++;
      int flags;
      char *target = read_word(&flags);
      if (!target) return warn_msg("sh", "syntax error: a redirection with no file"), -1;
      if (c->nredir < SH_MAXREDIR) c->redirs[c->nredir++] = (struct redir){fd >= 0 ? fd : op == '<' ? 0 : 1, op, unmark(target)};
      continue;
    }
    int flags;
    char *w = read_word(&flags);
    if (!w) break;
    char *eq = strchr(w, '=');
    if (!c->argc && eq && eq > w && c->nassign < 8) {
      int name_ok = 1;
      for (char *q = w; q < eq; q++) name_ok &= is_name_char(*q, q == w);
      if (name_ok) {
        c->assigns[c->nassign++] = unmark(w);
        continue;
      }
    }
    add_word(c, w, flags);
  }
  c->argv[c->argc] = 0;
  char op = *src;
  if (!op) return 0;
  src++;
  if (op == '|' && *src == '|') return src++, 'O';
  if (op == '&' && *src == '&') return src++, 'A';
  return op == '\n' ? ';' : op;
}

/* Parse and run the pipelines of text, one after the other. A builtin may run text of its
 * own (. FILE): the words of the pipeline running it stay below `base` in wordbuf. */
int sh_run_text(const char *text) {
  struct pipeline p;
  const char *saved = src;
  size_t base = wordused;
  int skip = 0; /* after && with a failure, or || with a success */
  src = text;
  while (*src && !sh_jump) {
    wordused = base;
    p.n = 0, p.background = 0;
    int op;
    if (flow_at(src)) {
      int status = 0;
      const char *next = flow_run(src, !skip, &status, &op);
      if (!next) {
        sh_status = 2;
        break;
      }
      src = next;
      if (!skip) sh_status = status;
      skip = (op == 'A' && sh_status != 0) || (op == 'O' && sh_status == 0);
      continue;
    }
    /* "! PIPELINE": its status negated (POSIX 2.9.2) */
    const char *bang = src;
    while (*bang == ' ' || *bang == '\t') bang++;
    int negate = bang[0] == '!' && (bang[1] == ' ' || bang[1] == '\t');
    if (negate) src = bang + 1;
    do {
      op = parse_cmd(&p.cmds[p.n]);
      if (op < 0) {
        sh_status = 2;
        while (*src && *src != '\n') src++;
        break;
      }
      if (p.cmds[p.n].argc || p.cmds[p.n].nassign || p.cmds[p.n].nredir) p.n++;
    } while (op == '|' && p.n < SH_MAXCMDS);
    if (op < 0) continue;
    p.background = op == '&';
    if (p.n && !skip) sh_status = run_pipeline(&p);
    if (p.n && !skip && negate) sh_status = !sh_status;
    if (p.n || op == 'A' || op == 'O') skip = (op == 'A' && sh_status != 0) || (op == 'O' && sh_status == 0);
    if (op == ';' || op == '&' || op == 0) skip = 0;
  }
  src = saved;
  wordused = base;
  return sh_status;
}

char **sh_words(const char *text) {
  const char *saved = src;
  size_t base = wordused, size = 0;
  struct cmd c;
  src = text;
  int op = parse_cmd(&c);
  src = saved;
  wordused = base;
  if (op != 0 || c.nredir || c.nassign) return warn_msg("sh", "syntax error in for's words"), (char **)0;
  for (int i = 0; i < c.argc; i++) size += strlen(c.argv[i]) + 1;
  char **list = malloc(sizeof(char *) * (size_t)(c.argc + 1) + size);
  if (!list) return 0;
  char *at = (char *)(list + c.argc + 1);
  for (int i = 0; i < c.argc; i++) list[i] = at, at += strlen(strcpy(at, c.argv[i])) + 1;
  list[c.argc] = 0;
  return list;
}

void sh_exit(int status) {
  term_restore();
  exit(status);
}

/* sh [-i] [-c CMD [NAME [ARG]...] | FILE [ARG]...] */
int sh_main(int argc, char **argv) {
  for (char **e = environ; e && *e; e++) {
    char *eq = strchr(*e, '=');
    if (!eq) continue;
    *eq = 0;
    var_set(*e, eq + 1, 1);
    *eq = '=';
  }
  if (!var_get("PATH")) var_set("PATH", "/bin:/sbin", 1);
  int i = 1;
  if (i < argc && !strcmp(argv[i], "-i")) sh_interactive = 1, i++;
  pos_argv = argv, pos_argc = 1;
  if (i + 1 < argc && !strcmp(argv[i], "-c")) { /* sh -c CMD [NAME [ARG]...]: $0 NAME */
    if (i + 2 < argc) pos_argv = argv + i + 2, pos_argc = argc - i - 2;
    sh_exit(sh_run_text(argv[i + 1]));
  }
  if (i < argc) {
    pos_argv = argv + i, pos_argc = argc - i;
    sh_exit(sh_source(argv[i], argc - i, argv + i));
  }
  static char line[1024];
  struct termios t;
  if (ioctl(0, TCGETS, &t) == 0) sh_interactive = 1;
  /* ^C and ^\ stop the command in the foreground, not the shell (its children reset them) */
  if (sh_interactive) ignore_signal(2, 1), ignore_signal(3, 1);
  for (;;) {
    const char *ps1 = var_get("PS1");
    int n = line_read(sh_interactive ? (ps1 ? ps1 : "hyperlab# ") : 0, line, sizeof line);
    if (n < 0) break;
    if (sh_interactive) history_add(line);
    reap_background();
    sh_run_text(line);
  }
  if (sh_interactive) out("exit\n");
  sh_exit(sh_status);
}
