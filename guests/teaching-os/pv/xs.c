/*
 * The `xs` command: the domain's own view of xenstore, as xenstore-ls/-read/-write/-rm and
 * xenstore-watch would give it, plus `xs incr`, a read-modify-write inside a transaction
 * that starts again when XS_TRANSACTION_END answers EAGAIN (another writer changed what it
 * read: Xen's docs/misc/xenstore.txt). Relative paths are under /local/domain/<domid>/.
 */
#include "pv.h"
#include "tos.h"

static char value[256];
static char names[2048];

static void watch_fired(const char *path, const char *token) {
  (void)token;
  kprintf("xs: watch fired: %s\n", path);
}

static int fail(const char *what, const char *path, int32_t rc) {
  kprintf("xs: %s %s: %s\n", what, path, xen_strerror(rc));
  return -1;
}

static int xs_ls(const char *dir) {
  int32_t n = xs_directory(dir, names, sizeof names);
  if (n < 0) return fail("ls", dir, n);
  for (int32_t i = 0; i < n;) {
    const char *name = names + i;
    char child[192];
    ksnprintf(child, sizeof child, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] != '/' ? "/" : "", name);
    int32_t rc = xs_read(child, value, sizeof value);
    if (rc >= 0) kprintf("%s = \"%s\"\n", name, value);
    else kprintf("%s\n", name);
    i += (int32_t)strlen(name) + 1;
  }
  return 0;
}

static int never(void *arg) { (void)arg; return 0; }

/* Read PATH, wait `ms`, write PATH + 1, all in one transaction; again on EAGAIN. */
static int xs_incr(const char *path, uint32_t ms) {
  for (uint32_t conflicts = 0; conflicts < 10; conflicts++) {
    int32_t rc = xs_transaction_start();
    if (rc < 0) return fail("transaction_start", path, rc);
    uint32_t n = 0;
    rc = xs_read(path, value, sizeof value);
    if (rc >= 0 && parse_u32(value, &n)) n = 0;
    if (rc < 0 && rc != -XEN_ENOENT) {
      xs_transaction_end(0);
      return fail("read", path, rc);
    }
    kprintf("xs: read %s = %u in transaction, writing %u in %u ms\n", path, n, n + 1, ms);
    con_drain(); /* the line is out before the wait, for whoever acts on it */
    if (ms && kwait(never, 0, (uint64_t)ms * 1000000u, 1) == WAIT_BREAK) {
      xs_transaction_end(0);
      kprintf("xs: interrupted, transaction aborted\n");
      return -1;
    }
    char text[16];
    ksnprintf(text, sizeof text, "%u", n + 1);
    rc = xs_write(path, text);
    if (rc < 0) {
      xs_transaction_end(0);
      return fail("write", path, rc);
    }
    rc = xs_transaction_end(1);
    if (rc == -XEN_EAGAIN) {
      kprintf("xs: transaction conflict (EAGAIN): %s changed meanwhile, again\n", path);
      continue;
    }
    if (rc < 0) return fail("transaction_end", path, rc);
    kprintf("xs: %s = %u, committed after %u conflict%s\n", path, n + 1, conflicts, conflicts == 1 ? "" : "s");
    return 0;
  }
  kprintf("xs: %s: gave up after 10 conflicts\n", path);
  return -1;
}

int plat_xs(int argc, char **argv) {
  const char *op = argc > 1 ? argv[1] : "";
  const char *path = argc > 2 ? argv[2] : "";
  if (!strcmp(op, "ls")) return xs_ls(path);
  if (argc < 3) {
    kprintf("usage: xs ls [PATH] | read PATH | write PATH VALUE | rm PATH | watch PATH | unwatch PATH | incr PATH [MS]\n");
    return -1;
  }
  int32_t rc;
  if (!strcmp(op, "read")) {
    if ((rc = xs_read(path, value, sizeof value)) < 0) return fail("read", path, rc);
    kprintf("%s\n", value);
    return 0;
  }
  if (!strcmp(op, "write") && argc > 3) return (rc = xs_write(path, argv[3])) < 0 ? fail("write", path, rc) : 0;
  if (!strcmp(op, "rm")) return (rc = xs_rm(path)) < 0 ? fail("rm", path, rc) : 0;
  if (!strcmp(op, "watch")) return (rc = xs_watch(path, "tos-xs", watch_fired)) < 0 ? fail("watch", path, rc) : 0;
  if (!strcmp(op, "unwatch")) return (rc = xs_unwatch(path, "tos-xs")) < 0 ? fail("unwatch", path, rc) : 0;
  if (!strcmp(op, "incr")) {
    uint32_t ms = 0;
    if (argc > 3 && (parse_u32(argv[3], &ms) || ms > 60000)) {
      kprintf("xs: incr: MS must be 0..60000\n");
      return -1;
    }
    return xs_incr(path, ms);
  }
  kprintf("xs: unknown operation '%s'\n", op);
  return -1;
}
