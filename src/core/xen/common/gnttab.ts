/**
 * Grant tables, v1 (public/grant_table.h, docs/misc/grant-tables.txt; Xen's
 * common/grant_table.c for the checks). A domain's grant table lives in frames of its
 * own RAM (the "special pages" the domain builder reserves; setup_table reports where):
 * entries {u16 flags, u16 domid, u32 frame} written by the guest, where `frame` is a
 * guest frame number (guest-physical address >> 12) of the granting domain, as for Xen's
 * auto-translated guests; `grantFrames` here are indices into the P2M. And
 * GTF_reading / GTF_writing written by the hypervisor while the grant is in use.
 *
 * Mapping points a frame of the mapping domain's P2M (`host_addr`, which must not be
 * populated) at the granting domain's machine frame, read-only when asked or granted so;
 * unmapping clears it again. Both bump the P2M generation, so vCPUs drop stale TLB entries.
 *
 * The entries are in guest memory and the granter may rewrite them at any moment, from
 * another thread. So, as Xen does:
 * - An entry is checked and pinned in one step: a compare-and-swap on its flags|domid
 *   word that sets GTF_reading (and GTF_writing) only if the word is still the one that
 *   was checked (Xen's _set_status_v1), retried a bounded number of times. A granter that
 *   ends the grant with its own compare-and-swap then either wins (the map fails) or sees
 *   the pin and keeps the page. The frame is read after the pin, once per active entry.
 * - A grant may only name a frame the granter owns: not a frame it has itself mapped from
 *   someone else, and not a read-only one (GNTST_bad_page).
 * - A mapped frame holds a reference (MachineMemory.get), so it outlives anything its
 *   owner does with it; GNTTABOP_copy pins its entries for the length of the copy
 *   (acquire_grant_for_copy).
 */
import { P2M_GRANT, P2M_MFN_MASK, P2M_READONLY } from '../../bus/bus';
import { GuestFault, type GuestMemory } from './guestMemory';
import type { MachineMemory } from './machineMemory';
import type { P2m } from './p2m';
import { grant_entry_v1 } from '../public/structs';
import * as X from '../public/xen';

export const GRANT_ENTRY_SIZE = grant_entry_v1.SIZE;
export const GRANTS_PER_FRAME = 4096 / GRANT_ENTRY_SIZE;
/**
 * Compare-and-swap attempts on an entry before giving up: a granter that changes its entry
 * this often while we pin it is hostile or broken (Xen gives up after a few retries too).
 */
const MAX_PIN_RETRIES = 16;

export interface Mapping {
  granter: number;
  ref: number;
  /** Where it is mapped in the mapping domain, and the granting domain's machine frame. */
  gfn: number;
  mfn: number;
  readonly: boolean;
}

/** An entry in use (Xen's active grant entry): its frame, fixed while pinned, and the pins. */
export interface ActiveGrant {
  mfn: number;
  readers: number;
  writers: number;
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
  /** This domain's entries that are pinned now, by ref. */
  readonly activeGrants: Map<number, ActiveGrant>;
}

/** struct gnttab_copy_ptr: a grant ref or frame, the domain, an offset. */
export interface CopyPtr {
  ref: number;
  domid: number;
  offset: number;
}

export class GrantTables {
  private nextHandle = 1;
  private domainsSeen: (() => Iterable<GnttabDomain>) | undefined;
  private readonly bytes: Uint8Array;
  /** Domain-0's mappings (dom0Map), by handle: the granter, its entry and the referenced frame. */
  private readonly dom0Maps = new Map<number, { g: GnttabDomain; ref: number; mfn: number; readonly: boolean }>();

  constructor(
    private readonly memory: MachineMemory,
    private readonly lookup: (domid: number) => GnttabDomain | undefined,
  ) {
    this.bytes = new Uint8Array(memory.buffer);
  }

  /** Every write a copy makes into a domain's frame (machine byte offset, length): log-dirty and the translation tier (cpu/writeWatch.ts). */
  noteWrite: ((at: number, length: number) => void) | undefined = undefined;

