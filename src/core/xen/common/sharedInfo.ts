/**
 * A pv domain's shared_info page and its vcpu_info slots (public/xen.h; layout in
 * docs/abi.md section 4, offsets in public/xen.ts), read and written in machine memory
 * with Atomics, since the guest's vCPUs write the same words from other threads. Every
 * reader and writer of shared_info goes through here: the hypervisor thread's event
 * channels (evtchn.ts), the direct send path in vCPU workers (evtchnDirect.ts), the
 * vCPU's upcall checks (vcpu/vcpuRunner.ts), the scheduler and the inspectors.
 *
 * `si` is the machine byte offset of the page. shared_info is a special page the guest
 * cannot give back (Hypervisor.depopulate), so the offset holds for the domain's life.
 *
 * Delivery is Xen's evtchn_2l_set_pending, in one place for both threads: set the port's
 * pending bit; if it was clear and the port is not masked, set bit port/32 of the bound
 * vCPU's evtchn_pending_sel; if that was clear, set evtchn_upcall_pending. The caller then
 * notifies the vCPU (how depends on the thread) when the result is UPCALL, and wakes
 * SCHEDOP_poll callers when it is anything but ALREADY.
 */
import * as X from '../public/xen';

/** Views of machine memory. */
export interface MachineViews {
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
}

/** What evtchnSetPending did. */
export const enum SetPending {
  /** The port was pending already: nothing new (no edge). */
  ALREADY = 0,
  /** Newly pending but masked: the edge is lost until unmask. */
  MASKED = 1,
  /** Newly pending; the vCPU's selector bit was set already (an upcall is under way). */
  SELECTOR = 2,
  /** Newly pending, and evtchn_upcall_pending was raised: notify the vCPU. */
  UPCALL = 3,
}

const word = (si: number, field: number, port: number): number => (si + field + 4 * (port >>> 5)) >> 2;
const vcpuInfo = (si: number, vcpu: number): number => si + X.SI_VCPU_INFO + vcpu * X.VCPU_INFO_SIZE;

/** evtchn_2l_set_pending for `port`, bound to vCPU `vcpu`. */
export function evtchnSetPending(m: MachineViews, si: number, port: number, vcpu: number): SetPending {
  const bit = 1 << (port & 31);
  if ((Atomics.or(m.i32, word(si, X.SI_EVTCHN_PENDING, port), bit) & bit) !== 0) return SetPending.ALREADY;
  if ((Atomics.load(m.i32, word(si, X.SI_EVTCHN_MASK, port)) & bit) !== 0) return SetPending.MASKED;
  return markVcpu(m, si, port, vcpu);
}

/** evtchn_2l_unmask: clear the mask bit, and if the port is pending, redeliver (a lost edge comes back once). */
export function evtchnUnmask(m: MachineViews, si: number, port: number, vcpu: number): SetPending {
  const bit = 1 << (port & 31);
  Atomics.and(m.i32, word(si, X.SI_EVTCHN_MASK, port), ~bit);
  if ((Atomics.load(m.i32, word(si, X.SI_EVTCHN_PENDING, port)) & bit) === 0) return SetPending.ALREADY;
  return markVcpu(m, si, port, vcpu);
}

/** The second half of delivery: the vCPU's selector bit, then its upcall flag. */
function markVcpu(m: MachineViews, si: number, port: number, vcpu: number): SetPending {
  const vi = vcpuInfo(si, vcpu);
  const sel = 1 << (port >>> 5);
  if ((Atomics.or(m.i32, (vi + X.VI_PENDING_SEL) >> 2, sel) & sel) !== 0) return SetPending.SELECTOR;
  Atomics.store(m.u8, vi + X.VI_UPCALL_PENDING, 1);
  return SetPending.UPCALL;
}

/** evtchn_2l_clear_pending (a closed port starts clean for its next owner). */
export function evtchnClearPending(m: MachineViews, si: number, port: number): void {
  Atomics.and(m.i32, word(si, X.SI_EVTCHN_PENDING, port), ~(1 << (port & 31)));
}

export function evtchnIsPending(m: MachineViews, si: number, port: number): boolean {
  return (Atomics.load(m.i32, word(si, X.SI_EVTCHN_PENDING, port)) & (1 << (port & 31))) !== 0;
}

export function evtchnIsMasked(m: MachineViews, si: number, port: number): boolean {
  return (Atomics.load(m.i32, word(si, X.SI_EVTCHN_MASK, port)) & (1 << (port & 31))) !== 0;
}

export function upcallPending(m: MachineViews, si: number, vcpu: number): boolean {
  return Atomics.load(m.u8, vcpuInfo(si, vcpu) + X.VI_UPCALL_PENDING) !== 0;
}

export function upcallMasked(m: MachineViews, si: number, vcpu: number): boolean {
  return Atomics.load(m.u8, vcpuInfo(si, vcpu) + X.VI_UPCALL_MASK) !== 0;
}

/** SCHEDOP_block enables events for the vCPU that blocks. */
export function clearUpcallMask(m: MachineViews, si: number, vcpu: number): void {
  Atomics.store(m.u8, vcpuInfo(si, vcpu) + X.VI_UPCALL_MASK, 0);
}

/** The vCPU's evtchn_pending_sel. */
export function pendingSelector(m: MachineViews, si: number, vcpu: number): number {
  return Atomics.load(m.i32, (vcpuInfo(si, vcpu) + X.VI_PENDING_SEL) >> 2) >>> 0;
}
