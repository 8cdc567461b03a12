/** Grant table semantics (grant_table.h, docs/misc/grant-tables.txt). */
import { beforeEach, describe, expect, it } from 'vitest';
import { P2M_READONLY } from '../../bus/bus';
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
  return { domid, mem: new GuestMemory(mem.buffer, p2m, BASE, 16 * 4096), p2m, ramBase: BASE, grantFrames: [7], maptrack: new Map() };
}

/** Domain `g` grants its frame `frame` to `to` in entry `ref`. */
function grant(g: GnttabDomain, ref: number, to: number, frame: number, flags = X.GTF_permit_access): void {
  const at = BASE + 7 * 4096 + ref * 8;
  g.mem!.setU32(at + 4, BASE / 4096 + frame); // frame numbers are address >> 12
  g.mem!.setU32(at, flags | (to << 16));
}

beforeEach(() => {
  mem = new MachineMemory(1 << 20);
  a = domain(1); b = domain(2); c = domain(3);
  const doms = new Map([[1, a], [2, b], [3, c]]);
  gt = new GrantTables((id) => doms.get(id));
  gt.setDomainSource(() => doms.values());
});

describe('grant tables', () => {
  it('map shows the granter frame in the mapper P2M, sets GTF_reading/writing; unmap undoes both', () => {
    grant(a, 3, 2, 5);
    a.mem!.write(BASE + 5 * 4096, Uint8Array.of(42));
    const [st, handle] = gt.map(b, BASE + 9 * 4096, X.GNTMAP_host_map, 3, 1);
    expect(st).toBe(X.GNTST_okay);
    expect(b.mem!.u8At(BASE + 9 * 4096)).toBe(42);
    expect(b.p2m.get(9)).toBe(a.p2m.get(5));
    expect(a.mem!.u32(BASE + 7 * 4096 + 24) & (X.GTF_reading | X.GTF_writing)).toBe(X.GTF_reading | X.GTF_writing);
    expect(gt.isMapped(1, a.p2m.get(5))).toBe(true);
    expect(gt.unmap(b, BASE + 9 * 4096, handle)).toBe(X.GNTST_okay);
    expect(b.p2m.get(9)).toBe(-1);
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
    expect(gt.copy(b, { ref: BASE / 4096 + 2, domid: X.DOMID_SELF, offset: 4000 }, { ref: 5, domid: 1, offset: 0 }, 200, X.GNTCOPY_dest_gref)).toBe(X.GNTST_bad_copy_arg);
  });

  it('teardown of the granter removes the mapping from the mapper', () => {
    grant(a, 3, 2, 5);
    gt.map(b, BASE + 9 * 4096, X.GNTMAP_host_map, 3, 1);
    gt.teardown(a);
    expect(b.p2m.get(9)).toBe(-1);
    expect(b.maptrack.size).toBe(0);
  });
});