  /**
   * Machine frames of `domid` that Domain-0 holds mapped writable (backends' rings): its
   * writes there bypass every helper, so log-dirty counts these frames dirty in every round.
   */
  dom0WritableFrames(domid: number): number[] {
    const out: number[] = [];
    for (const t of this.dom0Maps.values()) if (t.g.domid === domid && !t.readonly) out.push(t.mfn);
    return out;
  }

  /** Tell the tables how to enumerate domains (for teardown). */
  setDomainSource(all: () => Iterable<GnttabDomain>): void {
    this.domainsSeen = all;
  }

  private entryAddr(g: GnttabDomain, ref: number): number | undefined {
    if (!Number.isInteger(ref) || ref < 0 || ref >= g.grantFrames.length * GRANTS_PER_FRAME) return undefined;
    const frame = g.grantFrames[Math.floor(ref / GRANTS_PER_FRAME)]!;
    return g.ramBase + frame * 4096 + (ref % GRANTS_PER_FRAME) * GRANT_ENTRY_SIZE;
  }

  /**
   * The machine frame behind guest frame `gfn` of `d` if `d` may hand it out (grant it, or
   * copy to or from it): populated, its own, writable, not a grant mapping. Else -1.
   */
  ownFrame(d: GnttabDomain, gfn: number): number {
    const e = d.p2m.get(gfn);
    if (e < 0 || (e & (P2M_GRANT | P2M_READONLY)) !== 0) return -1;
    const mfn = e & P2M_MFN_MASK;
    return this.memory.owner[mfn] === d.domid ? mfn : -1;
  }

  /**
   * Check entry `ref` of `g` for use by `domid` and pin it (reading, or writing too), as
   * Xen's _set_status_v1 and the active-entry bookkeeping do. Returns the active entry, or
   * a GNTST_* status.
   */
  private acquire(g: GnttabDomain, ref: number, domid: number, write: boolean): ActiveGrant | number {
    const gm = g.mem;
    if (!gm) return X.GNTST_bad_domain;
    const at = this.entryAddr(g, ref);
    if (at === undefined) return X.GNTST_bad_gntref;
    const pin = write ? X.GTF_reading | X.GTF_writing : X.GTF_reading;
    let pinned = false;
    for (let i = 0; i < MAX_PIN_RETRIES && !pinned; i++) {
      const word = gm.u32(at); // flags | domid << 16
      // Xen: "Bad flags or dom": a revoked entry and a grant to another domain both fail here.
      if ((word & X.GTF_type_mask) !== X.GTF_permit_access || word >>> 16 !== domid) return X.GNTST_general_error;
      if (write && (word & X.GTF_readonly) !== 0) return X.GNTST_general_error; // write-pin of a r/o grant
      pinned = gm.casU32(at, word, (word | pin) >>> 0) === word;
    }
    if (!pinned) return X.GNTST_general_error; // the granter keeps changing the entry
    let act = g.activeGrants.get(ref);
    if (act === undefined) {
      // The frame is read after the pin: from now on the granter cannot end the grant
      // without seeing that it is in use.
      const mfn = this.ownFrame(g, gm.u32(at + grant_entry_v1.frame) - g.ramBase / 4096);
      if (mfn < 0) {
        this.unpinFlags(g, at, undefined);
        return X.GNTST_bad_page;
      }
      act = { mfn, readers: 0, writers: 0 };
      g.activeGrants.set(ref, act);
    }
    if (write) act.writers++;
    else act.readers++;
    return act;
  }

  /** Drop one pin taken by `acquire`. */
  private releaseGrant(g: GnttabDomain, ref: number, write: boolean): void {
    const act = g.activeGrants.get(ref);
    if (act === undefined) return;
    if (write) act.writers--;
    else act.readers--;
    if (act.readers + act.writers === 0) g.activeGrants.delete(ref);
    const at = this.entryAddr(g, ref);
    if (at !== undefined) this.unpinFlags(g, at, g.activeGrants.get(ref));
  }

