/**
 * The direct path of EVTCHNOP_send between two guests: the sender's vCPU worker marks the
 * event in the receiver's shared_info itself and wakes the receiver's worker, with no
 * round trip through the hypervisor thread. The vCPU workers are part of the hypervisor
 * (they run guest code, but their own code is ours), so this is Xen's evtchn_send run on
 * the sending pCPU, as in Xen.
 *
 * Everything here lives in one SharedArrayBuffer, the directory, which only the
 * hypervisor writes, apart from the counters and doorbells:
 *
 *   word 0                       hypervisor doorbell: bumped (and notified) with a request
 *   kick[vslot]                  a vCPU waits on its word while it waits in place (C_PARK_US)
 *   parked[vslot]                1 while it does
 *   wakeReq[vslot / 32]          vCPUs the hypervisor should wake (they are not on a pCPU)
 *   pollReq[dslot / 32]          domains whose SCHEDOP_poll callers must look again
 *   info[dslot][DINFO]           shared_info machine offset (-1: none), pollers, sends, vCPU slots
 *   route[dslot][port]           0, or 1 + peer dslot * NR_EVTCHN_PORTS + peer port
 *   notify[dslot][port]          the vCPU a port notifies (EvtchnPort.vcpu)
 *
 * Only interdomain channels between two guests with slots take the direct path; anything
 * else (Domain-0's backends, VIRQs, IPIs) goes to the hypervisor, and so do the wake-ups
 * of receivers that are not on a pCPU and of SCHEDOP_poll callers (as requests).
 * The delivery is Xen's evtchn_2l_set_pending (sharedInfo.ts, the same code as the
 * hypervisor's); a receiver that blocks while the
 * sender marks its bits is caught by the race-free check at the end of its slice.
 */
import { evtchnSetPending, SetPending, type MachineViews } from './sharedInfo';
import * as X from '../public/xen';

export const MAX_VCPU_SLOTS = 256;
export const MAX_DOMAIN_SLOTS = 64;
const PORTS = X.NR_EVTCHN_PORTS;

/** info[] fields. */
const DI_SHARED_INFO = 0,
  DI_POLLERS = 1,
  DI_SENDS = 2,
  DI_VCPUS = 3;
const MAX_VCPUS_PER_DOMAIN = 8;
const DINFO = DI_VCPUS + MAX_VCPUS_PER_DOMAIN;

const DOORBELL = 0;
const KICK = 1;
const PARKED = KICK + MAX_VCPU_SLOTS;
const WAKE_REQ = PARKED + MAX_VCPU_SLOTS;
const POLL_REQ = WAKE_REQ + MAX_VCPU_SLOTS / 32;
const INFO = POLL_REQ + MAX_DOMAIN_SLOTS / 32;
const ROUTE = INFO + MAX_DOMAIN_SLOTS * DINFO;
const NOTIFY = ROUTE + MAX_DOMAIN_SLOTS * PORTS;
const WORDS = NOTIFY + MAX_DOMAIN_SLOTS * PORTS;

export function newEvtchnDirectory(): SharedArrayBuffer {
  return new SharedArrayBuffer(WORDS * 4);
}

