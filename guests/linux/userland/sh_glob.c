/* Patterns: * and ? in the last path component of a word, matched against the directory's
 * names (sorted; names starting with . only by a pattern starting with .). */
#include "sh.h"

static int match(const char *pat, const char *s) {
  for (; *pat; pat++, s++) {
    if (*pat == 1) {
      for (const char *t = s;; t++) {
        if (match(pat + 1, t)) return 1;
        if (!*t) return 0;
      }
    }
    if (!*s || (*pat != 2 && *pat != *s)) return 0;
  }
  return !*s;
}

struct glob_state {
  struct cmd *c;
  const char *dir, *pat;
  int found;
};

static int glob_entry(const char *name, int type, void *arg) {
  struct glob_state *g = arg;
  (void)type;
  if ((name[0] == '.' && g->pat[0] != '.') || !match(g->pat, name) || g->c->argc >= SH_MAXARGS) return 0;
  char *w = word_end();
  if (strcmp(g->dir, ".")) put_str(g->dir), put_str(strcmp(g->dir, "/") ? "/" : "");
  put_str(name), put_char(0);
  /* keep the matches sorted */
  int j = g->c->argc++;
  while (j > g->c->argc - 1 - g->found && j > 0 && strcmp(g->c->argv[j - 1], w) > 0) g->c->argv[j] = g->c->argv[j - 1], j--;
  g->c->argv[j] = w;
  g->found++;
  return 0;
}

void add_field(struct cmd *c, char *w, int glob) {
  if (glob) {
    char *slash = strrchr(w, '/');
    struct glob_state g = {c, ".", w, 0};
    if (slash) *slash = 0, g.dir = slash == w ? "/" : w, g.pat = slash + 1;
    if (!strchr(g.dir, 1) && !strchr(g.dir, 2)) each_entry(g.dir, glob_entry, &g);
    if (slash) *slash = '/';
    if (g.found) return;
  }
  if (c->argc < SH_MAXARGS) c->argv[c->argc++] = unmark(w); /* no match: as written */
}

