/**
 * Issue 10 item 1: a grant of a frame the granter does not own. B maps a page A granted it
 * and grants that mapping on to C. Xen refuses: a grant (and a copy) may only name a frame
 * the granting domain owns, so C's map and copy fail with GNTST_bad_page. Were C's
 * mapping allowed, it would outlive A: A's frame is freed at A's destruction, a new domain
 * gets it, and C writes into that domain's memory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Hypervisor } from '../../core/xen/common/hypervisor';
import { GNTST_bad_page, GNTST_okay } from '../../core/xen/public/xen';
import { bootHypervisor, changedPages, Consoles, createHostile } from '../testSupport';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

describe('isolation: grants of foreign frames (issue 10 item 1)', () => {
  it("a mapped grant cannot be granted on: C gets GNTST_bad_page, and nobody reaches A's frame after A is gone", async () => {
    hv = bootHypervisor(64);
    const con = new Consoles(hv);
    const a = await createHostile(hv, con, 'granter');
    const b = await createHostile(hv, con, 'middle');
    const c = await createHostile(hv, con, 'thief');
    const page = a.gfn(0x100),
      winB = b.gfn(2048),
      winC = c.gfn(2048); // 2048: the first grant-window frame (8 MiB)
    expect((await a.cmd(`fill ${page} 1 0x11`)).result).toBe('ok');
    expect((await a.cmd(`grant 8 ${b.domid} ${page}`)).rc).toBe(0);
    expect(await b.cmd(`map ${a.domid} 8 ${winB}`)).toMatchObject({ rc: 0, status: GNTST_okay });
    expect((await b.cmd(`read ${winB} 0`)).val).toBe(0x11111111);
    // B grants the page it maps (not its own) to C, read/write, as ref 8 and ref 9.
    await b.cmd(`grant 8 ${c.domid} ${winB}`);
    await b.cmd(`grant 9 ${c.domid} ${winB}`);
    const map = await c.cmd(`map ${b.domid} 8 ${winC}`);
    const copy = await c.cmd(`copy 1 9 ${b.domid} 0 ${c.gfn(0x100)} 0x7ff0 0 16`); // GNTCOPY_source_gref
    // Whatever the hypervisor answered, try the attack through: A goes, a victim comes.
    hv.destroyDomain(a.domid);
    const victim = await createHostile(hv, con, 'victim');
    expect((await victim.cmd(`fill ${victim.gfn(0x40)} 0x780 0x5a`)).result).toBe('ok');
    const write = await c.cmd(`fill ${winC} 1 0xee`); // faults if C has no mapping
    expect(changedPages(hv, victim.d, victim.gfn(0x40), 0x780, 0x5a)).toEqual([]);
    expect(await victim.cmd(`check ${victim.gfn(0x40)} 0x780 0x5a`)).toMatchObject({ bad: 0 });
    expect(map.status).toBe(GNTST_bad_page);
    expect(copy.status).toBe(GNTST_bad_page);
    expect(write.result).toBe('fault');
    hv.shutdownHost();
    expect(hv.memory.nrFree).toBe(hv.memory.nrFrames);
    hv = undefined;
  }, 60_000);
});
