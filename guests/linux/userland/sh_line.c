/*
 * The line editor and the history. The console is put in raw mode (no ICANON, no ECHO, no
 * ISIG) while a line is read, and back as it was while commands run. Every character is
 * echoed as it is consumed, so however fast input comes the transcript is prompt, line,
 * output: the same on every machine. Redrawing never prints the prompt again (scripts
 * that drive the console wait for it): the cursor moves back over the line instead.
 *
 * Keys: printable characters insert; Backspace; Delete, ^D (on an empty line: end of
 * input); Left, Right, Home, End, ^A, ^E, ^B, ^F; Up, Down, ^P, ^N (history); ^U, ^K cut
 * before, after the cursor; ^W the word before; ^C abandons the line; ^L redraws; Tab
 * completes a command (the first word: $PATH's files and the builtins) or a path: the
 * common part of the matches, and on a second Tab with several, lists them.
 */
#include "sh.h"

#define HISTORY 32
static char history[HISTORY][256];
static int hist_count; /* lines ever added; the last HISTORY are kept */

void history_add(const char *line) {
  while (*line == ' ') line++;
  if (!*line || (hist_count && !strcmp(history[(hist_count - 1) % HISTORY], line))) return;
  strlcpy(history[hist_count % HISTORY], line, sizeof history[0]);
  hist_count++;
}

void history_print(void) {
  for (int i = hist_count > HISTORY ? hist_count - HISTORY : 0; i < hist_count; i++)
    outu((u64)i + 1, 5), out("  "), out(history[i % HISTORY]), out("\n");
}

/* ---- the terminal ---- */
static struct termios saved;
static int raw_on, have_saved;

void term_restore(void) {
  if (raw_on) ioctl(0, TCSETS, &saved), raw_on = 0;
}

static int term_raw(void) {
  struct termios t;
  if (ioctl(0, TCGETS, &t) < 0) return -1;
  if (!raw_on) saved = t, have_saved = 1;
  t.c_lflag &= ~(unsigned)(ICANON | ECHO | ECHOE | ECHOK | ECHONL | ISIG | IEXTEN);
  t.c_cc[VMIN] = 1, t.c_cc[VTIME] = 0;
  ioctl(0, TCSETS, &t);
  raw_on = 1;
  return 0;
}

/* ---- input, a byte at a time from a small buffer ---- */
static char inbuf[64];
static int in_have, in_at;

