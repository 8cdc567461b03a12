/**
 * pv domains end to end: two teaching-OS domains under the hypervisor with real vCPU
 * workers ping each other over an event channel, share a page through a grant, and one
 * balloons down on `xl mem-set`, with the memory accounted on both sides.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Domain } from '../core/xen/common/domain';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { Toolstack } from '../core/tools/toolstack';
import { runXl } from '../core/tools/xl';
import { ensureBundleSync } from './testBundle';
import { guestImage } from './paths';
import { nodeVcpuHost } from './vcpuHost';
import { consoleText as out, typeInto as type, waitForConsole as waitFor } from '../testing/support';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

function setup(): { hv: Hypervisor; ts: Toolstack; a: Domain; b: Domain } {
  hv = new Hypervisor({ memoryMiB: 128, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
  hv.start();
  const ts = new Toolstack(hv, { readFile: () => readFileSync(guestImage('teaching-os-pv')) });
  const cfg = (name: string): string => `name = "${name}"\ntype = "pv"\nmemory = 16\nmaxmem = 32\nkernel = "tos"\non_poweroff = "preserve"`;
  return { hv, ts, a: ts.create(cfg('alpha')), b: ts.create(cfg('beta')) };
}

describe('pv domains running the teaching OS', () => {
  it('boot on the pv ABI: console ring, xenstore, timer VIRQ; info reads the domain from xenstore', async () => {
    const { hv: h, a } = setup();
    await waitFor(a, 'alpha$ ');
    expect(out(a)).toContain('console ring (port 1), xenstore ring (port 2), timer VIRQ (port 3)');
    type(h, a, 'info\n');
    await waitFor(a, /domain: \d+ \(alpha\)/);
    expect(out(a)).toContain('memory: 16384 KiB');
  });

  it('ping-pong over an interdomain event channel, the port exchanged through xenstore', async () => {
    const { hv: h, a, b } = setup();
    await waitFor(a, 'alpha$ ');
    await waitFor(b, 'beta$ ');
    type(h, b, 'pong\n');
    await waitFor(b, 'waiting for a ping');
    type(h, a, `evtping ${b.domid}\n`);
    await waitFor(a, /ping: 1000 round trips with domain \d+/);
    await waitFor(b, /answered \d+ pings from domain \d+/);
    expect(a.evtchnSends).toBeGreaterThanOrEqual(1000);
    // The sends took the direct path (evtchnDirect.ts): the vCPU marked the peer's
    // shared_info itself, without a request to the hypervisor thread for each; they still
    // count as hypercalls.
    expect(a.directSends()).toBeGreaterThanOrEqual(1000);
    expect(a.exits.get('hypercall:event_channel_op') ?? 0).toBeGreaterThanOrEqual(1000);
  });

  it('shares a page through a read-only grant; the peer maps it and reads it', async () => {
    const { hv: h, a, b } = setup();
    await waitFor(a, 'alpha$ ');
    await waitFor(b, 'beta$ ');
    type(h, a, `share ${b.domid}\n`);
    await waitFor(a, 'granted read-only');
    type(h, b, `peek ${a.domid}\n`);
    await waitFor(b, /peek: ref \d+ of domain \d+ mapped read-only at 0x82/); // in the grant window above maxmem
    await waitFor(b, `"from domain ${a.domid} (alpha): hello through a grant"`);
    expect(b.maptrack.size).toBe(0); // peek unmaps when it is done
  });

  it('balloons down on xl mem-set: the domain gives frames back and the free pool grows by as many', async () => {
    const { hv: h, ts, b } = setup();
    await waitFor(b, 'beta$ ');
    const free0 = h.memory.nrFree;
    expect(b.totPages).toBe(4096);
    runXl(ts, ['mem-set', String(b.domid), '8'], { out: () => {}, readFile: () => '' });
    await waitFor(b, /balloon: target 8192 KiB: gave 2048 pages back/);
    expect(b.totPages).toBe(2048);
    expect(h.memory.nrFree).toBe(free0 + 2048);
    expect(h.memory.countOwned(b.domid)).toBe(2048);
    runXl(ts, ['mem-set', String(b.domid), '12'], { out: () => {}, readFile: () => '' });
    await waitFor(b, /balloon: target 12288 KiB/);
    await new Promise((r) => setTimeout(r, 300));
    expect(b.totPages).toBe(3072);
    expect(h.memory.nrFree).toBe(free0 + 1024);
  });

  it('xl shutdown powers a pv guest off through control/shutdown', async () => {
    const { hv: h, ts, a } = setup();
    await waitFor(a, 'alpha$ ');
    runXl(ts, ['shutdown', String(a.domid)], { out: () => {}, readFile: () => '' });
    const end = Date.now() + 20_000;
    while (a.shutdownReason === null && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(a.shutdownReason).toBe('poweroff');
    expect(out(a)).toContain('control: the toolstack asked for poweroff');
    void h;
  });
});
