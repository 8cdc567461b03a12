/**
 * Issue 10 item 3: the xenstore ring given back. A pv guest watches a path of its own
 * (its token is bytes it chose) and then balloons out its xenstore ring page. Xen's
 * xenstored holds a mapping of the ring, so the page is never freed under it: either the
 * hypervisor refuses to take the page back, or xenstored stops using a page the domain
 * no longer has. Either way a victim that populates a page next keeps its bytes when the
 * watch fires and when the attacker kicks its xenstore channel.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Hypervisor } from '../../core/xen/common/hypervisor';
import { bootHypervisor, changedPages, Consoles, createHostile, sleep } from '../testSupport';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

describe('isolation: pv special pages (issue 10 item 3)', () => {
  it('a ballooned-out xenstore ring is never written by xenstored again: the victim keeps its page', async () => {
    hv = bootHypervisor(64);
    const con = new Consoles(hv);
    const a = await createHostile(hv, con, 'attacker');
    const victim = await createHostile(hv, con, 'victim', { memory: 8, maxmem: 12 });
    const info = await a.cmd('info');
    const store = info['store'] as number;
    expect(store).toBeGreaterThan(a.gfn(0));
    const token = 'PWNED'.repeat(40);
    expect((await a.cmd(`xs-watch memory/target ${token}`)).rsp).toBeGreaterThan(0);
    await a.cmd(`balloon-out ${store}`); // Xen: refused (or the ring is reached through the P2M)
    const g = victim.gfn(2100);
    expect((await victim.cmd(`populate ${g}`)).rc).toBe(1);
    await victim.cmd(`fill ${g} 1 0x5a`);
    // The watch fires (xenstored writes an event to the ring), and the attacker kicks its
    // xenstore channel (xenstored reads requests from the ring).
    const xs = hv.xsDom0();
    for (let i = 0; i < 4; i++) {
      await xs.write(`/local/domain/${a.domid}/memory/target`, String(8192 + i));
      await a.cmd('xs-kick');
      await sleep(50);
    }
    expect(changedPages(hv, victim.d, g, 1, 0x5a)).toEqual([]);
    expect(await victim.cmd(`check ${g} 1 0x5a`)).toMatchObject({ bad: 0 });
    // The host keeps serving xenstore and every frame is freed once at the end.
    expect(await xs.read(`/local/domain/${victim.domid}/name`)).toBe('victim');
    const h = hv;
    hv = undefined;
    expect(() => h.shutdownHost()).not.toThrow();
    expect(h.memory.nrFree).toBe(h.memory.nrFrames);
  }, 60_000);
});

describe('isolation: which pages a pv guest may not give back (issue 10 item 3)', () => {
  it('start_info, shared_info, the grant table and the xenstore and console rings stay: decrease_reservation refuses them', async () => {
    hv = bootHypervisor(64);
    const con = new Consoles(hv);
    const a = await createHostile(hv, con, 'attacker');
    const info = await a.cmd('info');
    const free = hv.memory.nrFree;
    // The console ring last: without it (before the fix) the shell cannot read another line.
    for (const page of ['start', 'shared', 'gnttab', 'store', 'console']) {
      const gfn = info[page] as number;
      expect(gfn, page).toBeGreaterThan(a.gfn(0));
      expect((await a.cmd(`balloon-out ${gfn}`)).rc, page).toBe(0);
    }
    expect(hv.memory.nrFree).toBe(free);
    expect(await a.cmd('read 0x80000 0')).toMatchObject({ result: 'ok' }); // the console still works
  }, 30_000);
});
