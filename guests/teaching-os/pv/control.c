/*
 * Shutdown requests from the toolstack: `xl shutdown` and `xl reboot` write "poweroff"
 * or "reboot" to control/shutdown in the domain's xenstore home (Xen's
 * docs/misc/xenstore-paths.pandoc); the guest acknowledges by writing "" there, then
 * does it. Like the balloon, it works from the shell loop, never in an interrupt.
 */
#include "pv.h"

static volatile int dirty;

static void on_control(const char *path, const char *token) {
  (void)path, (void)token;
  dirty = 1;
}

void control_init(void) {
  if (!xs_available()) return;
  int32_t rc = xs_watch("control/shutdown", "tos-control", on_control);
  if (rc) kprintf("pv: cannot watch control/shutdown (%s)\n", xen_strerror(rc));
}

int control_has_work(void) { return dirty; }

void control_work(void) {
  dirty = 0;
  char req[16];
  if (xs_read("control/shutdown", req, sizeof req) <= 0) return;  /* "" or gone: nothing asked */
  uint32_t reason;
  if (!strcmp(req, "poweroff") || !strcmp(req, "halt")) reason = SHUTDOWN_poweroff;
  else if (!strcmp(req, "reboot")) reason = SHUTDOWN_reboot;
  else {
    kprintf("\ncontrol: ignoring unknown shutdown request \"%s\"\n", req);
    xs_write("control/shutdown", "");
    return;
  }
  xs_write("control/shutdown", "");
  kprintf("\ncontrol: the toolstack asked for %s\n", req);
  con_drain();  /* flush the kernel's buffer and wait for the backend to read the ring */
  xen_shutdown(reason);
}
