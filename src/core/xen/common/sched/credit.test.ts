import { describe, expect, it } from 'vitest';
import { CreditScheduler } from './credit';
import { NS_PER_MS, type SchedOps, type SchedVcpu } from './schedOps';
import { RoundRobin } from './roundRobin';

function vcpu(domid: number, weight = 256, cap = 0, affinity = 0xffff_ffff): SchedVcpu {
  return { domid, vcpuId: 0, affinity, params: { weight, cap }, sched: undefined };
}

/**
 * Simulate `pcpus` pCPUs running CPU-bound vCPUs for `ms` of scheduler time, slice by
 * slice, and return each domain's share of the time.
 */
function simulate(s: SchedOps, vs: SchedVcpu[], ms: number, pcpus = 1, overrunNs = 0): Map<number, number> {
  const ran = new Map<number, number>();
  for (const v of vs) {
    s.insert(v);
    s.wake(v, 0);
  }
  const clock = new Array<number>(pcpus).fill(0);
  const end = ms * NS_PER_MS;
  for (;;) {
    const p = clock.indexOf(Math.min(...clock));
    const now = clock[p]!;
    if (now >= end) break;
    const pick = s.pickNext(p, now);
    if (!pick) {
      clock[p] = Math.min(now + NS_PER_MS, s.nextTick());
      if (s.nextTick() <= clock[p]) s.tick(clock[p]);
      continue;
    }
    const slice = Math.min(pick.sliceNs + overrunNs, end - now);
    clock[p] = now + slice;
    ran.set(pick.vcpu.domid, (ran.get(pick.vcpu.domid) ?? 0) + slice);
    s.account(pick.vcpu, slice, true, clock[p]);
  }
  const total = ms * NS_PER_MS * pcpus;
  return new Map([...ran].map(([d, ns]) => [d, ns / total]));
}

describe('credit scheduler', () => {
  it('weights 512:256 share one pCPU 2:1 (within 5%)', () => {
    const share = simulate(new CreditScheduler(() => 1), [vcpu(1, 512), vcpu(2, 256)], 30_000);
    expect(share.get(1)! / share.get(2)!).toBeGreaterThan(2 * 0.95);
    expect(share.get(1)! / share.get(2)!).toBeLessThan(2 * 1.05);
  });

  it('weights hold when slices end late (host time on a busy machine: 5 to 40 ms over)', () => {
    // Past 20 ms late a slice burns more than one period's credit: accounting must hand out
    // every period that went by, or both domains sit at the debt floor and share 1:1.
    for (const late of [5, 10, 20, 40]) {
      const share = simulate(new CreditScheduler(() => 1), [vcpu(1, 512), vcpu(2, 256)], 30_000, 1, late * NS_PER_MS);
      expect(share.get(1)! / share.get(2)!, `${late} ms late`).toBeGreaterThan(2 * 0.95);
      expect(share.get(1)! / share.get(2)!, `${late} ms late`).toBeLessThan(2 * 1.05);
    }
  });

  it('cap 50 holds a spinning domain at or under 50% of an otherwise idle pCPU', () => {
    const share = simulate(new CreditScheduler(() => 1), [vcpu(1, 256, 50)], 30_000);
    expect(share.get(1)!).toBeLessThanOrEqual(0.5);
    expect(share.get(1)!).toBeGreaterThan(0.4);
  });

  it('without a cap one domain gets the whole idle pCPU (work-conserving)', () => {
    const share = simulate(new CreditScheduler(() => 1), [vcpu(1, 256)], 3_000);
    expect(share.get(1)!).toBe(1);
  });

  it('hard affinity: a vCPU pinned to pCPU 1 never runs on pCPU 0', () => {
    const s = new CreditScheduler(() => 2);
    const v = vcpu(1, 256, 0, 0b10);
    s.insert(v);
    s.wake(v, 0);
    expect(s.pickNext(0, 0)).toBeUndefined();
    expect(s.pickNext(1, 0)?.vcpu).toBe(v);
  });

  it('a waking vCPU with credit is BOOSTed ahead of a CPU-bound one', () => {
    const s = new CreditScheduler(() => 1);
    const hog = vcpu(1),
      sleeper = vcpu(2);
    s.insert(hog);
    s.insert(sleeper);
    s.wake(hog, 0);
    const first = s.pickNext(0, 0)!;
    s.account(first.vcpu, 10 * NS_PER_MS, true, 10 * NS_PER_MS);
    s.wake(sleeper, 10 * NS_PER_MS);
    expect(s.pickNext(0, 10 * NS_PER_MS)?.vcpu).toBe(sleeper);
  });
});

describe('round robin', () => {
  it('ignores weights: 512:256 share equally', () => {
    const share = simulate(new RoundRobin(), [vcpu(1, 512), vcpu(2, 256)], 3_000);
    expect(share.get(1)).toBeCloseTo(0.5, 2);
  });
});
