/*
 * The shell's compound commands: if COND; then CMDS; [elif COND; then CMDS;]... [else CMDS;] fi,
 * while COND; do CMDS; done, and for NAME in WORDS; do CMDS; done. Each part is found in
 * the text by its keyword at the start of a command (nested compounds counted), copied and
 * run by sh_run_text, so the rest of the shell never sees them. A compound may be followed
 * by ; && || or a newline, not by | or a redirection. ^C in a loop's command ends the loop;
 * break and continue (builtins) end the loop or the round.
 */
#include "sh.h"

int sh_loops;
char sh_jump;

/* The token at p (after blanks and comments): a word, or an operator (; | & && || < > \n).
 * Returns the position after it; *start and *len say where it is (len 0: the end). */
static const char *token(const char *p, const char **start, size_t *len) {
  while (*p == ' ' || *p == '\t') p++;
  if (*p == '#') while (*p && *p != '\n') p++;
  *start = p;
  if (!*p) return *len = 0, p;
  if (strchr(";|&<>\n", *p)) {
    const char *q = p + 1;
    if ((*p == '&' || *p == '|' || *p == '>') && *q == *p) q++;
    return *len = (size_t)(q - p), q;
  }
  while (*p && !strchr(" \t;|&<>\n", *p)) {
    char q = *p++;
    if (q == '\'' || q == '"') {
      while (*p && *p != q) p += *p == '\\' && q == '"' && p[1] ? 2 : 1;
      if (*p) p++;
    } else if (q == '\\' && *p) {
      p++;
    } else if (q == '$' && *p == '(') { /* $(...) and $((...)) are one piece */
      for (int depth = 0; *p; p++) {
        depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
        if (!depth) {
          p++;
          break;
        }
      }
    }
  }
  return *len = (size_t)(p - *start), p;
}

static int is(const char *s, size_t len, const char *word) { return len == strlen(word) && !strncmp(s, word, len); }

/* The next keyword of kws ("then", "fi" ...) at the start of a command at nesting depth 0;
 * returns where it starts and sets *which (its index) and *after; 0 if there is none. */
static const char *find_kw(const char *p, const char *const *kws, int nkws, int *which, const char **after) {
  int depth = 0, cmd_start = 1;
  for (;;) {
    const char *s;
    size_t n;
    p = token(p, &s, &n);
    if (!n) return 0;
    if (strchr(";|&\n", *s)) {
      cmd_start = 1;
      continue;
    }
    if (cmd_start && !depth)
      for (int k = 0; k < nkws; k++)
        if (is(s, n, kws[k])) return *which = k, *after = p, s;
    if (cmd_start && (is(s, n, "if") || is(s, n, "while") || is(s, n, "for"))) depth++;
    else if (cmd_start && (is(s, n, "fi") || is(s, n, "done"))) depth--;
    cmd_start = cmd_start && (is(s, n, "then") || is(s, n, "do") || is(s, n, "else") || is(s, n, "elif") ||
                              is(s, n, "if") || is(s, n, "while"));
  }
}

/* Run the text from start to end as commands; the status. */
static int run_part(const char *start, const char *end) {
  size_t n = (size_t)(end - start);
  char *text = malloc(n + 1);
  if (!text) return warn_msg("sh", "out of memory"), 1;
  memcpy(text, start, n), text[n] = 0;
  int status = sh_run_text(text);
  free(text);
  return status;
}

static const char *syntax(const char *what) {
  warn_msg("sh", what);
  return 0;
}

int flow_at(const char *p) {
  const char *s;
  size_t n;
  token(p, &s, &n);
  return is(s, n, "if") || is(s, n, "while") || is(s, n, "for");
}

static const char *run_if(const char *p, int run, int *status) {
  static const char *const then_kw[] = {"then"}, *const branch_kw[] = {"elif", "else", "fi"}, *const fi_kw[] = {"fi"};
  int done = 0, which;
  *status = 0;
  for (;;) {
    const char *after, *cond = p, *cond_end = find_kw(p, then_kw, 1, &which, &after);
    if (!cond_end) return syntax("syntax error: if without then");
    const char *body = after, *body_end = find_kw(body, branch_kw, 3, &which, &after);
    if (!body_end) return syntax("syntax error: if without fi");
    if (run && !done && run_part(cond, cond_end) == 0) *status = run_part(body, body_end), done = 1;
    p = after;
    if (which == 0) continue; /* elif */
    if (which == 1) {         /* else */
      const char *end = find_kw(p, fi_kw, 1, &which, &after);
      if (!end) return syntax("syntax error: else without fi");
      if (run && !done) *status = run_part(p, end);
      p = after;
    }
    return p;
  }
}

static const char *run_loop(const char *p, int run, int *status, char **words, const char *name) {
  static const char *const do_kw[] = {"do"}, *const done_kw[] = {"done"};
  int which;
  const char *after, *cond = p, *cond_end = find_kw(p, do_kw, 1, &which, &after);
  if (!cond_end) return syntax("syntax error: a loop without do");
  const char *body = after, *body_end = find_kw(body, done_kw, 1, &which, &after);
  if (!body_end) return syntax("syntax error: a loop without done");
  *status = 0;
  sh_interrupted = 0;
  sh_loops++;
  for (int i = 0; run && !sh_interrupted; i++) {
    if (words) {
      if (!words[i]) break;
      var_set(name, words[i], 0);
    } else if (run_part(cond, cond_end) != 0) {
      break;
    }
    *status = run_part(body, body_end);
    char jump = sh_jump;
    sh_jump = 0;
    if (jump == 'b') break;
  }
  sh_loops--;
  return after;
}

/* Run (if run) the compound at p; the position after it and its operator (*op: ';' 'A'
 * for &&, 'O' for ||, 0 at the end), or 0 after a syntax error. */
const char *flow_run(const char *p, int run, int *status, int *op) {
  const char *s;
  size_t n;
  p = token(p, &s, &n);
  if (is(s, n, "if")) {
    p = run_if(p, run, status);
  } else if (is(s, n, "while")) {
    p = run_loop(p, run, status, 0, 0);
  } else {
    char name[64];
    const char *w;
    p = token(p, &s, &n);
    if (!n || n >= sizeof name) return syntax("syntax error: for without a name");
    memcpy(name, s, n), name[n] = 0;
    p = token(p, &w, &n);
    if (!is(w, n, "in")) return syntax("syntax error: for NAME in WORDS; do ...; done");
    const char *words = p, *end = p;
    for (;;) { /* the words go up to ; or a newline */
      p = token(end, &s, &n);
      if (!n || *s == ';' || *s == '\n') break;
      end = p;
    }
    p = end;
    while (*p == ' ' || *p == '\t') p++;
    char *text = malloc((size_t)(p - words) + 1);
    if (!text) return syntax("out of memory");
    memcpy(text, words, (size_t)(p - words)), text[p - words] = 0;
    char **list = sh_words(text);
    free(text);
    if (*p) p++;
    p = list ? run_loop(p, run, status, list, name) : 0;
    free(list);
  }
  if (!p) return 0;
  const char *next = token(p, &s, &n);
  if (!n) return *op = 0, next;
  if (*s == ';' || *s == '\n') return *op = ';', next;
  if (is(s, n, "&&") || is(s, n, "||")) return *op = *s == '&' ? 'A' : 'O', next;
  return syntax("a pipe or redirection after fi or done is not supported");
}