  /** Clear GTF_writing when no writer is left, GTF_reading too when no pin is left. */
  private unpinFlags(g: GnttabDomain, at: number, act: ActiveGrant | undefined): void {
    const clear = act === undefined ? X.GTF_reading | X.GTF_writing : act.writers === 0 ? X.GTF_writing : 0;
    if (clear === 0) return;
    try {
      g.mem?.andU32(at, ~clear);
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
    }
  }

  /** GNTTABOP_map_grant_ref for one entry: returns [status, handle]. */
  map(m: GnttabDomain, hostAddr: number, flags: number, ref: number, dom: number): [number, number] {
    const g = this.lookup(dom);
    if (g === undefined || g.mem === undefined || g.domid === m.domid) return [X.GNTST_bad_domain, 0];
    if (this.entryAddr(g, ref) === undefined) return [X.GNTST_bad_gntref, 0];
    if ((flags & X.GNTMAP_host_map) === 0) return [X.GNTST_general_error, 0];
    const gfn = ((hostAddr >>> 0) - m.ramBase) / 4096;
    if (!Number.isInteger(gfn) || gfn < 0 || gfn >= m.p2m.maxFrames || m.p2m.get(gfn) >= 0) return [X.GNTST_bad_virt_addr, 0];
    const wantRo = (flags & X.GNTMAP_readonly) !== 0;
    const act = this.acquire(g, ref, m.domid, !wantRo);
    if (typeof act === 'number') return [act, 0];
    this.memory.get(act.mfn);
    m.p2m.set(gfn, act.mfn | P2M_GRANT | (wantRo ? P2M_READONLY : 0));
    const handle = this.nextHandle++;
    m.maptrack.set(handle, { granter: g.domid, ref, gfn, mfn: act.mfn, readonly: wantRo });
    return [X.GNTST_okay, handle];
  }

  /** GNTTABOP_unmap_grant_ref for one entry: returns the status. */
  unmap(m: GnttabDomain, hostAddr: number, handle: number): number {
    const t = m.maptrack.get(handle);
    if (t === undefined) return X.GNTST_bad_handle;
    if (hostAddr >>> 0 !== m.ramBase + t.gfn * 4096) return X.GNTST_bad_virt_addr;
    this.release(m, handle, t);
    return X.GNTST_okay;
  }

  private release(m: GnttabDomain, handle: number, t: Mapping): void {
    m.p2m.clear(t.gfn);
    m.maptrack.delete(handle);
    const g = this.lookup(t.granter);
    if (g) this.releaseGrant(g, t.ref, !t.readonly);
    this.memory.put(t.mfn); // last: the frame may go back to the pool here
  }

  /** A dying domain: drop its mappings of others' grants, and others' mappings of its grants. */
  teardown(d: GnttabDomain): void {
    for (const [h, t] of [...d.maptrack]) this.release(d, h, t);
    for (const other of this.domainsSeen?.() ?? []) {
      for (const [h, t] of [...other.maptrack]) if (t.granter === d.domid) this.release(other, h, t);
    }
    d.activeGrants.clear();
  }

  /**
   * One GNTTABOP_copy: `len` bytes between a grant (GNTCOPY_*_gref) or a frame of the
   * caller's own, at byte offsets. Returns the status.
   */
  copy(caller: GnttabDomain, src: CopyPtr, dst: CopyPtr, len: number, flags: number): number {
    if (len > 4096 || src.offset + len > 4096 || dst.offset + len > 4096) return X.GNTST_bad_copy_arg;
    const s = this.acquireForCopy(caller, src, (flags & X.GNTCOPY_source_gref) !== 0, false);
    if (typeof s === 'number') return s;
    const d = this.acquireForCopy(caller, dst, (flags & X.GNTCOPY_dest_gref) !== 0, true);
    if (typeof d === 'number') {
      s.release();
      return d;
    }
    const from = s.mfn * 4096 + src.offset;
    this.bytes.copyWithin(d.mfn * 4096 + dst.offset, from, from + len);
    this.noteWrite?.(d.mfn * 4096 + dst.offset, len);
    d.release();
    s.release();
    return X.GNTST_okay;
  }

