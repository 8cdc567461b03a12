/**
 * Xen's cooperative suspend of a pv guest, before a save or a migration's stop-and-copy
 * (libxl's libxl_dom_suspend.c, domain_suspend_common_pvcontrol_suspending): the toolstack
 * writes "suspend" to the domain's control/shutdown, the guest acknowledges by writing ""
 * there, quiesces its devices and calls SCHEDOP_shutdown(SHUTDOWN_suspend); the call returns
 * 0 in the domain restored from the stream (Linux's drivers/xen/manage.c do_suspend:
 * `si->cancelled = HYPERVISOR_suspend(...)`), 1 when the domain resumes in place.
 *
 * A guest that does not answer within SUSPEND_ACK_TIMEOUT_MS (a hostile one, or the
 * teaching OS busy in a command, whose shell loop is what reads xenstore) is paused instead,
 * without its knowledge, as every hvm guest is (docs/migration.md "What the guest sees").
 */
import type { Domain } from '../../xen/common/domain';
import type { Hypervisor } from '../../xen/common/hypervisor';

/**
 * How long the guest has to acknowledge, and again to reach the suspended state after its
 * acknowledgement. libxl waits far longer (60 s for the acknowledgement: `pvcontrol.timeout_ms
 * = 60 * 1000` in libxl_dom_suspend.c) because it cannot stop a pv guest otherwise; hyperlab
 * falls back to pausing the domain, so a short bound keeps a save of a busy guest quick. The
 * teaching OS at its prompt answers in a few ms (measured 4 ms on a busy machine).
 */
export const SUSPEND_ACK_TIMEOUT_MS = 500;
/** How often the toolstack looks at the node and the domain meanwhile. */
const POLL_MS = 2;

/** How the domain came to be stopped for its save. */
export type SuspendKind = 'cooperative' | 'non-cooperative';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Does the guest watch control/shutdown (or a node above it)? One that does not cannot answer. */
function watchesControl(hv: Hypervisor, d: Domain): boolean {
  const node = `/local/domain/${d.domid}/control/shutdown`;
  return hv.xenstored.domainWatches(d.domid).some((w) => node === w.path || node.startsWith(w.path.endsWith('/') ? w.path : `${w.path}/`));
}

/**
 * Ask a running pv guest to suspend itself, and wait for it. Resolves 'cooperative' once it
 * is suspended (d.suspended), or 'non-cooperative' (the request withdrawn, one line logged)
 * when it is not a pv guest that can answer; the caller then pauses it as before. Never throws
 * for the guest's behaviour.
 */
export async function requestGuestSuspend(hv: Hypervisor, d: Domain, log: (line: string) => void, timeoutMs = SUSPEND_ACK_TIMEOUT_MS): Promise<SuspendKind> {
  if (d.kind !== 'pv' || d.shutdownReason || d.dying) return 'non-cooperative';
  if (d.suspended) return 'cooperative';
  const who = `domain ${d.domid} (${d.name})`;
  if (d.paused) {
    log(`${who} is paused: it cannot answer a suspend request (non-cooperative)`);
    return 'non-cooperative';
  }
  if (!watchesControl(hv, d)) {
    log(`${who} does not watch control/shutdown: pausing it (non-cooperative)`);
    return 'non-cooperative';
  }
  const xs = hv.xsDom0();
  const node = `/local/domain/${d.domid}/control/shutdown`;
  const read = async (): Promise<string | undefined> => {
    try {
      return await xs.read(node);
    } catch {
      return undefined;
    }
  };
  const gone = (): boolean => hv.domains.get(d.domid) !== d || d.dying || d.shutdownReason !== null;
  const t0 = performance.now();
  await xs.write(node, 'suspend');
  let acked = false;
  let until = t0 + timeoutMs;
  while (!d.suspended && !gone()) {
    if (performance.now() > until) {
      if (acked) break;
      // libxl's domain_suspend_common_pvcontrol_suspending: withdraw the request unless the
      // guest took it meanwhile (then give it the same time again to get there).
      if ((await read()) === 'suspend') {
        await xs.write(node, '');
        break;
      }
      acked = true;
      until = performance.now() + timeoutMs;
      continue;
    }
    if (!acked && (await read()) === '') {
      acked = true;
      until = performance.now() + timeoutMs;
    }
    await sleep(POLL_MS);
  }
  if (d.suspended) {
    log(`${who}: the guest acknowledged the suspend request and suspended itself in ${(performance.now() - t0).toFixed(0)} ms (cooperative)`);
    return 'cooperative';
  }
  if (!gone())
    log(
      acked
        ? `${who}: the guest acknowledged the suspend request but did not suspend within ${timeoutMs} ms: pausing it (non-cooperative)`
        : `${who}: guest did not acknowledge the suspend request within ${timeoutMs} ms: pausing it (non-cooperative)`,
    );
  return 'non-cooperative';
}
