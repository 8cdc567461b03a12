/**
 * The hypercall table and its dispatcher (Xen's hypercall table: one row per hypercall,
 * one switch). Every hypercall and sub-operation hyperlab implements is a row of
 * HYPERCALLS, with its number, where it is served (in the vCPU's worker or in the
 * hypervisor thread), and its handler, which checks its arguments; the families are in
 * hypercall/. `hypercall()` runs in the hypervisor thread with the calling vCPU's a0..a4
 * and the number from a6. The vCPU worker asks `servedIn()` which calls it keeps
 * (vcpu/vcpuRunner.ts). Every pointer is a guest-physical address read through
 * GuestMemory: a bad one is -EFAULT.
 */
import type { Vcpu } from './domain';
import { GuestFault } from './guestMemory';
import { CONSOLE_IO, SET_TIMER_OP, XEN_VERSION } from './hypercall/misc';
import { EVENT_CHANNEL_OP } from './hypercall/evtchnOp';
import { GRANT_TABLE_OP } from './hypercall/gnttabOp';
import { MEMORY_OP } from './hypercall/memoryOp';
import { SCHED_OP, VCPU_OP } from './hypercall/sched';
import { ok, type HcResult, type Hypercall, type HypercallContext, type Operation, type PvCaller, type Served } from './hypercall/types';
import * as X from '../public/xen';

export { HcAction, type HcResult, type HypercallContext, type Served } from './hypercall/types';

/** Every hypercall hyperlab implements, in the order of their numbers. */
export const HYPERCALLS: readonly Hypercall[] = [MEMORY_OP, SET_TIMER_OP, XEN_VERSION, CONSOLE_IO, GRANT_TABLE_OP, VCPU_OP, SCHED_OP, EVENT_CHANNEL_OP];

const BY_NR = new Map(HYPERCALLS.map((h) => [h.nr, h]));

/** The operation a call names: the hypercall's own, or the sub-operation in its first argument. */
export function operation(nr: number, cmd: number): Operation | undefined {
  const h = BY_NR.get(nr);
  if (!h) return undefined;
  return 'op' in h ? h.op : h.subOps.find((s) => s.cmd === cmd >>> 0);
}

/** Where call (nr, cmd) is served; undefined for calls hyperlab does not implement. */
export function servedIn(nr: number, cmd: number): Served | undefined {
  return operation(nr, cmd)?.served;
}

/** The name a call is counted under in the domain's exits (one key for every unknown number). */
export function hypercallName(nr: number): string {
  return BY_NR.get(nr)?.name ?? 'unknown';
}

export function hypercall(ctx: HypercallContext, v: Vcpu, nr: number, a: readonly number[]): HcResult {
  const d = ctx.lookup(v.domid);
  if (!d || !d.mem) return ok(-X.ESRCH);
  // Unknown numbers share one counter: Xen keeps no state for -ENOSYS, and a key per number
  // would let a guest grow the hypervisor's memory without bound.
  d.countExit(`hypercall:${hypercallName(nr)}`);
  const op = operation(nr, a[0] ?? 0);
  // Operations served only in the vCPU never come here from a worker that follows the table.
  if (!op?.handler) return ok(-X.ENOSYS);
  try {
    return op.handler(ctx, d as PvCaller, v, a);
  } catch (e) {
    if (e instanceof GuestFault) return ok(-X.EFAULT);
    throw e;
  }
}
