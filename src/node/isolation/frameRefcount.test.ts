/**
 * Issue 10 item 2: a frame freed while it is still mapped. A grants its page Y to its
 * accomplice B; B maps it and grants the mapping back; A balloons out a page Z, maps B's
 * grant at Z (its own frame again, now under a second name), B unmaps, and A gives Z
 * back with decrease_reservation. Xen keeps a reference count on every page: a page that
 * is mapped anywhere is never freed, so the victim that populates a page next never gets
 * Y's frame, A's writes through Y stay in A's memory, and tearing everything down frees
 * every frame exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Hypervisor } from '../../core/xen/common/hypervisor';
import { bootHypervisor, changedPages, Consoles, createHostile, mfnOf } from '../testSupport';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

describe('isolation: frames are reference-counted (issue 10 item 2)', () => {
  it('a frame mapped anywhere is never freed: no victim gets it, no double free at teardown', async () => {
    hv = bootHypervisor(64);
    const con = new Consoles(hv);
    const a = await createHostile(hv, con, 'attacker');
    const b = await createHostile(hv, con, 'accomplice');
    const victim = await createHostile(hv, con, 'victim', { memory: 8, maxmem: 12 });
    const y = a.gfn(0x100),
      z = a.gfn(0x101),
      winB = b.gfn(2048);
    const yMfn = mfnOf(a.d, y);
    await a.cmd(`fill ${y} 1 0x11`);
    await a.cmd(`grant 8 ${b.domid} ${y}`);
    const mapB = await b.cmd(`map ${a.domid} 8 ${winB}`);
    expect(mapB.status).toBe(0);
    await b.cmd(`grant 8 ${a.domid} ${winB}`);
    expect((await a.cmd(`balloon-out ${z}`)).rc).toBe(1);
    await a.cmd(`map ${b.domid} 8 ${z}`); // Y's frame under a second name, if allowed
    await b.cmd('ungrant 8');
    expect((await b.cmd(`unmap ${winB} ${mapB['handle']}`)).status).toBe(0);
    await a.cmd(`balloon-out ${z}`);
    // The victim takes a page now: whatever frame it gets must be its alone.
    expect((await victim.cmd(`populate ${victim.gfn(2100)}`)).rc).toBe(1);
    await victim.cmd(`fill ${victim.gfn(2100)} 1 0x5a`);
    await a.cmd(`fill ${y} 1 0xee`);
    expect(changedPages(hv, victim.d, victim.gfn(2100), 1, 0x5a)).toEqual([]);
    expect(await victim.cmd(`check ${victim.gfn(2100)} 1 0x5a`)).toMatchObject({ bad: 0 });
    expect(mfnOf(victim.d, victim.gfn(2100))).not.toBe(yMfn);
    // Teardown frees every frame once: the host survives and the pool is whole again.
    const h = hv;
    hv = undefined;
    expect(() => h.shutdownHost()).not.toThrow();
    expect(h.memory.nrFree).toBe(h.memory.nrFrames);
  }, 60_000);
});
