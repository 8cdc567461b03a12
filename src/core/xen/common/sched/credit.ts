/**
 * Xen's credit scheduler (credit1, xen/common/sched/credit.c), for hyperlab's vCPUs.
 *
 * Design: every accounting period (one 30 ms timeslice) the credit of all online pCPUs,
 * 300 credits each, is shared among the domains that have runnable vCPUs, in proportion
 * to their weight; a running vCPU burns 10 credits per millisecond it runs. A vCPU with
 * credit left is UNDER, one in debt is OVER, and UNDER always runs before OVER, so over
 * time each domain gets CPU in proportion to its weight when the host is contended, and
 * any idle pCPU still runs an OVER vCPU: the policy is work-conserving.
 *
 * Waking: a vCPU that wakes while UNDER is BOOSTed ahead of both, so latency-sensitive
 * vCPUs (ones that mostly sleep) preempt CPU-bound ones without getting more than their
 * share; it drops back to UNDER once it has run.
 *
 * Cap: a domain's cap (percent of one pCPU) limits the credit it earns per period to
 * cap x 3; a capped vCPU whose debt passes that amount is parked, not run even on an idle
 * pCPU, until accounting brings its credit back above zero. That is what makes a cap
 * non-work-conserving, as in Xen.
 *
 * Simplifications, written down: accounting runs at the end of each period on whichever
 * pCPU passes it (Xen uses a master ticker); when a slice ended late (host time under load)
 * and several periods went by, it hands out all of their credit at once, with the clamps
 * scaled to match, as Xen's ticker would have period by period; surplus credit of capped domains is not
 * redistributed, and there is no per-pCPU runqueue stealing: one global runqueue ordered
 * by priority, scanned for a vCPU whose hard affinity allows the asking pCPU.
 */
import { NS_PER_MS, type SchedOps, type SchedVcpu } from './schedOps';

/** CSCHED_DEFAULT_TSLICE_MS: the timeslice and accounting period. */
export const CSCHED_TSLICE_MS = 30;
/** CSCHED_CREDITS_PER_MSEC: credit burnt per millisecond of running. */
export const CSCHED_CREDITS_PER_MSEC = 10;
/** Credit one pCPU hands out per period (credits_per_tslice). */
export const CSCHED_CREDITS_PER_TSLICE = CSCHED_CREDITS_PER_MSEC * CSCHED_TSLICE_MS;

export const CSCHED_PRI_TS_BOOST = 0;
export const CSCHED_PRI_TS_UNDER = -1;
export const CSCHED_PRI_TS_OVER = -2;

interface CreditData {
  credit: number;
  pri: number;
  parked: boolean;
  runnable: boolean;
  /** Order of arrival on the runqueue, for FIFO within a priority. */
  seq: number;
}

const PERIOD_NS = CSCHED_TSLICE_MS * NS_PER_MS;
/** Xen's csched tick (CSCHED_TICKS_PER_TSLICE = 3 per timeslice): the slice while another vCPU waits for the pCPU. */
const TICK_NS = PERIOD_NS / 3;

export class CreditScheduler implements SchedOps {
  readonly name = 'credit';
  private readonly vcpus = new Set<SchedVcpu>();
  private nextAcct = PERIOD_NS;
  private seq = 0;

  constructor(private readonly nrPcpus: () => number) {}

  private data(v: SchedVcpu): CreditData {
    return v.sched as CreditData;
  }

  insert(v: SchedVcpu): void {
    v.sched = { credit: 0, pri: CSCHED_PRI_TS_UNDER, parked: false, runnable: false, seq: 0 } satisfies CreditData;
    this.vcpus.add(v);
  }

  remove(v: SchedVcpu): void {
    this.vcpus.delete(v);
  }

  wake(v: SchedVcpu, _now = 0): void {
    const d = this.data(v);
    if (d.runnable) return;
    d.runnable = true;
    d.seq = ++this.seq;
    // BOOST a waking vCPU that still has credit (csched_unit_wake).
    if (d.pri === CSCHED_PRI_TS_UNDER && !d.parked) d.pri = CSCHED_PRI_TS_BOOST;
  }

  sleep(v: SchedVcpu): void {
    this.data(v).runnable = false;
  }

