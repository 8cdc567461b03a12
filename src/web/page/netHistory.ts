/**
 * The network's history for the graphs and the Network tab: per interface (a bridge port:
 * vifD.N, vifD.N-emu, or Domain-0's own), frames and bytes per second each way over the
 * last minute, made from the port counters every statistics report carries
 * (StatsReport.net, about 10 a second). Rates are taken over about a second of reports, as
 * the other graphs' are (statsHistory.ts). No React: views read `interfaces` and redraw on
 * `version`; src/ui/netStore.ts feeds one per Lab.
 */
import type { StatsReport } from '../protocol/hvProtocol';
import type { NetCounters, NetPortSample } from '../protocol/netTypes';

export const NET_HISTORY_MS = 60_000;
/** Rates are taken between a report and the one about this long before it. */
const RATE_WINDOW_MS = 1000;

export interface NetRatePoint {
  /** Scheduler time, ms (the clock of the other graphs). */
  readonly t: number;
  /** Into the bridge (what the guest sent) and out to the guest, per second. */
  readonly rxFps: number;
  readonly txFps: number;
  readonly rxBps: number;
  readonly txBps: number;
}

export interface NetInterfaceHistory {
  readonly name: string;
  readonly bridge: string;
  readonly domid: number | null;
  /** The newest counters. */
  counters: NetCounters;
  readonly points: NetRatePoint[];
  /** Raw counters of the last RATE_WINDOW_MS and a little more, oldest first. */
  readonly raw: { t: number; c: NetCounters }[];
  /** Time of the last report that had it (a port that went away stops getting points). */
  lastSeen: number;
}

export class NetHistory {
  readonly interfaces = new Map<string, NetInterfaceHistory>();
  nowMs = 0;
  /** Changes with every report that had network samples. */
  version = 0;
  private readonly listeners = new Set<() => void>();

  add(report: StatsReport): void {
    const ports: readonly NetPortSample[] = report.net ?? [];
    const t = report.nowNs / 1e6;
    this.nowMs = t;
    for (const p of ports) {
      const key = p.name;
      let h = this.interfaces.get(key);
      if (!h || h.bridge !== p.bridge) {
        h = { name: p.name, bridge: p.bridge, domid: p.domid, counters: p.counters, points: [], raw: [], lastSeen: t };
        this.interfaces.set(key, h);
      }
      h.counters = p.counters;
      h.lastSeen = t;
      h.raw.push({ t, c: p.counters });
      while (h.raw.length > 2 && h.raw[1]!.t <= t - RATE_WINDOW_MS) h.raw.shift();
      const first = h.raw[0]!;
      const dt = (t - first.t) / 1000;
      const rate = (now: number, then: number): number => (dt > 0 ? Math.max(0, now - then) / dt : 0);
      h.points.push({
        t,
        rxFps: rate(p.counters.rxFrames, first.c.rxFrames),
        txFps: rate(p.counters.txFrames, first.c.txFrames),
        rxBps: rate(p.counters.rxBytes, first.c.rxBytes),
        txBps: rate(p.counters.txBytes, first.c.txBytes),
      });
      while (h.points.length > 0 && h.points[0]!.t < t - NET_HISTORY_MS) h.points.shift();
    }
    // Ports gone for a minute leave the graphs.
    for (const [k, h] of this.interfaces) if (h.lastSeen < t - NET_HISTORY_MS) this.interfaces.delete(k);
    this.version++;
    for (const l of this.listeners) l();
  }

  /** The newest rates of an interface (zeros before its second report). */
  latest(name: string): NetRatePoint | undefined {
    return this.interfaces.get(name)?.points.at(-1);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
