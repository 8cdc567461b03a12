/**
 * Domain-0's backends for a pv domain: the console ring (xenconsoled's job) and the
 * xenstore connection (xenstored is in-process), wired to the domain's event channels,
 * and the domain's home in xenstore (docs/misc/xenstore-paths.pandoc).
 */
import { ConsoleRing } from './consoleRing';
import type { PvDomain } from '../common/domain';
import { GuestFault } from '../common/guestMemory';
import type { Hypervisor } from '../common/hypervisor';

/** What the backends use of the hypervisor (Domain-0's view of it). */
export type BackendHost = Pick<Hypervisor, 'evtchn' | 'dom0' | 'consoleOut' | 'memory' | 'xenstored' | 'xsDom0' | 'dmesg'>;
import { P2M_MFN_MASK } from '../../bus/bus';
import { sharedPage } from '../../tools/xenstore';

/** The domain's console backend, made when first used (the page is the guest's from boot). */
const consoleRings = new WeakMap<PvDomain, ConsoleRing>();
function consoleRing(d: PvDomain): ConsoleRing {
  let r = consoleRings.get(d);
  if (!r) {
    r = new ConsoleRing(d.mem, d.ramBase + d.pv.consoleGfn * 4096);
    consoleRings.set(d, r);
  }
  return r;
}

export function feedConsole(hv: BackendHost, d: PvDomain): void {
  if (d.consoleIn.length === 0) return;
  try {
    const n = consoleRing(d).feed(d.consoleIn);
    if (n > 0) {
      d.consoleIn.splice(0, n);
      hv.evtchn.send(hv.dom0, d.pv.consoleBackPort);
    }
  } catch (e) {
    if (!(e instanceof GuestFault)) throw e;
  }
}

/**
 * `restored`: the domain comes from a save file; its ports are in place already (the
 * console and xenstore ones unbound, waiting for Domain-0) and its xenstore home is
 * restored by the toolstack, so the backends only bind and introduce it.
 */
export function connectPvBackends(hv: BackendHost, d: PvDomain, dom0Handlers: Map<number, () => void>, restored = false): void {
  const pv = d.pv;
  if (!restored && (hv.evtchn.allocUnbound(d, 0) !== pv.consolePort || hv.evtchn.allocUnbound(d, 0) !== pv.xenstorePort)) {
    throw new Error('a new domain did not get ports 1 and 2');
  }
  pv.consoleBackPort = hv.evtchn.bindInterdomain(hv.dom0, d.domid, pv.consolePort);
  if (pv.consoleBackPort < 0) throw new Error(`the console port ${pv.consolePort} is not waiting for Domain-0`);
  dom0Handlers.set(pv.consoleBackPort, () => {
    try {
      const out = consoleRing(d).drain();
      if (out.length > 0) {
        hv.consoleOut(d, out);
        hv.evtchn.send(hv.dom0, pv.consoleBackPort); // room in `out` again (xenconsoled notifies too)
      }
      feedConsole(hv, d);
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
    }
  });
  pv.xenstoreBackPort = hv.evtchn.bindInterdomain(hv.dom0, d.domid, pv.xenstorePort);
  if (pv.xenstoreBackPort < 0) throw new Error(`the xenstore port ${pv.xenstorePort} is not waiting for Domain-0`);
  // xenstored keeps a reference on the ring's frame while it uses it (Xen's xenstored maps
  // it), so the frame cannot go to another domain under it.
  const mfn = d.p2m.get(pv.xenstoreGfn) & P2M_MFN_MASK;
  hv.memory.get(mfn);
  pv.xenstoreMfn = mfn;
  hv.xenstored.introduceDomain(d.domid, sharedPage(hv.memory.buffer, mfn * 4096), () => {
    hv.evtchn.send(hv.dom0, pv.xenstoreBackPort);
  });
  dom0Handlers.set(pv.xenstoreBackPort, () => {
    for (let i = 0; i < 64 && hv.xenstored.kick(d.domid); i++);
  });
  if (restored) return;
  const home = `/local/domain/${d.domid}`;
  const xs = hv.xsDom0();
  void (async () => {
    try {
      await xs.write(`${home}/name`, d.name);
      await xs.write(`${home}/domid`, String(d.domid));
      await xs.write(`${home}/memory/static-max`, String(d.config.maxmem * 1024));
      await xs.write(`${home}/memory/target`, String(d.config.memory * 1024));
      await xs.write(`${home}/console/ring-ref`, String(d.ramBase / 4096 + pv.consoleGfn));
      await xs.write(`${home}/console/port`, String(pv.consolePort));
      await xs.write(`${home}/control/shutdown`, '');
      // The domain owns its home (read and write); others get nothing.
      await xs.setPerms(home, [{ domid: d.domid, perm: 'n' }]);
      for (const sub of [
        'name',
        'domid',
        'memory',
        'memory/static-max',
        'memory/target',
        'console',
        'console/ring-ref',
        'console/port',
        'control',
        'control/shutdown',
      ]) {
        await xs.setPerms(`${home}/${sub}`, [{ domid: d.domid, perm: 'n' }]);
      }
    } catch (e) {
      hv.dmesg(`xenstore setup of domain ${d.domid} failed: ${String(e)}`);
    }
  })();
}