  pickNext(pcpu: number, _now = 0): { vcpu: SchedVcpu; sliceNs: number } | undefined {
    let best: SchedVcpu | undefined;
    let bd: CreditData | undefined;
    for (const v of this.vcpus) {
      const d = this.data(v);
      if (!d.runnable || d.parked || ((v.affinity >>> pcpu) & 1) === 0) continue;
      if (bd === undefined || d.pri > bd.pri || (d.pri === bd.pri && d.seq < bd.seq)) {
        best = v;
        bd = d;
      }
    }
    if (best === undefined || bd === undefined) return undefined;
    bd.runnable = false; // running now; account() puts it back
    // Contended: a tick, so a vCPU that went OVER yields within 10 ms, as Xen's tick
    // re-sorts by credit. A whole period plus the hand-over's lateness (host time under
    // load: 30 to 70 ms) would burn more than a period's credit in one slice, both would
    // sit at the debt floor, and weights would fade to 1:1.
    let contended = false;
    for (const v of this.vcpus) {
      const d = this.data(v);
      if (d.runnable && !d.parked && ((v.affinity >>> pcpu) & 1) !== 0) contended = true;
    }
    return { vcpu: best, sliceNs: contended ? TICK_NS : PERIOD_NS };
  }

  account(v: SchedVcpu, ranNs: number, stillRunnable: boolean, now: number): void {
    const d = this.data(v);
    d.credit -= (ranNs / NS_PER_MS) * CSCHED_CREDITS_PER_MSEC; // burn_credits
    if (d.pri === CSCHED_PRI_TS_BOOST) d.pri = CSCHED_PRI_TS_UNDER;
    if (d.credit < 0) d.pri = CSCHED_PRI_TS_OVER;
    const capCredit = this.capCredit(v);
    if (capCredit > 0 && d.credit < -capCredit) d.parked = true;
    if (stillRunnable) {
      d.runnable = true;
      d.seq = ++this.seq;
    }
    if (now >= this.nextAcct) this.tick(now);
  }

  /** Credit a capped domain may earn per period, split over its vCPUs; 0 when uncapped. */
  private capCredit(v: SchedVcpu): number {
    return v.params.cap > 0 ? (v.params.cap * CSCHED_CREDITS_PER_TSLICE) / 100 : 0;
  }

  nextTick(): number {
    return this.nextAcct;
  }

  /** csched_acct: hand out one period's credit by weight. */
  tick(now: number): void {
    // Periods that went by since the last accounting (more than one when a slice ended late:
    // host time under load): each hands out its credit, as Xen's ticker would have on time.
    let periods = 0;
    while (this.nextAcct <= now) {
      this.nextAcct += PERIOD_NS;
      periods++;
    }
    periods = Math.max(1, periods);
    const domains = new Map<number, SchedVcpu[]>();
    for (const v of this.vcpus) {
      const d = this.data(v);
      if (!d.runnable && !d.parked && d.credit >= 0) continue; // idle and not in debt: not active
      const list = domains.get(v.domid) ?? [];
      list.push(v);
      domains.set(v.domid, list);
    }
    let weightTotal = 0;
    for (const vs of domains.values()) weightTotal += vs[0]!.params.weight * vs.length;
    if (weightTotal === 0) return;
    const creditTotal = CSCHED_CREDITS_PER_TSLICE * this.nrPcpus() * periods;
    for (const vs of domains.values()) {
      const p = vs[0]!.params;
      let fair = Math.ceil((creditTotal * p.weight * vs.length) / weightTotal);
      let peak = vs.length * CSCHED_CREDITS_PER_TSLICE * periods;
      if (p.cap > 0) peak = Math.min(peak, Math.ceil((p.cap * CSCHED_CREDITS_PER_TSLICE * periods) / 100));
      fair = Math.min(fair, peak);
      const share = Math.ceil(fair / vs.length);
      for (const v of vs) {
        const d = this.data(v);
        d.credit += share;
        if (d.credit >= 0) {
          d.parked = false;
          if (d.pri !== CSCHED_PRI_TS_BOOST) d.pri = CSCHED_PRI_TS_UNDER;
          // A vCPU that does not use its credit stops accumulating it (csched_acct).
          if (d.credit > CSCHED_CREDITS_PER_TSLICE * periods) d.credit /= 2;
        } else {
          d.pri = CSCHED_PRI_TS_OVER;
          // Lower bound on credit, as csched_acct keeps it (a capped vCPU stays parked meanwhile).
          if (d.credit < -CSCHED_CREDITS_PER_TSLICE * periods && !d.parked) d.credit = -CSCHED_CREDITS_PER_TSLICE * periods;
        }
      }
    }
  }

  dump(): string {
    const rows = [...this.vcpus].map((v) => {
      const d = this.data(v);
      return `d${v.domid}v${v.vcpuId} pri=${d.pri} credit=${Math.round(d.credit)}${d.parked ? ' parked' : ''}${d.runnable ? ' runnable' : ''}`;
    });
    return `credit: ${rows.join(', ')}`;
  }
}
