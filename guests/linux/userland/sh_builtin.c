/* The shell's builtins: what must change the shell itself (cd, exit, export...), or read
 * its state (history, help). */
#include "sh.h"

static int b_cd(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : var_get("HOME");
  if (!dir) dir = "/";
  if (chdir(dir) < 0) return warn("cd", dir), 1;
  char cwd[256];
  if (my_syscall2(__NR_getcwd, cwd, sizeof cwd) > 0) var_set("PWD", cwd, 0);
  return 0;
}

static int b_exit(int argc, char **argv) {
  u64 n = (u64)sh_status;
  if (argc > 1 && !parse_u64(argv[1], &n)) return warn_msg("exit", "numeric argument required"), 2;
  if (sh_interactive) out("exit\n");
  sh_exit((int)(n & 255));
}

/* export [NAME[=VALUE]]...; alone, the exported variables */
static int b_export(int argc, char **argv) {
  if (argc == 1) return var_list(1), 0;
  for (int i = 1; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (eq) *eq = 0;
    const char *v = eq ? eq + 1 : var_get(argv[i]);
    var_set(argv[i], v ? v : "", 1);
    if (eq) *eq = '=';
  }
  return 0;
}

static int b_unset(int argc, char **argv) {
  for (int i = 1; i < argc; i++) var_unset(argv[i]);
  return 0;
}

static int b_set(int argc, char **argv) {
  (void)argc, (void)argv;
  var_list(0);
  return 0;
}

static int b_history(int argc, char **argv) {
  (void)argc, (void)argv;
  history_print();
  return 0;
}

static int b_source(int argc, char **argv) {
  if (argc < 2) return warn_msg(".", "usage: . FILE"), 2;
  return sh_source(argv[1], argc - 1, argv + 1);
}

static int b_jump(int argc, char **argv) {
  (void)argc;
  if (!sh_loops) return warn_msg(argv[0], "only meaningful in a loop"), 0;
  sh_jump = argv[0][0];
  return 0;
}

static int b_help(int argc, char **argv) {
  (void)argc, (void)argv;
  out("The shell: CMD; CMD, CMD && CMD, CMD || CMD, CMD &, A | B | C, < FILE, > FILE, >> FILE,\n"
      "2> FILE, 2>&1, 'quotes', \"$VAR\", $?, $((1 + 2)), NAME=VALUE, * and ?, ~,\n"
      "if C; then A; elif C; then B; else D; fi, while C; do A; done, for X in W...; do A; done;\n"
      "up/down recall history, left/right/home/end/^A/^E edit, ^U/^K cut, Tab completes,\n"
      "^C cancels; sh FILE runs a script (#! too).\n"
      "Builtins: cd [DIR], exit [N], export [NAME[=VALUE]], unset NAME, set, history, . FILE,\n"
      "break, continue, help\n"
      "Commands:\n");
  list_applets(1);
  return 0;
}

int is_builtin(const char *name) {
  static const char names[] = "cd exit export unset set history . source help break continue";
  size_t n = strlen(name);
  for (const char *p = names; *p;) {
    const char *end = strchr(p, ' ');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && !strncmp(p, name, n)) return 1;
    p += len + (end != 0);
  }
  return 0;
}

int run_builtin(struct cmd *c, int *status) {
  const char *n = c->argv[0];
  int (*fn)(int, char **) = !strcmp(n, "cd") ? b_cd : !strcmp(n, "exit") ? b_exit : !strcmp(n, "export") ? b_export
                          : !strcmp(n, "unset") ? b_unset : !strcmp(n, "set") ? b_set : !strcmp(n, "history") ? b_history
                          : !strcmp(n, ".") || !strcmp(n, "source") ? b_source : !strcmp(n, "help") ? b_help
                          : !strcmp(n, "break") || !strcmp(n, "continue") ? b_jump : 0;
  if (!fn) return 0;
  *status = fn(c->argc, c->argv);
  return 1;
}
