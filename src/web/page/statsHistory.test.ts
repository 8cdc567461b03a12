import { describe, expect, it } from 'vitest';
import type { DomainRow, SliceRecord, StatsReport } from '../protocol/hvProtocol';
import { HISTORY_MS, SLICE_MS, splitExits, StatsHistory } from './statsHistory';

function row(domid: number, over: Partial<DomainRow> = {}): DomainRow {
  return {
    seq: 1,
    domid,
    name: `d${domid}`,
    type: 'pv',
    state: 'running',
    shutdown: null,
    cpuNs: 0,
    cpuPct: 0,
    memKiB: 16384,
    maxMemKiB: 32768,
    vcpus: [],
    instret: 0,
    mips: 0,
    exits: {},
    evtchnSends: 0,
    weight: 256,
    cap: 0,
    uptimeMs: 0,
    restarts: 0,
    ...over,
  };
}

function report(ms: number, domains: DomainRow[], slices: SliceRecord[] = []): StatsReport {
  return { seq: ms, host: { pcpus: 2, scheduler: 'credit', totalKiB: 65536, freeKiB: 40000 }, domains, nowNs: ms * 1e6, slices };
}

describe('StatsHistory', () => {
  it('folds hypercall exits into one reason and lists them by type', () => {
    expect(splitExits({ wfi: 3, 'hypercall:sched_op': 5, 'hypercall:console_io': 2 })).toEqual({
      exits: { wfi: 3, hypercall: 7 },
      hypercalls: { sched_op: 5, console_io: 2 },
    });
  });

  it('turns counters into rates per second over about a second', () => {
    const h = new StatsHistory();
    for (let i = 0; i <= 20; i++) {
      h.add(report(i * 100, [row(1, { exits: { wfi: i * 10, 'hypercall:event_channel_op': i * 4 }, evtchnSends: i * 3, cpuPct: i })]));
    }
    const last = h.domains.get(1)!.samples.at(-1)!;
    expect(last.exitsBy['wfi']).toBeCloseTo(100); // 10 per 100 ms
    expect(last.hypercallsBy['event_channel_op']).toBeCloseTo(40);
    expect(last.exits).toBeCloseTo(140);
    expect(last.evtchn).toBeCloseTo(30);
    expect(last.cpu).toBe(20);
    expect(h.host.at(-1)!.mem).toBe(65536 - 40000);
    expect(h.host.at(-1)!.hypercalls).toBeCloseTo(40);
  });

  it('keeps the last minute of samples and ten seconds of slices, and forgets destroyed domains', () => {
    const h = new StatsHistory();
    const slice = (endMs: number): SliceRecord => ({ pcpu: 0, domid: 1, vcpuId: 0, startNs: (endMs - 5) * 1e6, endNs: endMs * 1e6, reason: 0 });
    for (let ms = 0; ms <= 90_000; ms += 100) h.add(report(ms, [row(1), row(2)], [slice(ms)]));
    const samples = h.domains.get(1)!.samples;
    expect(samples[0]!.t).toBeGreaterThanOrEqual(90_000 - HISTORY_MS);
    expect(samples.length).toBe(HISTORY_MS / 100 + 1);
    expect(h.slices[0]!.endNs / 1e6).toBeGreaterThanOrEqual(90_000 - SLICE_MS);
    expect(h.slices).toHaveLength(SLICE_MS / 100 + 1);
    h.add(report(90_100, [row(1)]));
    expect([...h.domains.keys()]).toEqual([1]);
  });
});
