/** Grant table semantics (grant_table.h, docs/misc/grant-tables.txt). */
import { beforeEach, describe, expect, it } from 'vitest';
import { P2M_GRANT, P2M_MFN_MASK, P2M_READONLY } from '../../bus/bus';
import { GrantTables, type GnttabDomain } from './gnttab';
import { GuestMemory } from './guestMemory';
import { MachineMemory } from './machineMemory';
import { P2m } from './p2m';
import * as X from '../public/xen';

const BASE = 0x8000_0000;
let mem: MachineMemory;
let a: GnttabDomain, b: GnttabDomain, c: GnttabDomain, gt: GrantTables;

function domain(domid: number): GnttabDomain {
  const p2m = new P2m(16); // 8 populated frames + 8 empty ones to map grants into
  for (let g = 0; g < 8; g++) p2m.populate(mem, g, domid);
  return { domid, mem: new GuestMemory(mem.buffer, p2m, BASE, 16 * 4096), p2m, ramBase: BASE, grantFrames: [7], maptrack: new Map(), activeGrants: new Map() };
}

/** Domain `g` grants its frame `frame` to `to` in entry `ref`. */
function grant(g: GnttabDomain, ref: number, to: number, frame: number, flags = X.GTF_permit_access): void {
  const at = BASE + 7 * 4096 + ref * 8;
  g.mem!.setU32(at + 4, BASE / 4096 + frame); // frame numbers are address >> 12
  g.mem!.setU32(at, flags | (to << 16));
}

beforeEach(() => {
  mem = new MachineMemory(1 << 20);
  a = domain(1);
  b = domain(2);
  c = domain(3);
  const doms = new Map([
    [1, a],
    [2, b],
    [3, c],
  ]);
  gt = new GrantTables(mem, (id) => doms.get(id));
  gt.setDomainSource(() => doms.values());
});

