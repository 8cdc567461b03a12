/*
 * The multi-call entry: run the applet named by argv[0] (/bin/ls -> ls, /init -> init), or
 * by argv[1] when run as box itself (`box ls -l`). `box` alone lists the applets.
 */
#include "box.h"

struct applet {
  const char *name, *usage, *what;
  int (*main)(int, char **);
};

#define APPLET_ENTRY(n, u, w) {#n, u, w, n##_main},
static const struct applet applets[] = {APPLETS(APPLET_ENTRY)};
#undef APPLET_ENTRY
#define NAPPLETS (sizeof applets / sizeof applets[0])

int run_applet(const char *name, int argc, char **argv) {
  if (!strcmp(name, "[")) return test_main(argc, argv); /* test's other name */
  for (size_t i = 0; i < NAPPLETS; i++)
    if (!strcmp(applets[i].name, name)) return applets[i].main(argc, argv);
  return -1;
}

/* "  name  usage ... what", one applet a line (the shell's help). */
void list_applets(int fd) {
  for (size_t i = 0; i < NAPPLETS; i++) {
    char line[160];
    size_t n = strlen(applets[i].usage);
    strlcpy(line, "  ", sizeof line);
    strlcat(line, applets[i].usage, sizeof line);
    for (; n < 44; n++) strlcat(line, " ", sizeof line);
    strlcat(line, " ", sizeof line);
    strlcat(line, applets[i].what, sizeof line);
    strlcat(line, "\n", sizeof line);
    fdout(fd, line);
  }
}

int main(int argc, char **argv) {
  const char *name = argc > 0 ? base_name(argv[0]) : "box";
  if (!strcmp(name, "box")) {
    if (argc < 2) {
      fdout(1, "box: hyperlab's userland. Usage: box APPLET [ARG]..., or run it by a link's name. Applets:\n");
      list_applets(1);
      return 0;
    }
    argc--, argv++;
    name = base_name(argv[0]);
  }
  int r = run_applet(name, argc, argv);
  if (r < 0) {
    warn_msg(name, "applet not found");
    return 127;
  }
  return r;
}
