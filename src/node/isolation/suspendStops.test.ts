/**
 * SCHEDOP_shutdown(SHUTDOWN_suspend) in the hypervisor (Xen's domain_shutdown with
 * SHUTDOWN_suspend; xc_domain_resume): a 2-vCPU hostile pv guest with vCPU 1 spinning calls
 * it from vCPU 0. Every vCPU stops, nothing is freed, `xl list` shows it shut down (the `s`
 * flag), `xl unpause` does not start it; resumed in place it runs on. From an hvm domain the
 * call is refused (it has no pv hypercall interface) and nothing changes.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Hypervisor } from '../../core/xen/common/hypervisor';
import { resumeSuspended } from '../../core/xen/common/domainSave';
import { hypercall } from '../../core/xen/common/hypercalls';
import * as X from '../../core/xen/public/xen';
import { Toolstack } from '../../core/tools/toolstack';
import { runXl } from '../../core/tools/xl';
import { SUSPEND_ACK_TIMEOUT_MS } from '../../core/tools/migration/guestSuspend';
import { guestImage } from '../paths';
import { bootHypervisor, Consoles, createHostile, peekU32, sleep } from '../testSupport';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

/** The counter stands still for 700 ms (after any slice in flight has ended). */
async function standsStill(counter: () => number): Promise<boolean> {
  for (let last = counter(), end = Date.now() + 5000; Date.now() < end;) {
    await sleep(200);
    const now = counter();
    if (now === last) break;
    last = now;
  }
  const c = counter();
  await sleep(700);
  return counter() === c;
}

async function moves(counter: () => number): Promise<boolean> {
  const c0 = counter();
  for (const end = Date.now() + 10_000; Date.now() < end;) {
    if (counter() !== c0) return true;
    await sleep(10);
  }
  return false;
}

describe('SCHEDOP_shutdown(SHUTDOWN_suspend)', () => {
  it('from a pv guest: every vCPU stops, xl list shows "s", unpause does not start it; resumed in place it runs on', async () => {
    const h = bootHypervisor(64);
    hv = h;
    const ts = new Toolstack(h, { readFile: (p) => readFileSync(guestImage(p)) });
    const con = new Consoles(h);
    const g = await createHostile(h, con, 'sleeper', { vcpus: 2 });
    const addr = (await g.cmd('info'))['counter'] as number;
    const counter = (): number => peekU32(h, g.d, addr);
    expect((await g.cmd('vcpu-up 1')).rc).toBe(0);
    expect(await moves(counter)).toBe(true);
    const free = h.memory.nrFree;

    await g.cmd(`shutdown ${X.SHUTDOWN_suspend}`);
    for (const end = Date.now() + 10_000; !g.d.suspended && Date.now() < end;) await sleep(10);
    expect(g.d.suspended).toBe(true);
    expect(g.d.suspendedBy).toBe(0);
    expect(g.d.shutdownReason).toBeNull(); // not a poweroff: on_poweroff is not applied
    expect(await standsStill(counter)).toBe(true);
    expect(h.log.some((l) => l.includes('suspended (SCHEDOP_shutdown(SHUTDOWN_suspend) from vCPU 0)'))).toBe(true);
    const out: string[] = [];
    runXl(ts, ['list'], { out: (t) => out.push(t), readFile: () => '' });
    expect(out.join('\n')).toMatch(/^sleeper +\d+ +\d+ +2 +---s--/m);
    expect(h.memory.nrFree).toBe(free); // nothing freed
    h.unpauseDomain(g.d.domid);
    expect(await standsStill(counter)).toBe(true); // xl unpause does not end SHUTDOWN_suspend

    expect(resumeSuspended(h, g.d, 1)).toBe(true);
    expect(g.d.suspended).toBe(false);
    expect(g.d.state).toBe('paused'); // resumed but left paused: the toolstack unpauses it
    h.unpauseDomain(g.d.domid);
    expect(await moves(counter)).toBe(true);
    expect(h.log.some((l) => l.includes('resumed in place (the suspend returns 1)'))).toBe(true);
  }, 60_000);

  it('xl save of a hostile pv guest that watches control/shutdown and never answers: one line after the bound, then paused and saved; one that suspended on its own is saved at once', async () => {
    const h = bootHypervisor(64);
    hv = h;
    const ts = new Toolstack(h, { readFile: (p) => readFileSync(guestImage(p)) });
    const con = new Consoles(h);
    const files = new Map<string, Uint8Array>();
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), readFile: () => '', writeBytes: (p: string, b: Uint8Array) => files.set(p, b) };
    const save = async (name: string): Promise<number> => {
      const r = runXl(ts, ['save', name, `${name}.save`], io);
      return r.pending ? await r.pending : r.status;
    };

    const mute = await createHostile(h, con, 'mute');
    expect((await mute.cmd(`xs-watch /local/domain/${mute.d.domid}/control/shutdown tok`)).result).toBe('ok');
    const t0 = performance.now();
    expect(await save('mute')).toBe(0);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(SUSPEND_ACK_TIMEOUT_MS);
    expect(out.filter((l) => l.includes('suspend'))).toEqual([
      `domain ${mute.d.domid} (mute): guest did not acknowledge the suspend request within ${SUSPEND_ACK_TIMEOUT_MS} ms: pausing it (non-cooperative)`,
    ]);
    expect(out.at(-1)).toMatch(/^Saved domain \d+ \(mute\) to mute.save/);
    expect(files.get('mute.save')!.length).toBeGreaterThan(0);

    out.length = 0;
    const early = await createHostile(h, con, 'early');
    const addr = (await early.cmd('info'))['counter'] as number;
    await early.cmd(`shutdown ${X.SHUTDOWN_suspend}`);
    for (const end = Date.now() + 10_000; !early.d.suspended && Date.now() < end;) await sleep(10);
    expect(early.d.suspended).toBe(true);
    const t1 = performance.now();
    expect(await save('early')).toBe(0);
    expect(performance.now() - t1).toBeLessThan(SUSPEND_ACK_TIMEOUT_MS);
    expect(out.filter((l) => l.includes('non-cooperative'))).toEqual([]);
    expect(out.at(-1)).toMatch(/^Saved domain \d+ \(early\) to early.save/);
    // Restored, its call returns (0) and it runs on: the loop after the hypercall counts.
    const r = runXl(ts, ['restore', 'early.save'], { ...io, readBytes: (p: string) => files.get(p)! });
    expect(r.pending ? await r.pending : r.status).toBe(0);
    const back = [...h.domains.values()].find((d) => d.name === 'early')!;
    expect(back.suspended).toBe(false);
    expect(await moves(() => peekU32(h, back, addr))).toBe(true);
  }, 60_000);

  it('from an hvm domain: refused, nothing changes', async () => {
    const h = bootHypervisor(64);
    hv = h;
    const ts = new Toolstack(h, { readFile: (p) => readFileSync(guestImage(p)) });
    const d = ts.create(`name = "hvm"\ntype = "hvm"\nmemory = 8\nkernel = "teaching-os-hvm"`);
    const r = hypercall(h, d.vcpus[0]!, X.HYPERVISOR_sched_op, [X.SCHEDOP_shutdown, 0x8000_0000]);
    expect(r.ret).toBeLessThan(0);
    expect(d.suspended).toBe(false);
    expect(d.shutdownReason).toBeNull();
    expect(d.paused).toBe(false);
  }, 30_000);
});
