/**
 * Grant tables, v1 (public/grant_table.h, docs/misc/grant-tables.txt; Xen's
 * common/grant_table.c for the checks). A domain's grant table lives in frames of its
 * own RAM (the "special pages" the domain builder reserves; setup_table reports where):
 * entries {u16 flags, u16 domid, u32 frame} written by the guest, where `frame` is a
 * guest frame number (guest-physical address >> 12) of the granting domain, as for Xen's
 * auto-translated guests; `grantFrames` here are indices into the P2M. And
 * GTF_reading / GTF_writing written by the hypervisor while the grant is mapped.
 *
 * Mapping points a frame of the mapping domain's P2M (`host_addr`, which must not be
 * populated) at the granting domain's machine frame, read-only when asked or granted so;
 * unmapping clears it again. Both bump the P2M generation, so vCPUs drop stale TLB entries.
 */
import { P2M_MFN_MASK, P2M_READONLY } from '../../bus/bus';
import { GuestFault, type GuestMemory } from './guestMemory';
import type { P2m } from './p2m';
import * as X from '../public/xen';

export const GRANT_ENTRY_SIZE = 8;
export const GRANTS_PER_FRAME = 4096 / GRANT_ENTRY_SIZE;

export interface Mapping {
  granter: number;
  ref: number;
  /** Where it is mapped in the mapping domain, and the granting domain's machine frame. */
  gfn: number;
  mfn: number;
  readonly: boolean;
}

export interface GnttabDomain {
  readonly domid: number;
  readonly mem: GuestMemory | undefined;
  readonly p2m: P2m;
  readonly ramBase: number;
  /** Guest frame numbers of the grant table frames. */
  readonly grantFrames: readonly number[];
  /** Grants this domain has mapped, by handle. */
  readonly maptrack: Map<number, Mapping>;
}

export class GrantTables {
  private nextHandle = 1;

  constructor(private readonly lookup: (domid: number) => GnttabDomain | undefined) {}

  private entryAddr(g: GnttabDomain, ref: number): number | undefined {
    if (!Number.isInteger(ref) || ref < 0 || ref >= g.grantFrames.length * GRANTS_PER_FRAME) return undefined;
    const frame = g.grantFrames[Math.floor(ref / GRANTS_PER_FRAME)]!;
    return g.ramBase + frame * 4096 + (ref % GRANTS_PER_FRAME) * GRANT_ENTRY_SIZE;
  }

  /** GNTTABOP_map_grant_ref for one entry: returns [status, handle]. */
  map(m: GnttabDomain, hostAddr: number, flags: number, ref: number, dom: number): [number, number] {
    const g = this.lookup(dom);
    if (g === undefined || g.mem === undefined || g.domid === m.domid) return [X.GNTST_bad_domain, 0];
    const at = this.entryAddr(g, ref);
    if (at === undefined) return [X.GNTST_bad_gntref, 0];
    if ((flags & X.GNTMAP_host_map) === 0) return [X.GNTST_general_error, 0];
    const wantRo = (flags & X.GNTMAP_readonly) !== 0;
    const off = (hostAddr >>> 0) - m.ramBase;
    const gfn = off / 4096;
    if (!Number.isInteger(gfn) || gfn < 0 || gfn >= m.p2m.maxFrames || m.p2m.get(gfn) >= 0) return [X.GNTST_bad_virt_addr, 0];
    const gm = g.mem;
    const word = gm.u32(at); // flags | domid << 16
    const eflags = word & 0xffff, edomid = word >>> 16;
    // Xen: "Bad flags or dom": a revoked entry and a grant to another domain both fail here.
    if ((eflags & X.GTF_type_mask) !== X.GTF_permit_access || edomid !== m.domid) return [X.GNTST_general_error, 0];
    if (!wantRo && (eflags & X.GTF_readonly) !== 0) return [X.GNTST_general_error, 0]; // write-pin of a r/o grant
    const frame = gm.u32(at + 4) - g.ramBase / 4096; // entries name frames as address >> 12
    const mfn = g.p2m.get(frame);
    if (mfn < 0 || (mfn & P2M_READONLY) !== 0) return [X.GNTST_bad_page, 0];
    gm.orU32(at, wantRo ? X.GTF_reading : X.GTF_reading | X.GTF_writing);
    const ro = wantRo || (eflags & X.GTF_readonly) !== 0;
    m.p2m.set(gfn, (mfn & P2M_MFN_MASK) | (ro ? P2M_READONLY : 0));
    const handle = this.nextHandle++;
    m.maptrack.set(handle, { granter: g.domid, ref, gfn, mfn: mfn & P2M_MFN_MASK, readonly: ro });
    return [X.GNTST_okay, handle];
  }