  /**
   * Domain-0's GNTTABOP_copy (its backends'): `buf.length` bytes between byte `offset` of
   * the frame domain `dom` granted to Domain-0 in entry `ref` and a buffer of Domain-0's
   * own. Domain-0 is JavaScript with no guest frames, so its side is that buffer; the grant
   * side is checked and pinned for the copy exactly as `copy` does (acquire: type, domid,
   * read-only, a frame the granter owns). `toGrant` writes into the guest's frame. Every
   * byte a backend writes into guest memory comes through here. Returns a GNTST_* status.
   */
  dom0Copy(dom: number, ref: number, offset: number, buf: Uint8Array, toGrant: boolean): number {
    if (!Number.isInteger(offset) || offset < 0 || buf.length > 4096 || offset + buf.length > 4096) return X.GNTST_bad_copy_arg;
    const g = this.lookup(dom);
    if (g === undefined || g.mem === undefined || g.domid === 0) return X.GNTST_bad_domain;
    const act = this.acquire(g, ref, 0, toGrant);
    if (typeof act === 'number') return act;
    const at = act.mfn * 4096 + offset;
    if (toGrant) {
      this.bytes.set(buf, at);
      this.noteWrite?.(at, buf.length);
    } else buf.set(this.bytes.subarray(at, at + buf.length));
    this.releaseGrant(g, ref, toGrant);
    return X.GNTST_okay;
  }

  /**
   * Domain-0 maps a frame domain `dom` granted it (a backend's ring page). Domain-0 has no
   * P2M: the mapping is a pinned grant and a reference on the machine frame, which the
   * backend reads and writes at `mfn * 4096` until `dom0Unmap`. The checks are `map`'s.
   * When the granter dies first, its frame stays referenced (owned by DOMID_XEN) until
   * Domain-0 unmaps, so it never reaches another domain while a backend still uses it.
   */
  dom0Map(dom: number, ref: number, readonly: boolean): { status: number; handle: number; mfn: number } {
    const g = this.lookup(dom);
    if (g === undefined || g.mem === undefined || g.domid === 0) return { status: X.GNTST_bad_domain, handle: 0, mfn: -1 };
    if (this.entryAddr(g, ref) === undefined) return { status: X.GNTST_bad_gntref, handle: 0, mfn: -1 };
    const act = this.acquire(g, ref, 0, !readonly);
    if (typeof act === 'number') return { status: act, handle: 0, mfn: -1 };
    this.memory.get(act.mfn);
    const handle = this.nextHandle++;
    this.dom0Maps.set(handle, { g, ref, mfn: act.mfn, readonly });
    return { status: X.GNTST_okay, handle, mfn: act.mfn };
  }

  /** Undo `dom0Map`. The pin is dropped only if the granter is still the same live domain. */
  dom0Unmap(handle: number): number {
    const t = this.dom0Maps.get(handle);
    if (t === undefined) return X.GNTST_bad_handle;
    this.dom0Maps.delete(handle);
    if (this.lookup(t.g.domid) === t.g) this.releaseGrant(t.g, t.ref, !t.readonly);
    this.memory.put(t.mfn); // last: the frame may go back to the pool here
    return X.GNTST_okay;
  }

  /** One side of a copy: a pinned grant, or the caller's own frame; its machine frame and how to let go. */
  private acquireForCopy(caller: GnttabDomain, p: CopyPtr, isRef: boolean, write: boolean): { mfn: number; release: () => void } | number {
    const domid = p.domid === X.DOMID_SELF ? caller.domid : p.domid;
    const g = this.lookup(domid);
    if (!g?.mem) return X.GNTST_bad_domain;
    if (!isRef) {
      if (domid !== caller.domid) return X.GNTST_permission_denied; // only grants cross domains
      const mfn = this.ownFrame(g, (p.ref >>> 0) - g.ramBase / 4096); // a frame number: address >> 12
      return mfn < 0 ? X.GNTST_bad_page : { mfn, release: () => {} };
    }
    const act = this.acquire(g, p.ref, caller.domid, write);
    if (typeof act === 'number') return act;
    return { mfn: act.mfn, release: () => this.releaseGrant(g, p.ref, write) };
  }
}
