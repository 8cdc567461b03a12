/**
 * Issue 10 item 8: a shut-down or crashed domain keeps running. A 2-vCPU pv guest starts
 * vCPU 1 spinning (VCPUOP_up), then vCPU 0 shuts the domain down (or the hypervisor marks
 * it crashed) with on_poweroff / on_crash = "preserve". Xen pauses every vCPU of a domain
 * that shuts down or crashes: no vCPU retires another instruction, and the counter the
 * spinning vCPU increments stays still.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Hypervisor } from '../../core/xen/common/hypervisor';
import { bootHypervisor, Consoles, createHostile, type HostileGuest, peekU32, sleep } from '../testSupport';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

async function spinning(h: Hypervisor): Promise<{ g: HostileGuest; counter: () => number }> {
  const con = new Consoles(h);
  const g = await createHostile(h, con, 'twovcpu', { vcpus: 2 });
  const addr = (await g.cmd('info'))['counter'] as number;
  const counter = (): number => peekU32(h, g.d, addr);
  expect((await g.cmd('vcpu-up 1')).rc).toBe(0);
  const c0 = counter();
  const until = Date.now() + 10_000;
  while (counter() === c0 && Date.now() < until) await sleep(10);
  expect(counter()).not.toBe(c0); // vCPU 1 spins
  return { g, counter };
}

/** After the domain is shut down: no vCPU retires instructions any more. */
async function expectStopped(g: HostileGuest, counter: () => number): Promise<void> {
  const until = Date.now() + 10_000;
  while (g.d.shutdownReason === null && Date.now() < until) await sleep(10);
  expect(g.d.shutdownReason).not.toBeNull();
  // A slice in flight ends: wait (at most 5 s) until the counter stands still for 200 ms.
  for (let last = counter(), end = Date.now() + 5000; Date.now() < end;) {
    await sleep(200);
    const now = counter();
    if (now === last) break;
    last = now;
  }
  const instret = g.d.vcpus.map((v) => v.instret);
  const c = counter();
  await sleep(700);
  expect(counter()).toBe(c);
  expect(g.d.vcpus.map((v) => v.instret)).toEqual(instret);
}

describe('isolation: a domain that shuts down stops (issue 10 item 8)', () => {
  it('SCHEDOP_shutdown(poweroff) from vCPU 0 with on_poweroff = "preserve": vCPU 1 stops too', async () => {
    hv = bootHypervisor(64);
    const { g, counter } = await spinning(hv);
    await g.cmd('shutdown 0');
    await expectStopped(g, counter);
    expect(g.d.shutdownReason).toBe('poweroff');
  }, 30_000);

  it('SCHEDOP_shutdown(crash) from vCPU 0 with on_crash = "preserve": every vCPU stops', async () => {
    hv = bootHypervisor(64);
    const { g, counter } = await spinning(hv);
    await g.cmd('shutdown 3');
    await expectStopped(g, counter);
    expect(g.d.shutdownReason).toBe('crash');
  }, 30_000);

  it('a domain the hypervisor marks crashed stops on every vCPU', async () => {
    hv = bootHypervisor(64);
    const { g, counter } = await spinning(hv);
    hv.guestShutdown(g.d, 'crash', 'the test crashes it as the hypervisor does on its own errors');
    await expectStopped(g, counter);
    expect(g.d.shutdownReason).toBe('crash');
  }, 30_000);
});
