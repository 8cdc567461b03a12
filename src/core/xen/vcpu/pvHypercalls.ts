/**
 * A pv vCPU's Xen hypercalls, as its worker makes them: the hypercall table
 * (common/hypercalls.ts) says which operations the vCPU serves itself (set_timer_op,
 * SCHEDOP_block, a routed event send); the rest, and a send that is not routed, become a
 * HYPERCALL request to the hypervisor thread, whose answer may end the slice. vCPU worker.
 */
import type { Bus } from '../../bus/bus';
import type { EvtchnDirectory } from '../common/evtchnDirect';
import { HcAction, operation } from '../common/hypercalls';
import { clearUpcallMask, upcallMasked, upcallPending } from '../common/sharedInfo';
import type { RequestFn } from './sbiConsole';
import { sched_poll } from '../public/structs';
import * as C from './vcpuControl';

/** The hypercall operations a vCPU serves itself (the table's `vcpu` and `vcpu-first` rows). */
export const VCPU_SERVED_OPS = ['set_timer_op', 'block', 'send'] as const;
export type VcpuServedOp = (typeof VCPU_SERVED_OPS)[number];

/** What the hypercalls need of their vCPU (VcpuRunner). */
export interface PvVcpu {
  readonly cb: Int32Array;
  readonly bus: Bus;
  readonly dir: EvtchnDirectory;
  readonly boot: C.VcpuBoot;
  readonly request: RequestFn;
  /** End the slice after the current instruction, for this reason. */
  endSlice(reason: C.SliceEnd): void;
  /** set_timer_op: the Xen timer's deadline in ticks of the vCPU's clock (Infinity = off). */
  setXenTimer(ticks: number): void;
  /** SCHEDOP_poll blocked: its timeout in ticks (Infinity = none). */
  startPoll(timeoutTicks: number): void;
}

export class PvHypercalls {
  constructor(private readonly v: PvVcpu) {}

  /** A Xen hypercall (a6 = nr, a0..a4 = args); returns a0. */
  call(nr: number, args: number[]): number {
    const op = operation(nr, args[0]!);
    if (op !== undefined && op.served !== 'hypervisor') {
      const ret = this.local[op.name as VcpuServedOp]?.(args);
      if (ret !== undefined) return ret;
    }
    const v = this.v;
    const ret = v.request(C.VcpuRequest.HYPERCALL, args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, nr);
    const action = v.cb[C.C_RET1]!;
    if (action === HcAction.POLL) {
      // struct sched_poll's u64 timeout: absolute system time in ns, 0 = none.
      const at = args[1]! + sched_poll.timeout;
      const lo = v.bus.ramOffset(at >>> 0),
        hi = v.bus.ramOffset((at + 4) >>> 0);
      const ns = lo >= 0 && hi >= 0 ? (v.bus.ram.i32[hi >> 2]! >>> 0) * 0x1_0000_0000 + (v.bus.ram.i32[lo >> 2]! >>> 0) : 0;
      v.startPoll(ns === 0 ? Infinity : Math.ceil(ns / 100));
      v.endSlice(C.SliceEnd.BLOCK);
    } else if (action === HcAction.YIELD) v.endSlice(C.SliceEnd.PREEMPTED);
    else if (action === HcAction.STOP) v.endSlice(C.SliceEnd.STOPPED);
    return ret;
  }

  /**
   * The operations served here, by name; each counts itself in C_LOCAL_HC. `undefined`:
   * not done here (the hypervisor thread serves it).
   */
  private readonly local: Record<VcpuServedOp, (args: number[]) => number | undefined> = {
    set_timer_op: (args) => {
      this.count(0);
      const ns = (args[1]! >>> 0) * 0x1_0000_0000 + (args[0]! >>> 0);
      this.v.setXenTimer(ns === 0 ? Infinity : Math.ceil(ns / 100)); // ns of system time -> 10 MHz ticks
      return 0;
    },
    block: () => {
      // Enable events (Xen's SCHEDOP_block unmasks), and either return at once (an event is
      // already waiting) or end the slice as BLOCK, to wait in place or give the pCPU back;
      // the hypervisor looks at the upcall bit once more when the slice ends.
      this.count(1);
      this.clearUpcallMask();
      if (!this.upcallPending()) this.v.endSlice(C.SliceEnd.BLOCK);
      return 0;
    },
    send: (args) => {
      if (!this.directSend(args[1]!)) return undefined;
      this.count(2);
      return 0;
    },
  };

  private count(i: number): void {
    const cb = this.v.cb;
    cb[C.C_LOCAL_HC + i] = (cb[C.C_LOCAL_HC + i]! + 1) | 0;
  }

  /**
   * EVTCHNOP_send on the direct path (evtchnDirect.ts): the port is read from the guest's
   * struct evtchn_send; false when the hypervisor must serve the call.
   */
  private directSend(arg: number): boolean {
    const { boot, bus, dir } = this.v;
    const slot = boot.domainSlot;
    if (slot === undefined) return false;
    const off = bus.ramOffset(arg >>> 0);
    if (off < 0 || (off & 3) !== 0) return false;
    return dir.send(slot, bus.ram.i32[off >> 2]! >>> 0, bus.ram);
  }

  /** This vCPU's evtchn_upcall_pending (shared_info is at a fixed machine offset). */
  upcallPending(): boolean {
    const si = this.v.boot.sharedInfoMachine ?? -1;
    return si >= 0 && upcallPending(this.v.bus.ram, si, this.v.boot.vcpuId);
  }

  /** Pending and not masked: the upcall the guest should take now (SEIP). */
  upcallDue(): boolean {
    const si = this.v.boot.sharedInfoMachine ?? -1;
    return si >= 0 && upcallPending(this.v.bus.ram, si, this.v.boot.vcpuId) && !upcallMasked(this.v.bus.ram, si, this.v.boot.vcpuId);
  }

  clearUpcallMask(): void {
    const si = this.v.boot.sharedInfoMachine ?? -1;
    if (si >= 0) clearUpcallMask(this.v.bus.ram, si, this.v.boot.vcpuId);
  }
}