static int get_byte(void) {
  while (in_at == in_have) {
    int n = (int)read(0, inbuf, sizeof inbuf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    in_have = n, in_at = 0;
  }
  return (unsigned char)inbuf[in_at++];
}

/* A line without editing (not a terminal): bytes up to a newline. */
static int plain_read(char *buf, size_t size) {
  size_t len = 0;
  int c;
  while ((c = get_byte()) >= 0 && c != '\n')
    if (len + 1 < size) buf[len++] = (char)c;
  buf[len] = 0;
  return c < 0 && !len ? -1 : (int)len;
}

/* ---- editing ---- */
static void left(size_t n) {
  char num[21];
  if (!n) return;
  out("\x1b["), out(fmt_u(num, n)), out("D");
}

/* Redraw from the start of the line: the cursor is at `from`, goes to `to`. */
static void redraw(const char *buf, size_t len, size_t from, size_t to) {
  left(from);
  outn(buf, len);
  out("\x1b[K");
  left(len - to);
}

/* ---- completion ---- */
struct completion {
  const char *prefix;
  size_t len, common; /* the prefix's length; the length the matches share */
  char first[128];
  int count, list;    /* list: print each match */
};

static void complete_with(struct completion *c, const char *name, int is_dir) {
  if (strncmp(name, c->prefix, c->len) || (name[0] == '.' && c->prefix[0] != '.')) return;
  if (c->list) out(name), out(is_dir ? "/  " : "  ");
  if (!c->count++) {
    strlcpy(c->first, name, sizeof c->first - 1);
    c->common = strlen(c->first);
    if (is_dir) strlcat(c->first, "/", sizeof c->first);
  } else {
    size_t k = 0;
    while (k < c->common && c->first[k] == name[k]) k++;
    c->common = k;
  }
}

static int complete_entry(const char *name, int type, void *arg) {
  complete_with(arg, name, type == DT_DIR);
  return 0;
}

static void complete_in(struct completion *c, const char *word, size_t wlen, int command) {
  char dir[256] = ".";
  const char *slash = 0;
  for (size_t i = 0; i < wlen; i++)
    if (word[i] == '/') slash = word + i;
  c->prefix = slash ? slash + 1 : word;
  c->len = wlen - (size_t)(c->prefix - word);
  if (slash) {
    size_t n = (size_t)(slash - word);
    if (n >= sizeof dir) return;
    memcpy(dir, word, n), dir[n] = 0;
    if (!n) strlcpy(dir, "/", sizeof dir);
  }
  if (command && !slash) {
    const char *path = var_get("PATH");
    unsigned long seen[8]; /* the directories' inodes: /sbin is /bin here */
    int nseen = 0;
    for (const char *p = path ? path : "/bin"; *p;) {
      const char *end = strchr(p, ':');
      size_t n = end ? (size_t)(end - p) : strlen(p);
      struct stat st;
      int k = 0;
      if (n < sizeof dir) memcpy(dir, p, n), dir[n] = 0;
      if (n < sizeof dir && stat(dir, &st) == 0) {
        while (k < nseen && seen[k] != st.st_ino) k++;
        if (k == nseen && nseen < 8) seen[nseen++] = st.st_ino, each_entry(dir, complete_entry, c);
      }
      p += n + (end != 0);
    }
    static const char builtins[] = "cd\0exit\0export\0unset\0history\0source\0help\0";
    for (const char *b = builtins; *b; b += strlen(b) + 1) complete_with(c, b, 0);
  } else {
    each_entry(dir, complete_entry, c);
  }
}

/* Tab at the cursor (the end of the word being typed); the characters to insert into add. */
static void complete(const char *buf, size_t cur, int list, char *add, size_t size) {
  size_t start = cur;
  while (start && buf[start - 1] != ' ') start--;
  size_t w = start;
  while (w && buf[w - 1] == ' ') w--;
  int command = !w || buf[w - 1] == '|' || buf[w - 1] == ';' || buf[w - 1] == '&';
  struct completion c = {0, 0, 0, "", 0, list};
  add[0] = 0;
  complete_in(&c, buf + start, cur - start, command);
  if (c.count == 1) strlcpy(add, c.first + c.len, size), strlcat(add, c.first[strlen(c.first) - 1] == '/' ? "" : " ", size);
  else if (c.count > 1 && c.common > c.len && c.common - c.len < size) memcpy(add, c.first + c.len, c.common - c.len), add[c.common - c.len] = 0;
}

int line_read(const char *prompt, char *buf, size_t size) {
  if (!prompt || term_raw() < 0) {
    if (prompt) out(prompt);
    return plain_read(buf, size);
  }
  out(prompt);
  size_t len = 0, cur = 0;
  int hist = hist_count; /* the history line shown; hist_count = the line being typed */
  static char typed[256];
  buf[0] = 0;
  int last_tab = 0;
  for (;;) {
    int c = get_byte();
    if (c < 0 || (c == 4 && !len)) return term_restore(), -1;
    if (c != 9) last_tab = 0;
    size_t old_cur = cur;
    if (c == '\r' || c == '\n') {
      out("\n");
      buf[len] = 0;
      term_restore();
      return (int)len;
    } else if (c == 3) { /* ^C */
      out("^C\n");
      buf[0] = 0;
      term_restore();
      return 0;
    } else if (c == 27) {
      int c1 = get_byte(), c2 = c1 == '[' || c1 == 'O' ? get_byte() : -1;
      if (c2 >= '0' && c2 <= '9') { /* ESC [ N ~ */
        int c3 = get_byte();
        c2 = c3 != '~' ? -1 : c2 == '1' || c2 == '7' ? 'H' : c2 == '4' || c2 == '8' ? 'F' : c2 == '3' ? 'X' : -1;
      }
      c = c2 == 'A' ? 16 : c2 == 'B' ? 14 : c2 == 'C' ? 6 : c2 == 'D' ? 2 : c2 == 'H' ? 1 : c2 == 'F' ? 5 : c2 == 'X' ? 4 : 0;
      if (!c) continue;
    }
    if (c == 16 || c == 14) { /* ^P ^N: history */
      int first = hist_count > HISTORY ? hist_count - HISTORY : 0, to = hist + (c == 16 ? -1 : 1);
      if (to < first || to > hist_count) continue;
      if (hist == hist_count) strlcpy(typed, buf, sizeof typed);
      hist = to;
      strlcpy(buf, hist == hist_count ? typed : history[hist % HISTORY], size);
      len = cur = strlen(buf);
      redraw(buf, len, old_cur, cur);
      continue;
    }
    if (c == 127 || c == 8) { /* Backspace */
      if (!cur) continue;
      memmove(buf + cur - 1, buf + cur, len - cur + 1);
      len--, cur--;
      if (cur == len) out("\b \b");
      else redraw(buf, len, old_cur, cur);
    } else if (c == 4) { /* Delete */
      if (cur == len) continue;
      memmove(buf + cur, buf + cur + 1, len - cur);
      len--;
      redraw(buf, len, cur, cur);
    } else if (c == 2 || c == 6) { /* left, right */
      if (c == 2 && cur) cur--, out("\b");
      else if (c == 6 && cur < len) outn(buf + cur, 1), cur++;
    } else if (c == 1 || c == 5) { /* home, end */
      cur = c == 1 ? 0 : len;
      redraw(buf, len, old_cur, cur);
    } else if (c == 21 || c == 11 || c == 23) { /* ^U ^K ^W */
      size_t from = c == 11 ? cur : 0, to = c == 11 ? len : cur;
      if (c == 23) {
        from = cur;
        while (from && buf[from - 1] == ' ') from--;
        while (from && buf[from - 1] != ' ') from--;
      }
      memmove(buf + from, buf + to, len - to + 1);
      len -= to - from, cur = from;
      redraw(buf, len, old_cur, cur);
    } else if (c == 9) { /* Tab */
      char add[128];
      complete(buf, cur, 0, add, sizeof add);
      if (!add[0] && last_tab) { /* a second Tab: the matches, then the line again */
        out("\n");
        complete(buf, cur, 1, add, sizeof add);
        out("\n"), out(prompt), outn(buf, len), left(len - cur);
      }
      for (const char *a = add; *a && len + 1 < size; a++) {
        memmove(buf + cur + 1, buf + cur, len - cur + 1);
        buf[cur++] = *a, len++;
      }
      if (add[0]) redraw(buf, len, old_cur, cur);
      last_tab = !add[0];
      continue;
    } else if (c == 12) { /* ^L */
      out("\x1b[H\x1b[2J"), out(prompt);
      redraw(buf, len, 0, cur);
    } else if (c >= 32 && c < 127 && len + 1 < size) {
      memmove(buf + cur + 1, buf + cur, len - cur + 1);
      buf[cur++] = (char)c, len++;
      if (cur == len) outn(buf + cur - 1, 1);
      else redraw(buf, len, old_cur, cur);
    }
  }
}