describe('grant tables', () => {
  it('map shows the granter frame in the mapper P2M, sets GTF_reading/writing; unmap undoes both', () => {
    grant(a, 3, 2, 5);
    a.mem!.write(BASE + 5 * 4096, Uint8Array.of(42));
    const [st, handle] = gt.map(b, BASE + 9 * 4096, X.GNTMAP_host_map, 3, 1);
    expect(st).toBe(X.GNTST_okay);
    expect(b.mem!.u8At(BASE + 9 * 4096)).toBe(42);
    expect(b.p2m.get(9) & P2M_MFN_MASK).toBe(a.p2m.get(5));
    expect(b.p2m.get(9) & P2M_GRANT).not.toBe(0);
    expect(a.mem!.u32(BASE + 7 * 4096 + 24) & (X.GTF_reading | X.GTF_writing)).toBe(X.GTF_reading | X.GTF_writing);
    expect(mem.refs(a.p2m.get(5))).toBe(1);
    expect(gt.unmap(b, BASE + 9 * 4096, handle)).toBe(X.GNTST_okay);
    expect(b.p2m.get(9)).toBe(-1);
    expect(mem.refs(a.p2m.get(5))).toBe(0);
    expect(a.mem!.u32(BASE + 7 * 4096 + 24) & (X.GTF_reading | X.GTF_writing)).toBe(0);
    expect(gt.unmap(b, BASE + 9 * 4096, handle)).toBe(X.GNTST_bad_handle);
  });

  it('a read-only grant maps read-only and refuses a writable mapping', () => {
    grant(a, 1, 2, 4, X.GTF_permit_access | X.GTF_readonly);
    expect(gt.map(b, BASE + 9 * 4096, X.GNTMAP_host_map, 1, 1)[0]).toBe(X.GNTST_general_error);
    const [st] = gt.map(b, BASE + 9 * 4096, X.GNTMAP_host_map | X.GNTMAP_readonly, 1, 1);
    expect(st).toBe(X.GNTST_okay);
    expect(b.p2m.get(9) & P2M_READONLY).not.toBe(0);
    expect(() => b.mem!.setU8(BASE + 9 * 4096, 1)).toThrow(/read-only/);
  });

  it('wrong domid, bad ref, revoked grant, bad domain and a populated host_addr all fail', () => {
    grant(a, 2, 2, 4);
    expect(gt.map(c, BASE + 9 * 4096, X.GNTMAP_host_map, 2, 1)[0]).toBe(X.GNTST_general_error); // granted to 2, not 3
    expect(gt.map(b, BASE + 9 * 4096, X.GNTMAP_host_map, 4096, 1)[0]).toBe(X.GNTST_bad_gntref);
    expect(gt.map(b, BASE + 9 * 4096, X.GNTMAP_host_map, 2, 77)[0]).toBe(X.GNTST_bad_domain);
    expect(gt.map(b, BASE + 3 * 4096, X.GNTMAP_host_map, 2, 1)[0]).toBe(X.GNTST_bad_virt_addr); // already RAM
    grant(a, 2, 2, 4, X.GTF_invalid); // revoked
    expect(gt.map(b, BASE + 9 * 4096, X.GNTMAP_host_map, 2, 1)[0]).toBe(X.GNTST_general_error);
  });

  it('a grant of a frame the granter does not have is a bad page', () => {
    grant(a, 0, 2, 12); // gfn 12 is not populated
    expect(gt.map(b, BASE + 9 * 4096, X.GNTMAP_host_map, 0, 1)[0]).toBe(X.GNTST_bad_page);
  });

  it('copy moves bytes through a grant, and only through a grant', () => {
    grant(a, 5, 2, 4);
    b.mem!.write(BASE + 2 * 4096 + 10, Uint8Array.of(1, 2, 3));
    expect(gt.copy(b, { ref: BASE / 4096 + 2, domid: X.DOMID_SELF, offset: 10 }, { ref: 5, domid: 1, offset: 100 }, 3, X.GNTCOPY_dest_gref)).toBe(X.GNTST_okay);
    expect([...a.mem!.read(BASE + 4 * 4096 + 100, 3)]).toEqual([1, 2, 3]);
    expect(gt.copy(b, { ref: 2, domid: 1, offset: 0 }, { ref: 2, domid: X.DOMID_SELF, offset: 0 }, 3, 0)).toBe(X.GNTST_permission_denied);
    expect(gt.copy(b, { ref: BASE / 4096 + 2, domid: X.DOMID_SELF, offset: 4000 }, { ref: 5, domid: 1, offset: 0 }, 200, X.GNTCOPY_dest_gref)).toBe(
      X.GNTST_bad_copy_arg,
    );
  });

  it('teardown of the granter removes the mapping from the mapper', () => {
    grant(a, 3, 2, 5);
    gt.map(b, BASE + 9 * 4096, X.GNTMAP_host_map, 3, 1);
    gt.teardown(a);
    expect(b.p2m.get(9)).toBe(-1);
    expect(b.maptrack.size).toBe(0);
  });

  it('a frame mapped from another domain cannot be granted on, nor copied through (GNTST_bad_page)', () => {
    grant(a, 3, 2, 5);
    expect(gt.map(b, BASE + 9 * 4096, X.GNTMAP_host_map, 3, 1)[0]).toBe(X.GNTST_okay);
    grant(b, 4, 3, 9); // b grants a's frame on to c
    expect(gt.map(c, BASE + 10 * 4096, X.GNTMAP_host_map, 4, 2)[0]).toBe(X.GNTST_bad_page);
    expect(c.p2m.get(10)).toBe(-1);
    expect(gt.copy(c, { ref: 4, domid: 2, offset: 0 }, { ref: BASE / 4096 + 1, domid: X.DOMID_SELF, offset: 0 }, 8, X.GNTCOPY_source_gref)).toBe(
      X.GNTST_bad_page,
    );
    // b copying out of its own mapping of a's page: not its frame either
    expect(gt.copy(b, { ref: BASE / 4096 + 9, domid: X.DOMID_SELF, offset: 0 }, { ref: BASE / 4096 + 1, domid: X.DOMID_SELF, offset: 0 }, 8, 0)).toBe(
      X.GNTST_bad_page,
    );
  });

  it('a frame its owner frees while another domain maps it stays allocated until the unmap', () => {
    grant(a, 3, 2, 5);
    const mfn = a.p2m.get(5);
    const [, handle] = gt.map(b, BASE + 9 * 4096, X.GNTMAP_host_map, 3, 1);
    const free0 = mem.nrFree;
    a.p2m.clear(5);
    mem.free(mfn);
    expect(mem.nrFree).toBe(free0); // still referenced
    expect(mem.owner[mfn]).not.toBe(1); // nobody's domid any more
    expect(() => mem.free(mfn)).toThrow(/double free/);
    expect(gt.unmap(b, BASE + 9 * 4096, handle)).toBe(X.GNTST_okay);
    expect(mem.nrFree).toBe(free0 + 1);
  });

  it('map checks and pins the entry in one compare-and-swap: an entry ended between the check and the pin is not mapped', () => {
    grant(a, 3, 2, 5);
    const at = BASE + 7 * 4096 + 24;
    // The granter ends the grant right after the hypervisor's first read of the entry.
    const real = a.mem!.u32.bind(a.mem!);
    let reads = 0;
    a.mem!.u32 = (gpa: number): number => {
      const v = real(gpa);
      if (gpa === at && reads++ === 0) a.mem!.setU32(at, 0);
      return v;
    };
    expect(gt.map(b, BASE + 9 * 4096, X.GNTMAP_host_map, 3, 1)[0]).toBe(X.GNTST_general_error);
    expect(b.p2m.get(9)).toBe(-1);
    expect(real(at)).toBe(0);
  });

  it('map rereads an entry turned read-only between the check and the pin, and refuses to map it writable', () => {
    grant(a, 3, 2, 5);
    const at = BASE + 7 * 4096 + 24;
    const real = a.mem!.u32.bind(a.mem!);
    let reads = 0;
    a.mem!.u32 = (gpa: number): number => {
      const v = real(gpa);
      if (gpa === at && reads++ === 0) a.mem!.setU32(at, X.GTF_permit_access | X.GTF_readonly | (2 << 16));
      return v;
    };
    expect(gt.map(b, BASE + 9 * 4096, X.GNTMAP_host_map, 3, 1)[0]).toBe(X.GNTST_general_error);
    expect(b.p2m.get(9)).toBe(-1);
  });

  it('a pinned entry cannot be ended by the granter (its compare-and-swap sees GTF_reading); copy pins only while it copies', () => {
    grant(a, 3, 2, 5);
    const at = BASE + 7 * 4096 + 24;
    const entry = X.GTF_permit_access | (2 << 16);
    const [, handle] = gt.map(b, BASE + 9 * 4096, X.GNTMAP_host_map | X.GNTMAP_readonly, 3, 1);
    expect(a.mem!.casU32(at, entry, 0)).not.toBe(entry); // gnttab_end_foreign_access fails: in use
    gt.unmap(b, BASE + 9 * 4096, handle);
    expect(gt.copy(b, { ref: 3, domid: 1, offset: 0 }, { ref: BASE / 4096 + 1, domid: X.DOMID_SELF, offset: 0 }, 8, X.GNTCOPY_source_gref)).toBe(X.GNTST_okay);
    expect(a.activeGrants.size).toBe(0);
    expect(a.mem!.casU32(at, entry, 0)).toBe(entry); // not in use any more: ended
    expect(gt.copy(b, { ref: 3, domid: 1, offset: 0 }, { ref: BASE / 4096 + 1, domid: X.DOMID_SELF, offset: 0 }, 8, X.GNTCOPY_source_gref)).toBe(
      X.GNTST_general_error,
    );
  });

  it('two mappings of one entry: GTF_writing goes with the last writer, GTF_reading with the last pin', () => {
    grant(a, 3, 2, 5);
    const at = BASE + 7 * 4096 + 24;
    const [, h1] = gt.map(b, BASE + 9 * 4096, X.GNTMAP_host_map, 3, 1);
    const [, h2] = gt.map(b, BASE + 10 * 4096, X.GNTMAP_host_map | X.GNTMAP_readonly, 3, 1);
    gt.unmap(b, BASE + 9 * 4096, h1);
    expect(a.mem!.u32(at) & (X.GTF_reading | X.GTF_writing)).toBe(X.GTF_reading);
    gt.unmap(b, BASE + 10 * 4096, h2);
    expect(a.mem!.u32(at) & (X.GTF_reading | X.GTF_writing)).toBe(0);
  });
});

