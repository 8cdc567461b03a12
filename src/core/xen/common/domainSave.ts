/**
 * The hypervisor's side of save and restore (Xen's XEN_DOMCTL_pausedomain and
 * getvcpucontext on the way out, and a domain built from a stream's contents on the way
 * in). The stream itself is the toolstack's business (tools/migration/domainImage.ts), as
 * libxc's xg_sr_save.c is in Xen: here only what needs the hypervisor's hands.
 *
 * Suspend: pause the domain (hypervisor.pauseDomain: no vCPU gets another slice), wait
 * until no vCPU is on a pCPU any more (every running slice has ended at an instruction
 * boundary and its worker waits for a command), then ask each worker with the SAVE
 * command for its state (vcpuControl.ts). Nothing of the guest runs in between, so the
 * memory the toolstack copies afterwards is the memory of that instant.
 */
import type { BuiltPv } from '../pv/builder';
import { C_ARG0, C_CMD, C_SEQ, SAVE_DATA, SAVE_LEN, SAVE_SEQ, VcpuCmd, type VcpuSavedState } from '../vcpu/vcpuControl';
import { Runstate, type BuiltDomain, type Domain, type Vcpu } from './domain';
import type { Hypervisor } from './hypervisor';
import type { MachineMemory } from './machineMemory';

/** One vCPU as saved: its worker's state, and whether it was up (a vCPU never started or brought down is offline). */
export interface SavedVcpu {
  state: VcpuSavedState;
  online: boolean;
}

/** How `Hypervisor.createDomain` restores a domain instead of booting one. */
export interface DomainRestore {
  /** The domain's memory, populated from the stream (instead of a kernel loaded). */
  build(mem: MachineMemory, domid: number): BuiltPv | BuiltDomain;
  /** Before any backend or vCPU starts: the clock, the event channels, the device models. */
  prepare(d: Domain): void;
  vcpus: readonly SavedVcpu[];
  /** `xl restore -p`: leave it paused. */
  paused: boolean;
  /**
   * Keep this domain id (a pv domain with split devices: its frontends know their backends'
   * paths, which name it; Xen's docs/designs/non-cooperative-migration.md preserves the
   * source domid for the same reason). Refused if the id is in use.
   */
  domid?: number;
  /**
   * Frames `build` hands over that are allocated already (an incoming migration builds the
   * memory as the stream arrives: tools/migration/live/incoming.ts); the free-memory check
   * counts only the rest.
   */
  frames?: number;
}

/** How long a vCPU may take to end its slice, or to answer SAVE, before the save gives up. */
export const SUSPEND_TIMEOUT_MS = 5000;

/**
 * Pause `d` and collect its vCPUs' states. The domain stays paused: the caller unpauses it
 * (xl save -c), destroys it (xl save) or leaves it (xl save -p). Throws if a vCPU does not
 * stop or answer in time (the domain is then left paused, and the message says so).
 */
export async function suspendDomain(hv: Hypervisor, d: Domain, timeoutMs = SUSPEND_TIMEOUT_MS): Promise<SavedVcpu[]> {
  if (d.shutdownReason) throw new Error(`domain ${d.domid} (${d.name}) has shut down (${d.shutdownReason}): nothing to save`);
  if (d.dying) throw new Error(`domain ${d.domid} is being destroyed`);
  hv.pauseDomain(d.domid);
  const until = Date.now() + timeoutMs;
  while (d.vcpus.some((v) => v.runstate === Runstate.RUNNING)) {
    if (Date.now() > until) throw new Error(`domain ${d.domid}: a vCPU did not stop within ${timeoutMs} ms (left paused)`);
    await new Promise<void>((r) => setTimeout(r, 1));
  }
  if (d.shutdownReason || d.dying || !hv.domains.has(d.domid)) throw new Error(`domain ${d.domid} shut down while it was being paused`);
  const saved = d.vcpus.map((v) => ({ state: collectVcpu(v, until), online: v.runstate !== Runstate.OFFLINE || v.startAt !== undefined }));
  // A guest that suspended itself: its states say the hypercall returned 0 (what the restored
  // domain sees); the domain here is resumed in place at once but left paused, so that what
  // the caller does next (unpause for xl save -c or a failed migration, destroy, or keep
  // paused) finds a domain whose call returns 1, as xl's libxl_domain_resume(suspend_cancel).
  if (d.suspended) resumeSuspended(hv, d, 1, until);
  return saved;
}

/**
 * End SHUTDOWN_suspend in place (Xen's xc_domain_resume, its "fast" kind: the guest's call
 * returns `ret`, 1 = cancelled, in the same domain, with everything it had): set the calling
 * vCPU's a0, and leave the domain paused with every vCPU that was going ready to go again.
 */
export function resumeSuspended(hv: Hypervisor, d: Domain, ret = 1, until = Date.now() + SUSPEND_TIMEOUT_MS): boolean {
  if (!d.suspended) return true;
  const v = d.vcpus[d.suspendedBy];
  try {
    if (d.vcpus.some((x) => x.runstate === Runstate.RUNNING)) throw new Error('a vCPU is still running its slice');
    if (v) setA0(v, ret, until);
  } catch (e) {
    hv.dmesg(`domain ${d.domid} (${d.name}): cannot resume in place: ${e instanceof Error ? e.message : String(e)} (left suspended)`);
    return false;
  }
  d.suspended = false;
  d.paused = true;
  hv.dmesg(`domain ${d.domid} (${d.name}): resumed in place (the suspend returns ${ret})`);
  return true;
}

/**
 * Send a command to one idle worker (idle in serve(): the answer takes microseconds) and
 * wait for its answer in the save area. A synchronous wait is allowed here (Node's main
 * thread, the browser's hypervisor worker). Throws `failure` when no answer comes by `until`.
 */
function commandIdle(v: Vcpu, cmd: VcpuCmd, arg: number, until: number, failure: string): Int32Array {
  if (!v.worker) throw new Error(`vCPU ${v.vcpuId} of domain ${v.domid} has no worker`);
  const words = new Int32Array(v.saveArea, 0, 2);
  const seen = Atomics.load(words, SAVE_SEQ);
  v.cb[C_CMD] = cmd;
  v.cb[C_ARG0] = arg;
  v.cmdSeq++;
  Atomics.store(v.cb, C_SEQ, v.cmdSeq);
  Atomics.notify(v.cb, C_SEQ);
  while (Atomics.load(words, SAVE_SEQ) === seen) {
    const left = until - Date.now();
    if (left <= 0 || Atomics.wait(words, SAVE_SEQ, seen, left) === 'timed-out') throw new Error(`vCPU ${v.vcpuId} of domain ${v.domid} ${failure}`);
  }
  return words;
}

/** SET_A0 to one idle worker, and wait for its answer in the save area. */
function setA0(v: Vcpu, value: number, until: number): void {
  commandIdle(v, VcpuCmd.SET_A0, value, until, 'did not take its return value');
}

/** SAVE to one idle worker, and wait for its answer in the save area. */
function collectVcpu(v: Vcpu, until: number): VcpuSavedState {
  const words = commandIdle(v, VcpuCmd.SAVE, 0, until, 'did not hand over its state (left paused)');
  const len = Atomics.load(words, SAVE_LEN);
  if (len < 0 || len > v.saveArea.byteLength - SAVE_DATA) throw new Error(`vCPU ${v.vcpuId} of domain ${v.domid}: its state does not fit the save area`);
  const bytes = new Uint8Array(v.saveArea, SAVE_DATA, len).slice();
  return JSON.parse(new TextDecoder().decode(bytes)) as VcpuSavedState;
}
