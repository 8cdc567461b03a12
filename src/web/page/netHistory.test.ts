/** The network graphs' history: rates per interface over about a second of reports, the minute kept, ports that left dropped. */
import { describe, expect, it } from 'vitest';
import type { StatsReport } from '../protocol/hvProtocol';
import type { NetCounters } from '../protocol/netTypes';
import { NET_HISTORY_MS, NetHistory } from './netHistory';

const zero: NetCounters = { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, rxDrops: 0, spoofed: 0, txDrops: 0 };
function report(tMs: number, ports: { name: string; c: Partial<NetCounters> }[]): StatsReport {
  return {
    seq: tMs,
    host: { pcpus: 1, scheduler: 'credit', totalKiB: 0, freeKiB: 0 },
    domains: [],
    nowNs: tMs * 1e6,
    slices: [],
    net: ports.map((p) => ({ name: p.name, bridge: 'xenbr0', domid: 1, counters: { ...zero, ...p.c } })),
  };
}

describe('NetHistory', () => {
  it('takes frames and bytes per second each way over about a second of reports', () => {
    const h = new NetHistory();
    let heard = 0;
    h.subscribe(() => heard++);
    for (let i = 0; i <= 20; i++) h.add(report(i * 100, [{ name: 'vif1.0', c: { rxFrames: i * 10, rxBytes: i * 1000, txFrames: i * 5, txBytes: i * 98 } }]));
    const p = h.latest('vif1.0')!;
    expect(p.t).toBe(2000);
    expect(p.rxFps).toBeCloseTo(100);
    expect(p.txFps).toBeCloseTo(50);
    expect(p.rxBps).toBeCloseTo(10_000);
    expect(p.txBps).toBeCloseTo(980);
    expect(heard).toBe(21);
    expect(h.version).toBe(21);
  });

  it('keeps a minute of points and forgets a port a minute after it went away', () => {
    const h = new NetHistory();
    h.add(
      report(0, [
        { name: 'vif1.0', c: {} },
        { name: 'vif2.0', c: {} },
      ]),
    );
    for (let t = 100; t <= NET_HISTORY_MS + 1000; t += 100) h.add(report(t, [{ name: 'vif1.0', c: { rxFrames: t } }]));
    expect(h.interfaces.has('vif2.0')).toBe(false);
    const pts = h.interfaces.get('vif1.0')!.points;
    expect(pts[0]!.t).toBeGreaterThanOrEqual(1000);
    expect(pts.at(-1)!.t).toBe(NET_HISTORY_MS + 1000);
  });

  it('a counter that goes backwards (a port made again) gives no negative rate', () => {
    const h = new NetHistory();
    h.add(report(0, [{ name: 'vif1.0', c: { rxFrames: 500 } }]));
    h.add(report(100, [{ name: 'vif1.0', c: { rxFrames: 3 } }]));
    expect(h.latest('vif1.0')!.rxFps).toBe(0);
  });
});