describe("Domain-0's grant entry points (its backends)", () => {
  it('dom0Copy moves bytes only through a grant to Domain-0, with the same checks as copy', () => {
    grant(a, 4, 0, 5);
    grant(a, 5, 0, 6, X.GTF_permit_access | X.GTF_readonly);
    grant(a, 6, 2, 6); // to domain 2, not Domain-0
    a.mem!.write(BASE + 5 * 4096 + 100, Uint8Array.of(7, 8, 9));
    const buf = new Uint8Array(3);
    expect(gt.dom0Copy(1, 4, 100, buf, false)).toBe(X.GNTST_okay);
    expect([...buf]).toEqual([7, 8, 9]);
    expect(gt.dom0Copy(1, 4, 200, Uint8Array.of(1, 2), true)).toBe(X.GNTST_okay);
    expect(a.mem!.u8At(BASE + 5 * 4096 + 201)).toBe(2);
    expect(gt.dom0Copy(1, 5, 0, buf, false)).toBe(X.GNTST_okay); // reading a read-only grant
    expect(gt.dom0Copy(1, 5, 0, buf, true)).toBe(X.GNTST_general_error); // writing it
    expect(gt.dom0Copy(1, 6, 0, buf, false)).toBe(X.GNTST_general_error);
    expect(gt.dom0Copy(1, 99999, 0, buf, false)).toBe(X.GNTST_bad_gntref);
    expect(gt.dom0Copy(77, 4, 0, buf, false)).toBe(X.GNTST_bad_domain);
    expect(gt.dom0Copy(1, 4, 4095, buf, false)).toBe(X.GNTST_bad_copy_arg);
    expect(a.activeGrants.size).toBe(0); // every pin dropped
    // A frame the granter maps from someone else is not its own to give.
    grant(b, 1, 1, 3);
    expect(gt.map(a, BASE + 9 * 4096, X.GNTMAP_host_map, 1, 2)[0]).toBe(X.GNTST_okay);
    grant(a, 7, 0, 9);
    expect(gt.dom0Copy(1, 7, 0, buf, true)).toBe(X.GNTST_bad_page);
  });

  it('dom0Map pins and references the frame; the frame outlives its granter until dom0Unmap', () => {
    grant(a, 4, 0, 5);
    const m = gt.dom0Map(1, 4, false);
    expect(m.status).toBe(X.GNTST_okay);
    expect(m.mfn).toBe(a.p2m.get(5) & P2M_MFN_MASK);
    expect(mem.refs(m.mfn)).toBe(1);
    expect(a.mem!.u32(BASE + 7 * 4096 + 32) & (X.GTF_reading | X.GTF_writing)).toBe(X.GTF_reading | X.GTF_writing);
    expect(gt.dom0Unmap(m.handle)).toBe(X.GNTST_okay);
    expect(gt.dom0Unmap(m.handle)).toBe(X.GNTST_bad_handle);
    expect(mem.refs(m.mfn)).toBe(0);
    expect(a.mem!.u32(BASE + 7 * 4096 + 32) & (X.GTF_reading | X.GTF_writing)).toBe(0);
    // The granter dies with the frame mapped: it belongs to DOMID_XEN until Domain-0 lets go.
    const m2 = gt.dom0Map(1, 4, false);
    gt.teardown(a);
    for (let g = 0; g < 8; g++) mem.free(a.p2m.get(g) & P2M_MFN_MASK);
    expect(mem.owner[m2.mfn]).toBe(0x7ff2);
    const free = mem.nrFree;
    expect(gt.dom0Unmap(m2.handle)).toBe(X.GNTST_okay);
    expect(mem.nrFree).toBe(free + 1);
  });
});
