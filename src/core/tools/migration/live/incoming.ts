/**
 * The incoming domain's memory, built as the stream arrives (libxc's xg_sr_restore.c: Xen
 * creates the domain when the stream begins and populates its pfns batch by batch as
 * PAGE_DATA records come in, `process_page_data`). hyperlab's receiver used to build
 * everything once the whole stream was in and verified, which put the allocation of every
 * frame and the copy of every page inside the downtime; now only the last round's pages, the
 * vCPU and device state and the domain's construction around this memory remain there.
 *
 * Each record reaches `apply` only once its own checksum and place have been verified
 * (saveFile.ts SaveFileReader), so no byte of a corrupt record is ever written; the stream
 * checksums are verified at END, and nothing runs in these frames before that: they belong
 * to no domain yet (owner DOMID_XEN, as Xen's allocator holds frames for a domain being
 * built), and restore.ts hands them to the new domain (`adopt`) once everything checks out.
 * On any failure `discard` gives every frame back, zeroed, so nothing of the stream leaks
 * into the next domain that gets them.
 *
 * A pfn sent in several rounds is simply written again (later PAGE_DATA wins, libxc's rule
 * for live streams); XALLOC after data zeroes the frame; XTAB (a pfn ballooned out during
 * the migration) gives its frame back.
 */
import { DOMID_XEN, type MachineMemory } from '../../../xen/common/machineMemory';
import { P2m, releaseFrames } from '../../../xen/common/p2m';
import { pvLayout } from '../../../xen/pv/builder';
import type { RawRecord } from '../framing';
import { PAGE_SIZE, readPageData } from '../pageData';
import { XC } from '../records';
import type { DomainConfig } from '../../xlConfig';

const MiB = 1024 * 1024;

export class IncomingMemory {
  readonly p2m: P2m;
  /** PAGE_DATA records applied, and the pfn entries they carried. */
  records = 0;
  entries = 0;
  /** Time spent writing pages into frames (ms). */
  applyMs = 0;
  private adopted = false;

  /**
   * Reserve nothing yet: frames are taken as their pfns first arrive. Refuses at once a
   * domain this host cannot hold (its `memory` more than the free frames), as Xen's
   * domain creation at the stream's start would.
   */
  constructor(
    private readonly mem: MachineMemory,
    readonly cfg: DomainConfig,
  ) {
    const needed = (cfg.memory * MiB) / PAGE_SIZE;
    if (needed > mem.nrFree) throw new Error(`not enough free memory: ${cfg.memory} MiB asked, ${(mem.nrFree * PAGE_SIZE) >> 20} MiB free`);
    this.p2m = new P2m(cfg.type === 'pv' ? pvLayout(cfg).p2mFrames : (cfg.maxmem * MiB) / PAGE_SIZE);
  }

  /** Frames held for the incoming domain. */
  get frames(): number {
    return this.p2m.populated();
  }

  /** A verified libxc record (SaveFileReader's onRecord): PAGE_DATA goes into the frames now. */
  apply(layer: 'libxc' | 'libxl', rec: RawRecord): void {
    if (layer !== 'libxc' || rec.type !== XC.PAGE_DATA || this.adopted) return;
    const t0 = performance.now();
    const u8 = this.mem.views.u8;
    const t = this.p2m.table;
    // Parsed a second time (LibxcRestore checked it already); the page bytes are views, not copies.
    for (const p of readPageData(rec.body, rec.offset + 8, this.p2m.maxFrames)) {
      let mfn = this.p2m.get(p.pfn);
      if (p.data === 'invalid') {
        if (mfn >= 0) {
          this.p2m.clear(p.pfn);
          this.mem.free(mfn);
        }
        continue;
      }
      if (mfn < 0) {
        // A fresh frame is zero. A plain store, no P2M generation bump per page: no vCPU
        // translates through this P2M before `adopt` (which bumps it once).
        mfn = this.mem.alloc(DOMID_XEN);
        t[p.pfn] = mfn;
      } else if (p.data === 'zero') u8.fill(0, mfn * PAGE_SIZE, (mfn + 1) * PAGE_SIZE);
      if (p.data !== 'zero') u8.set(p.data, mfn * PAGE_SIZE);
    }
    this.records++;
    this.entries += new DataView(rec.body.buffer, rec.body.byteOffset).getUint32(0, true);
    this.applyMs += performance.now() - t0;
  }

  /**
   * Hand the frames to the domain built around them (restore.ts, inside createDomain's
   * build): each becomes `domid`'s. Returns the P2M, which the domain keeps.
   */
  adopt(domid: number): P2m {
    if (this.adopted) throw new Error('internal: the incoming memory was adopted twice');
    this.adopted = true;
    const owner = this.mem.owner;
    const t = this.p2m.table;
    for (let pfn = 0; pfn < t.length; pfn++) {
      const mfn = t[pfn]!;
      if (mfn >= 0) owner[mfn] = domid;
    }
    Atomics.add(this.p2m.generation, 0, 1);
    return this.p2m;
  }

  /**
   * The migration failed: give back every frame still held (those a domain built around
   * them and destroyed again are back already) and zero them, so the stream's bytes reach
   * nobody. Returns the frames freed here.
   */
  discard(): number {
    const n = releaseFrames(this.mem, this.p2m);
    this.mem.scrub(n);
    return n;
  }
}