/** Views and helpers shared by both sides. */
export class EvtchnDirectory {
  readonly w: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    if (buffer.byteLength < WORDS * 4) throw new RangeError('event channel directory too small');
    this.w = new Int32Array(buffer);
  }

  // ---- waiting in place (any vCPU) ----

  kickIndex(vslot: number): number {
    return KICK + vslot;
  }

  kick(vslot: number): void {
    Atomics.add(this.w, KICK + vslot, 1);
    Atomics.notify(this.w, KICK + vslot);
  }

  setParked(vslot: number, parked: boolean): void {
    Atomics.store(this.w, PARKED + vslot, parked ? 1 : 0);
  }

  isParked(vslot: number): boolean {
    return Atomics.load(this.w, PARKED + vslot) !== 0;
  }

  // ---- requests to the hypervisor ----

  get doorbellIndex(): number {
    return DOORBELL;
  }

  private request(bitmap: number, slot: number): void {
    Atomics.or(this.w, bitmap + (slot >>> 5), 1 << (slot & 31));
    Atomics.add(this.w, DOORBELL, 1);
    Atomics.notify(this.w, DOORBELL);
  }

  /** Take the pending requests (hypervisor side): vCPU slots to wake, domain slots to re-poll. */
  takeRequests(): { wake: number[]; poll: number[] } {
    const take = (bitmap: number, words: number): number[] => {
      const out: number[] = [];
      for (let i = 0; i < words; i++) {
        let bits = Atomics.exchange(this.w, bitmap + i, 0);
        while (bits !== 0) {
          const b = 31 - Math.clz32(bits & -bits);
          bits &= bits - 1;
          out.push(i * 32 + b);
        }
      }
      return out;
    };
    return { wake: take(WAKE_REQ, MAX_VCPU_SLOTS / 32), poll: take(POLL_REQ, MAX_DOMAIN_SLOTS / 32) };
  }

  // ---- the tables (hypervisor side) ----

  setSharedInfo(dslot: number, machineOffset: number): void {
    Atomics.store(this.w, INFO + dslot * DINFO + DI_SHARED_INFO, machineOffset);
  }

  setVcpuSlot(dslot: number, vcpuId: number, vslot: number): void {
    if (vcpuId < MAX_VCPUS_PER_DOMAIN) Atomics.store(this.w, INFO + dslot * DINFO + DI_VCPUS + vcpuId, vslot + 1);
  }

  setPollers(dslot: number, n: number): void {
    Atomics.store(this.w, INFO + dslot * DINFO + DI_POLLERS, n);
  }

  sends(dslot: number): number {
    return Atomics.load(this.w, INFO + dslot * DINFO + DI_SENDS);
  }

  /** Port `port` of dslot: connected to `peer` (dslot, port) and notifying vCPU `vcpu`, or not routed. */
  setRoute(dslot: number, port: number, peer: { dslot: number; port: number; vcpu: number } | null): void {
    Atomics.store(this.w, ROUTE + dslot * PORTS + port, peer ? 1 + peer.dslot * PORTS + peer.port : 0);
    if (peer) Atomics.store(this.w, NOTIFY + peer.dslot * PORTS + peer.port, peer.vcpu);
  }

  /** Forget a domain slot (its domain is gone). */
  clearDomain(dslot: number): void {
    this.w.fill(0, INFO + dslot * DINFO, INFO + (dslot + 1) * DINFO);
    Atomics.store(this.w, INFO + dslot * DINFO + DI_SHARED_INFO, -1);
    this.w.fill(0, ROUTE + dslot * PORTS, ROUTE + (dslot + 1) * PORTS);
  }

  // ---- the send (vCPU worker side) ----

  /**
   * EVTCHNOP_send of `port` from domain slot `dslot`, done here if the port is routed,
   * into machine memory `m`. Returns false when the hypervisor must do it.
   */
  send(dslot: number, port: number, m: MachineViews): boolean {
    if (!(port > 0 && port < PORTS)) return false;
    const route = Atomics.load(this.w, ROUTE + dslot * PORTS + port);
    if (route === 0) return false;
    const peer = ((route - 1) / PORTS) | 0,
      peerPort = (route - 1) % PORTS;
    const info = INFO + peer * DINFO;
    const si = Atomics.load(this.w, info + DI_SHARED_INFO);
    if (si < 0 || (si & 3) !== 0) return false; // its shared_info is gone: the hypervisor drops it
    Atomics.add(this.w, INFO + dslot * DINFO + DI_SENDS, 1);
    const vcpu = Atomics.load(this.w, NOTIFY + peer * PORTS + peerPort);
    const r = evtchnSetPending(m, si, peerPort, vcpu);
    if (r === SetPending.ALREADY) return true;
    if (r === SetPending.UPCALL) this.notifyVcpu(peer, vcpu);
    // evtchn_check_pollers, masked or not: the hypervisor counts pollers before it looks at
    // their ports, so either it saw this bit or this load sees its count.
    if (Atomics.load(this.w, info + DI_POLLERS) !== 0) this.request(POLL_REQ, peer);
    return true;
  }

  /**
   * An upcall was raised for (peer, vcpu). Waiting in place on its pCPU: the kick is enough
   * (and if it has just stopped waiting, the end of its slice sees upcall_pending).
   * Otherwise the scheduler must wake it.
   */
  private notifyVcpu(peer: number, vcpu: number): void {
    const vslot = Atomics.load(this.w, INFO + peer * DINFO + DI_VCPUS + vcpu) - 1;
    if (vslot < 0) return;
    if (this.isParked(vslot)) this.kick(vslot);
    else this.request(WAKE_REQ, vslot);
  }
}
