/**
 * The scheduler's policy interface (Xen's `struct scheduler`, sched-if.h): the hypervisor
 * owns the mechanism (granting slices on pCPUs, runstates, timers); a policy only decides
 * which runnable vCPU a pCPU runs next and for how long.
 *
 * Time is in nanoseconds of scheduler time: host time, or in deterministic mode time
 * derived from instructions retired (so runs are reproducible).
 */

/** What a policy sees of a vCPU. */
export interface SchedVcpu {
  readonly domid: number;
  readonly vcpuId: number;
  /** Bitmask of pCPUs this vCPU may run on (hard affinity, `xl vcpu-pin`). */
  affinity: number;
  /** Domain parameters (`xl sched-credit`). */
  readonly params: SchedParams;
  /** Private data of the policy. */
  sched: unknown;
}

export interface SchedParams {
  /** Relative share, 1..65535 (Xen default 256). */
  weight: number;
  /** Upper bound in percent of one pCPU; 0 = none. */
  cap: number;
}

export interface SchedOps {
  readonly name: string;
  /** A vCPU joins the scheduler (domain created or vCPU brought up), not yet runnable. */
  insert(v: SchedVcpu): void;
  remove(v: SchedVcpu): void;
  /** The vCPU became runnable (woken from blocked, unpaused, created). */
  wake(v: SchedVcpu, now: number): void;
  /** The vCPU stopped being runnable (blocked, paused). */
  sleep(v: SchedVcpu): void;
  /** The runnable vCPU `pcpu` should run next, with its slice, or undefined to idle. */
  pickNext(pcpu: number, now: number): { vcpu: SchedVcpu; sliceNs: number } | undefined;
  /** `v` ran `ranNs` on a pCPU; `stillRunnable` says whether it goes back on the runqueue. */
  account(v: SchedVcpu, ranNs: number, stillRunnable: boolean, now: number): void;
  /** The next time the policy needs `tick` (its accounting period), or Infinity. */
  nextTick(): number;
  tick(now: number): void;
  /** A human-readable summary for `xl debug-keys r`-style dumps and the UI. */
  dump(): string;
}

export const SCHED_DEFAULT_WEIGHT = 256;
export const NS_PER_MS = 1_000_000;
