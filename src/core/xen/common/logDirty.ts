/**
 * Log-dirty mode for live migration (Xen's XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, CLEAN,
 * PEEK and OFF; xen/arch/x86/mm/paging.c), over the write watch of machine memory
 * (cpu/writeWatch.ts) that the translation tier also uses:
 *
 * - enable: bit 31 (WATCH_LOG_DIRTY) on every frame of the domain. A watched frame gets no
 *   fast write entry in any vCPU's software TLB, so every store to it takes the slow path,
 *   which bumps the frame's write generation. A vCPU may still hold a fast entry filled
 *   before the bit was set; it drops it at its next block boundary, when it sees the epoch
 *   move. So enable pauses the domain for the moment it takes to set the bits (every vCPU
 *   leaves its pCPU, and starts its next slice with the epoch check): from then on no write
 *   goes unnoticed. Xen does the same with a TLB flush of every vCPU after the p2m change.
 * - CLEAN: the domain's frames whose generation moved since the last CLEAN (Xen's bitmap is
 *   the generation compared with a snapshot), and resets; PEEK counts them and resets
 *   nothing. A frame Domain-0 holds mapped writable (a backend's ring) and the frames the
 *   caller names (pv console and xenstore rings, written by Domain-0 directly) count as dirty
 *   every time, since those writes pass no helper. A pfn whose machine frame changed
 *   (ballooned out and in again) is dirty; one that left the domain is reported as gone.
 * - off: the bit cleared (stores are fast again once a vCPU refills its entry).
 *
 * Writes by Domain-0's backends into guest memory are noticed through the same write
 * watch: grant copies (gnttab.ts copy and dom0Copy: netback's receive, blkback's reads) and
 * virtio DMA (devices/virtio/guestDma.ts `dmaWriteNote`) call `noteRange`.
 *
 * Unlike QEMU's TLB_NOTDIRTY (only the first store to a page per round pays), every store to
 * the domain's memory takes the slow path while log-dirty is on: clearing the bit after the
 * first store and setting it again at CLEAN would need the same barrier as enable at every
 * round (a vCPU's stale fast entry could write after the page was sent), which the vCPUs do
 * not report yet. docs/migration.md "Live migration" has the measured cost.
 */
import { WATCH_LOG_DIRTY } from '../../cpu/writeWatch';
import { P2M_GRANT, P2M_MFN_MASK } from '../../bus/bus';
import { Runstate, type Domain } from './domain';
import type { Hypervisor } from './hypervisor';

export interface DirtySet {
  /** pfns written since the last CLEAN (or that came into the domain), ascending. */
  dirty: number[];
  /** pfns that left the domain since the last CLEAN (sent as XTAB). */
  gone: number[];
}

export class LogDirty {
  /** Per pfn: the machine frame at the last CLEAN (-1: none), and its write generation then. */
  private readonly mfn: Int32Array;
  private readonly gen: Int32Array;
  private readonly frames: number;
  private enabled = true;
  /** Statistics, as Xen's xen_domctl_shadow_op_stats: CLEANs done, and dirty pages reported in all. */
  cleans = 0;
  dirtyCount = 0;

  private constructor(
    private readonly hv: Hypervisor,
    readonly d: Domain,
    private readonly always: readonly number[],
  ) {
    this.frames = Math.min(d.p2m.maxFrames, (d.config.maxmem * 1024 * 1024) / 4096);
    this.mfn = new Int32Array(this.frames).fill(-1);
    this.gen = new Int32Array(this.frames);
    this.scan(true);
  }

  /**
   * Turn log-dirty on for `d` (the domain is paused for as long as that takes, unless it
   * was paused already). `always`: pfns to report dirty at every CLEAN.
   */
  static async enable(hv: Hypervisor, d: Domain, always: readonly number[] = [], timeoutMs = 5000): Promise<LogDirty> {
    const wasPaused = d.paused;
    if (!wasPaused) hv.pauseDomain(d.domid);
    try {
      const until = Date.now() + timeoutMs;
      while (d.vcpus.some((v) => v.runstate === Runstate.RUNNING)) {
        if (Date.now() > until) throw new Error(`domain ${d.domid}: a vCPU did not stop within ${timeoutMs} ms`);
        await new Promise<void>((r) => setTimeout(r, 1));
      }
      if (d.dying || hv.domains.get(d.domid) !== d) throw new Error(`domain ${d.domid} went away`);
      return new LogDirty(hv, d, always);
    } finally {
      if (!wasPaused && hv.domains.get(d.domid) === d && !d.dying) hv.unpauseDomain(d.domid);
    }
  }

  /** XEN_DOMCTL_SHADOW_OP_CLEAN: what changed since the last CLEAN, and reset. */
  clean(): DirtySet {
    if (!this.enabled) throw new Error('log-dirty is off');
    const out = this.scan(true);
    this.cleans++;
    this.dirtyCount += out.dirty.length;
    return out;
  }

  /** XEN_DOMCTL_SHADOW_OP_PEEK: how many pages CLEAN would report now, resetting nothing. */
  peek(): number {
    if (!this.enabled) throw new Error('log-dirty is off');
    const s = this.scan(false);
    return s.dirty.length + s.gone.length;
  }

  /** XEN_DOMCTL_SHADOW_OP_OFF. */
  disable(): void {
    if (!this.enabled) return;
    this.enabled = false;
    const ww = this.hv.watch;
    for (let pfn = 0; pfn < this.frames; pfn++) if (this.mfn[pfn]! >= 0) ww.remove(this.mfn[pfn]!, WATCH_LOG_DIRTY);
  }

  private scan(reset: boolean): DirtySet {
    const ww = this.hv.watch,
      p2m = this.d.p2m;
    const dirty: number[] = [],
      gone: number[] = [];
    const first = this.cleans === 0 && reset && this.mfn.every((m) => m === -1);
    const forced = new Set<number>(this.always);
    const byMfn = new Map<number, number>();
    for (const m of this.hv.gnttab.dom0WritableFrames(this.d.domid)) byMfn.set(m, -1);
    for (let pfn = 0; pfn < this.frames; pfn++) {
      const e = p2m.get(pfn);
      const mfn = e < 0 || (e & P2M_GRANT) !== 0 ? -1 : e & P2M_MFN_MASK;
      const was = this.mfn[pfn]!;
      if (mfn < 0) {
        if (was >= 0) {
          gone.push(pfn);
          if (reset) {
            ww.remove(was, WATCH_LOG_DIRTY);
            this.mfn[pfn] = -1;
          }
        }
        continue;
      }
      if (byMfn.has(mfn)) byMfn.set(mfn, pfn);
      const g = ww.generation(mfn);
      if (mfn !== was) {
        if (reset) {
          if (was >= 0) ww.remove(was, WATCH_LOG_DIRTY);
          ww.add(mfn, WATCH_LOG_DIRTY);
          this.mfn[pfn] = mfn;
          this.gen[pfn] = ww.generation(mfn);
        }
        if (!first) dirty.push(pfn);
        continue;
      }
      if (g !== this.gen[pfn] || forced.has(pfn)) {
        dirty.push(pfn);
        if (reset) this.gen[pfn] = g;
      }
    }
    if (!first) {
      const extra = [...byMfn.values()].filter((pfn) => pfn >= 0 && !dirty.includes(pfn));
      if (extra.length > 0) {
        dirty.push(...extra);
        dirty.sort((a, b) => a - b);
      }
    }
    return { dirty, gone };
  }
}
