/*
 * Shutdown requests from the toolstack: `xl shutdown` and `xl reboot` write "poweroff"
 * or "reboot" to control/shutdown in the domain's xenstore home (Xen's
 * docs/misc/xenstore-paths.pandoc); the guest acknowledges by writing "" there, then
 * does it. Like the balloon, it works from the shell loop, never in an interrupt.
 *
 * "suspend" (xl save, xl migrate: Xen's cooperative suspend, as Linux's
 * drivers/xen/manage.c do_suspend): acknowledge, drain the console, and call
 * SCHEDOP_shutdown(SHUTDOWN_suspend). The call returns 1 when the toolstack resumed this
 * same domain (xl save -c, a migration that failed): nothing was lost, carry on. It returns
 * 0 in a new domain restored from the stream: reconnect to the new host's backends
 * (pv_resume, plat_pv.c), as Linux's xen_suspend/dpm_resume path does.
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

static void do_suspend(void) {
  kprintf("\ncontrol: the toolstack asked for suspend\n");
  con_drain();  /* what is in the ring now is on the toolstack's side before the save */
  int32_t rc = xen_suspend();
  if (rc == 1) {
    kprintf("control: suspend cancelled (checkpoint): carrying on\n");
  } else if (rc != 0) {
    kprintf("control: the suspend failed (%s): carrying on\n", xen_strerror(rc));
  } else {
    kprintf("control: resumed in a new domain\n");
    pv_resume();
  }
}

void control_work(void) {
  dirty = 0;
  char req[16];
  if (xs_read("control/shutdown", req, sizeof req) <= 0) return;  /* "" or gone: nothing asked */
  uint32_t reason;
  if (!strcmp(req, "poweroff") || !strcmp(req, "halt")) reason = SHUTDOWN_poweroff;
  else if (!strcmp(req, "reboot")) reason = SHUTDOWN_reboot;
  else if (!strcmp(req, "suspend")) {
    xs_write("control/shutdown", "");
    do_suspend();
    return;
  } else {
    kprintf("\ncontrol: ignoring unknown shutdown request \"%s\"\n", req);
    xs_write("control/shutdown", "");
    return;
  }
  xs_write("control/shutdown", "");
  kprintf("\ncontrol: the toolstack asked for %s\n", req);
  con_drain();  /* flush the kernel's buffer and wait for the backend to read the ring */
  xen_shutdown(reason);
}
