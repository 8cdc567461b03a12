/* The shell's variables: "NAME=VALUE" texts in fixed slots (nolibc's malloc is an mmap per
 * call), some exported to the commands the shell starts. */
#include "sh.h"

struct var {
  char text[256];
  char exported;
};
static struct var vars[64];

static struct var *var_find(const char *name, size_t n) {
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
    if (vars[i].text[0] && !strncmp(vars[i].text, name, n) && vars[i].text[n] == '=') return &vars[i];
  return 0;
}

const char *var_get(const char *name) {
  struct var *v = var_find(name, strlen(name));
  return v ? v->text + strlen(name) + 1 : 0;
}

int var_set(const char *name, const char *value, int export) {
  size_t n = strlen(name);
  struct var *v = var_find(name, n);
  for (size_t i = 0; !v && i < sizeof vars / sizeof vars[0]; i++)
    if (!vars[i].text[0]) v = &vars[i], v->exported = 0;
  if (!v || n + strlen(value) + 2 > sizeof v->text) return warn_msg("sh", "too many variables, or too long"), -1;
  strlcpy(v->text, name, sizeof v->text);
  strlcat(v->text, "=", sizeof v->text);
  strlcat(v->text, value, sizeof v->text);
  if (export) v->exported = export > 0;
  return 0;
}

void var_unset(const char *name) {
  struct var *v = var_find(name, strlen(name));
  if (v) v->text[0] = 0;
}

void var_list(int exported_only) {
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
    if (vars[i].text[0] && (vars[i].exported || !exported_only)) {
      if (exported_only) out("export ");
      out(vars[i].text), out("\n");
    }
}

char **var_environ(void) {
  static char *env[sizeof vars / sizeof vars[0] + 1];
  size_t n = 0;
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
    if (vars[i].text[0] && vars[i].exported) env[n++] = vars[i].text;
  env[n] = 0;
  return env;
}