  /** GNTTABOP_unmap_grant_ref for one entry: returns the status. */
  unmap(m: GnttabDomain, hostAddr: number, handle: number): number {
    const t = m.maptrack.get(handle);
    if (t === undefined) return X.GNTST_bad_handle;
    if ((hostAddr >>> 0) !== m.ramBase + t.gfn * 4096) return X.GNTST_bad_virt_addr;
    this.release(m, handle, t);
    return X.GNTST_okay;
  }

  private release(m: GnttabDomain, handle: number, t: Mapping): void {
    m.p2m.clear(t.gfn);
    m.maptrack.delete(handle);
    const g = this.lookup(t.granter);
    if (!g?.mem) return;
    const stillMapped = [...this.allMappings()].some((x) => x.granter === t.granter && x.ref === t.ref);
    const at = this.entryAddr(g, t.ref);
    if (at !== undefined && !stillMapped) {
      try { g.mem.andU32(at, ~(X.GTF_reading | X.GTF_writing)); } catch (e) { if (!(e instanceof GuestFault)) throw e; }
    }
  }

  /** Whether some domain has machine frame `mfn` of `granter` mapped (it must not be freed). */
  isMapped(granter: number, mfn: number): boolean {
    for (const t of this.allMappings()) if (t.granter === granter && t.mfn === mfn) return true;
    return false;
  }

  private domainsSeen: (() => Iterable<GnttabDomain>) | undefined;

  /** Tell the tables how to enumerate domains (for the mapped-anywhere check and teardown). */
  setDomainSource(all: () => Iterable<GnttabDomain>): void {
    this.domainsSeen = all;
  }

  private *allMappings(): Iterable<Mapping> {
    for (const d of this.domainsSeen?.() ?? []) yield* d.maptrack.values();
  }

  /** A dying domain: drop its mappings of others' grants, and others' mappings of its grants. */
  teardown(d: GnttabDomain): void {
    for (const [h, t] of [...d.maptrack]) this.release(d, h, t);
    for (const other of this.domainsSeen?.() ?? []) {
      for (const [h, t] of [...other.maptrack]) if (t.granter === d.domid) this.release(other, h, t);
    }
  }

  /**
   * One GNTTABOP_copy: `len` bytes between a grant (GNTCOPY_*_gref) or a frame of the
   * caller's own, at byte offsets. Returns the status.
   */
  copy(caller: GnttabDomain, src: CopyPtr, dst: CopyPtr, len: number, flags: number): number {
    if (len > 4096 || src.offset + len > 4096 || dst.offset + len > 4096) return X.GNTST_bad_copy_arg;
    const s = this.resolve(caller, src, (flags & X.GNTCOPY_source_gref) !== 0, false);
    if (typeof s === 'number') return s;
    const d = this.resolve(caller, dst, (flags & X.GNTCOPY_dest_gref) !== 0, true);
    if (typeof d === 'number') return d;
    try {
      d.mem.write(d.gpa, s.mem.read(s.gpa, len));
    } catch (e) {
      if (e instanceof GuestFault) return X.GNTST_bad_page;
      throw e;
    }
    return X.GNTST_okay;
  }

  private resolve(caller: GnttabDomain, p: CopyPtr, isRef: boolean, write: boolean): { mem: GuestMemory; gpa: number } | number {
    const domid = p.domid === X.DOMID_SELF ? caller.domid : p.domid;
    const g = this.lookup(domid);
    if (!g?.mem) return X.GNTST_bad_domain;
    if (!isRef) {
      if (domid !== caller.domid) return X.GNTST_permission_denied; // only grants cross domains
      return { mem: g.mem, gpa: p.ref * 4096 + p.offset }; // a frame number: address >> 12
    }
    const at = this.entryAddr(g, p.ref);
    if (at === undefined) return X.GNTST_bad_gntref;
    const word = g.mem.u32(at);
    if ((word & X.GTF_type_mask) !== X.GTF_permit_access || (word >>> 16) !== caller.domid) return X.GNTST_general_error;
    if (write && (word & X.GTF_readonly) !== 0) return X.GNTST_general_error;
    return { mem: g.mem, gpa: g.mem.u32(at + 4) * 4096 + p.offset };
  }
}

/** struct gnttab_copy_ptr: a grant ref or frame, the domain, an offset. */
export interface CopyPtr {
  ref: number;
  domid: number;
  offset: number;
}
