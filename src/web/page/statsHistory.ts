/**
 * The live graphs' and the scheduler view's memory: the last HISTORY_MS of statistics
 * reports, per domain and for the host, and the scheduler's slices of the last SLICE_MS.
 * Plain TypeScript (no React, no DOM), fed one StatsReport at a time.
 *
 * Rates (exits, hypercalls, event channel sends per second) are taken over about a second
 * of reports, as CPU % and MIPS are in the worker (domainRows.ts): a 100 ms window would
 * make a guest that ticks at 100 Hz look like a saw.
 *
 * It is mutable on purpose: ~10 reports a second times 60 s times a few domains is too
 * much to copy into an immutable store each time. The store holds one History and a
 * version number that changes with every report; views re-read the History when it does.
 */
import type { Sample } from '../protocol/automationTypes';
import type { DomainRow, SliceRecord, StatsReport } from '../protocol/hvProtocol';

export type { Sample };

export const HISTORY_MS = 60_000;
export const SLICE_MS = 10_000;
const RATE_WINDOW_MS = 1000;
const MAX_SLICES = 40_000;
/** Exit reasons of hypercalls start with this. */
export const HYPERCALL_PREFIX = 'hypercall:';

export type Metric = 'cpu' | 'mips' | 'exits' | 'hypercalls' | 'evtchn' | 'mem' | 'disk' | 'diskBytes';
export const METRICS: readonly Metric[] = ['cpu', 'mips', 'exits', 'hypercalls', 'evtchn', 'mem', 'disk', 'diskBytes'];
/** blkif sector numbers are always in 512-byte units (io/blkif.h). */
const SECTOR_BYTES = 512;
const NO_VBD = { rdReq: 0, wrReq: 0, rdSect: 0, wrSect: 0 } as const;

interface Raw {
  readonly t: number;
  readonly exits: Readonly<Record<string, number>>;
  readonly evtchnSends: number;
  readonly vbd: NonNullable<DomainRow['vbd']>;
}

export interface DomainHistory {
  readonly domid: number;
  name: string;
  readonly samples: Sample[];
  readonly raw: Raw[];
}

/** Exits by reason with the hypercalls folded, and the hypercalls by type. */
export function splitExits(exits: Readonly<Record<string, number>>): { exits: Record<string, number>; hypercalls: Record<string, number> } {
  const out: Record<string, number> = {};
  const hc: Record<string, number> = {};
  for (const [reason, n] of Object.entries(exits)) {
    if (reason.startsWith(HYPERCALL_PREFIX)) {
      hc[reason.slice(HYPERCALL_PREFIX.length)] = n;
      out['hypercall'] = (out['hypercall'] ?? 0) + n;
    } else {
      out[reason] = n;
    }
  }
  return { exits: out, hypercalls: hc };
}

function perSecond(now: Record<string, number>, then: Record<string, number>, dtMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(now)) out[k] = Math.max(0, ((n - (then[k] ?? 0)) * 1000) / dtMs);
  return out;
}

const sum = (r: Readonly<Record<string, number>>): number => Object.values(r).reduce((a, b) => a + b, 0);

export class StatsHistory {
  readonly domains = new Map<number, DomainHistory>();
  readonly host: Sample[] = [];
  readonly slices: SliceRecord[] = [];
  /** Scheduler time of the newest report, ms. */
  nowMs = 0;
  /** Changes with every report taken. */
  version = 0;

  add(report: StatsReport): void {
    const t = report.nowNs / 1e6;
    this.nowMs = t;
    const seen = new Set<number>();
    const host = {
      cpu: 0,
      mips: 0,
      exits: 0,
      hypercalls: 0,
      evtchn: 0,
      mem: 0,
      disk: 0,
      diskBytes: 0,
      diskReads: 0,
      diskWrites: 0,
      diskReadBytes: 0,
      diskWriteBytes: 0,
    };
    for (const row of report.domains) {
      seen.add(row.domid);
      const s = this.addRow(row, t);
      host.cpu += s.cpu;
      host.mips += s.mips;
      host.exits += s.exits;
      host.hypercalls += s.hypercalls;
      host.evtchn += s.evtchn;
      host.disk += s.disk;
      host.diskBytes += s.diskBytes;
      host.diskReads += s.diskReads;
      host.diskWrites += s.diskWrites;
      host.diskReadBytes += s.diskReadBytes;
      host.diskWriteBytes += s.diskWriteBytes;
    }
    host.mem = report.host.totalKiB - report.host.freeKiB;
    this.host.push({ t, ...host, exitsBy: {}, hypercallsBy: {} });
    for (const id of [...this.domains.keys()]) if (!seen.has(id)) this.domains.delete(id);
    for (const r of report.slices) this.slices.push(r);
    this.trim(t);
    this.version++;
  }

  private addRow(row: DomainRow, t: number): Sample {
    let h = this.domains.get(row.domid);
    if (!h) {
      h = { domid: row.domid, name: row.name, samples: [], raw: [] };
      this.domains.set(row.domid, h);
    }
    h.name = row.name;
    h.raw.push({ t, exits: row.exits, evtchnSends: row.evtchnSends, vbd: row.vbd ?? NO_VBD });
    while (h.raw.length > 2 && h.raw[1]!.t <= t - RATE_WINDOW_MS) h.raw.shift();
    const first = h.raw[0]!;
    const dt = t - first.t;
    const now = splitExits(row.exits);
    const then = splitExits(first.exits);
    const exitsBy = dt > 0 ? perSecond(now.exits, then.exits, dt) : {};
    const hypercallsBy = dt > 0 ? perSecond(now.hypercalls, then.hypercalls, dt) : {};
    const rate = (now: number, then: number): number => (dt > 0 ? Math.max(0, ((now - then) * 1000) / dt) : 0);
    const v = row.vbd ?? NO_VBD;
    const diskReads = rate(v.rdReq, first.vbd.rdReq);
    const diskWrites = rate(v.wrReq, first.vbd.wrReq);
    const diskReadBytes = rate(v.rdSect, first.vbd.rdSect) * SECTOR_BYTES;
    const diskWriteBytes = rate(v.wrSect, first.vbd.wrSect) * SECTOR_BYTES;
    const s: Sample = {
      t,
      disk: diskReads + diskWrites,
      diskBytes: diskReadBytes + diskWriteBytes,
      diskReads,
      diskWrites,
      diskReadBytes,
      diskWriteBytes,
      cpu: row.cpuPct,
      mips: row.mips,
      exits: sum(exitsBy),
      hypercalls: sum(hypercallsBy),
      evtchn: dt > 0 ? Math.max(0, ((row.evtchnSends - first.evtchnSends) * 1000) / dt) : 0,
      mem: row.memKiB,
      exitsBy,
      hypercallsBy,
    };
    h.samples.push(s);
    return s;
  }

  private trim(t: number): void {
    const from = t - HISTORY_MS;
    const drop = (list: { t: number }[]): void => {
      let n = 0;
      while (n < list.length && list[n]!.t < from) n++;
      if (n > 0) list.splice(0, n);
    };
    drop(this.host);
    for (const h of this.domains.values()) drop(h.samples);
    const sliceFrom = t - SLICE_MS;
    let n = 0;
    while (n < this.slices.length && (this.slices[n]!.endNs / 1e6 < sliceFrom || this.slices.length - n > MAX_SLICES)) n++;
    if (n > 0) this.slices.splice(0, n);
  }
}
