/**
 * The Node vCPU host's spare worker (vcpuHost.ts `spare`): a worker started ahead, its
 * bundle loaded and interpreter warmed up, takes the next vCPU's boot record by message.
 * Domains started on it run as on a fresh worker; without the option no spare is kept.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { Toolstack } from '../core/tools/toolstack';
import { guestImage } from './paths';
import { ensureBundleSync } from './testBundle';
import { nodeVcpuHost } from './vcpuHost';
import { sleep, waitForConsole } from '../testing/support';

let hv: Hypervisor | undefined;
afterEach(() => {
  hv?.shutdownHost();
  hv = undefined;
});

async function twoDomains(spare: boolean) {
  const host = nodeVcpuHost(ensureBundleSync(), { spare });
  const h = new Hypervisor({ memoryMiB: 64, pcpus: 2, host });
  hv = h;
  h.start();
  const ts = new Toolstack(h, { readFile: () => readFileSync(guestImage('teaching-os-pv')) });
  await sleep(spare ? 1500 : 0); // the spare loads and warms up meanwhile
  const a = ts.create('name = "a"\ntype = "pv"\nmemory = 16\nkernel = "tos"');
  await waitForConsole(a, /\$ $/, { ms: 60_000 });
  await sleep(spare ? 2500 : 0); // the next spare is made half a second after a start
  const b = ts.create('name = "b"\ntype = "pv"\nmemory = 16\nkernel = "tos"');
  await waitForConsole(b, /\$ $/, { ms: 60_000 });
  return host.counts;
}

describe('the Node vCPU host', () => {
  it('with a spare, each new vCPU starts on the worker prepared for it, and the domains boot', async () => {
    const counts = await twoDomains(true);
    expect(counts.fromSpare).toBe(2); // the first on the spare made at start, the second on the one made half a second after
    expect(counts.cold).toBe(0);
  }, 120_000);

  it('without, each vCPU gets a worker of its own when it starts', async () => {
    const counts = await twoDomains(false);
    expect(counts).toEqual({ fromSpare: 0, cold: 2 });
  }, 120_000);
});
