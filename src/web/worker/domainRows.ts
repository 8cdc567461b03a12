/**
 * Domains as rows of xentop: CPU time, CPU %, memory, vCPUs, and the instruction rate.
 * Rates are taken over about a second of samples (xentop's default delay is three), so a
 * 30 ms slice more or less does not make the numbers jump.
 */
import { Runstate, RUNSTATE_NAMES, type Domain } from '../../core/xen/common/domain';
import type { Hypervisor } from '../../core/xen/common/hypervisor';
import { NS_PER_MS } from '../../core/xen/common/sched/schedOps';
import type { DomainRow, HostRow } from '../protocol/hvProtocol';

const WINDOW_MS = 1000;

interface Sample {
  readonly atMs: number;
  readonly cpuNs: number;
  readonly instret: number;
}

export class RowSampler {
  private readonly samples = new Map<number, Sample[]>();
  private seq = 0;

  /**
   * @param realTime scheduler time is host time: the slice a vCPU is in the middle of
   *   counts towards its CPU time already (with deterministic time it counts at its end).
   */
  constructor(
    private readonly hv: Hypervisor,
    private readonly realTime: boolean,
  ) {}

  /** CPU time in ns, the current slices included. */
  cpuNs(d: Domain): number {
    let ns = d.cpuNs;
    if (this.realTime) {
      const now = this.hv.now();
      // The slice in progress, unless the vCPU waits in place (that is not CPU time).
      for (const v of d.vcpus) if (v.shownRunstate === Runstate.RUNNING && v.pcpu >= 0) ns += Math.max(0, now - v.runstateSince);
    }
    return ns;
  }

  /** The domain's row; `sample` adds the values to the rate window (the periodic report does). */
  row(d: Domain, restarts: number, sample = false): DomainRow {
    const nowMs = this.hv.now() / NS_PER_MS;
    const cpuNs = this.cpuNs(d);
    const instret = d.vcpus.reduce((n, v) => n + v.instret, 0);
    let list = this.samples.get(d.domid);
    if (!list) {
      list = [];
      this.samples.set(d.domid, list);
    }
    const first = list[0];
    const spanMs = first ? nowMs - first.atMs : 0;
    const cpuPct = first && spanMs > 0 ? ((cpuNs - first.cpuNs) / NS_PER_MS / spanMs) * 100 : 0;
    const mips = first && spanMs > 0 ? (instret - first.instret) / spanMs / 1000 : 0;
    if (sample) {
      list.push({ atMs: nowMs, cpuNs, instret });
      while (list.length > 1 && list[1]!.atMs <= nowMs - WINDOW_MS) list.shift();
    }
    return {
      seq: ++this.seq,
      domid: d.domid,
      name: d.name,
      type: d.config.type,
      state: d.state,
      shutdown: d.shutdownReason ? { reason: d.shutdownReason, detail: d.shutdownDetail } : null,
      cpuNs,
      cpuPct: Math.max(0, cpuPct),
      memKiB: d.totPages * 4,
      maxMemKiB: d.maxPages * 4,
      vcpus: d.vcpus.map((v) => ({ vcpuId: v.vcpuId, runstate: RUNSTATE_NAMES[v.shownRunstate], pcpu: v.pcpu, affinity: v.affinity >>> 0 })),
      instret,
      mips: Math.max(0, mips),
      exits: Object.fromEntries(d.exits),
      evtchnSends: d.evtchnSends,
      weight: d.sched.weight,
      cap: d.sched.cap,
      uptimeMs: Math.max(0, nowMs - d.createdAt / NS_PER_MS),
      restarts,
    };
  }

  forget(domid: number): void {
    this.samples.delete(domid);
  }
}

export function hostRow(hv: Hypervisor): HostRow {
  return {
    pcpus: hv.pcpus,
    scheduler: hv.schedulerName,
    totalKiB: hv.memory.nrFrames * 4,
    freeKiB: hv.memory.nrFree * 4,
    dom0CpuNs: hv.dom0CpuNs,
    jit: hv.jit,
  };
}
