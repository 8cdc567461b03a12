/**
 * SMP pv domains: the teaching OS's `smp` command brings the other vCPUs up with
 * VCPUOP_up, every vCPU counts on shared counters at once (amoadd.w and lr.w/sc.w) in
 * its own worker, and the secondaries take themselves down with VCPUOP_down.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Domain } from '../core/xen/common/domain';
import { Runstate } from '../core/xen/common/domain';
import { Hypervisor } from '../core/xen/common/hypervisor';
import type { SliceRecord } from '../core/xen/common/sched/sliceTrace';
import { Toolstack } from '../core/tools/toolstack';
import { ensureBundleSync } from './testBundle';
import { guestImage } from './paths';
import { nodeVcpuHost } from './vcpuHost';
import { consoleText as out, typeInto as type, waitForConsole } from '../testing/support';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

/** Wait for `re` in what the domain printed from offset `from` on. */
const waitFor = (d: Domain, re: RegExp, from = 0): Promise<RegExpMatchArray> => waitForConsole(d, re, { from, ms: 60_000 });

describe('SMP pv domains', () => {
  it('three vCPUs count at once without losing updates, and go down and up again', async () => {
    hv = new Hypervisor({ memoryMiB: 64, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
    hv.start();
    const ts = new Toolstack(hv, { readFile: () => readFileSync(guestImage('teaching-os-pv')) });
    const d = ts.create('name = "trio"\ntype = "pv"\nmemory = 16\nvcpus = 3\nkernel = "tos"');
    await waitFor(d, /trio\$ /);
    expect(d.vcpus.map((v) => v.runstate)).toEqual([expect.anything(), Runstate.OFFLINE, Runstate.OFFLINE]);
    type(hv, d, 'info\n');
    await waitFor(d, /vCPUs: 3/);

    // The trace is a ring (yields make many short slices): collect it as it goes.
    const seen = new Map<string, SliceRecord>();
    const sampler = setInterval(() => {
      for (const r of hv!.sliceTrace.since(0)) if (r.domid === d.domid) seen.set(`${r.vcpuId}:${r.startNs}`, r);
    }, 5);
    const n = 200_000;
    for (let round = 1; round <= 2; round++) {
      const before = out(d).length;
      type(hv, d, `smp ${n}\n`);
      const line = await waitFor(d, /smp: (\d+) vCPUs counted at once: amoadd.w (\d+), lr.w\/sc.w (\d+)[^\n]*: (ok|LOST UPDATES)/, before);
      expect(Number(line[1]), `round ${round}`).toBe(3);
      expect(Number(line[2])).toBe(3 * n);
      expect(Number(line[3])).toBe(3 * n);
      expect(line[4]).toBe('ok');
      await waitFor(d, /trio\$ $/, before);
    }
    clearInterval(sampler);
    // The secondaries went back down (VCPUOP_down) ...
    expect(d.vcpus[1]!.runstate).toBe(Runstate.OFFLINE);
    expect(d.vcpus[2]!.runstate).toBe(Runstate.OFFLINE);
    // ... after running on the host's pCPUs, two of them at the same time at least once.
    const slices = [...seen.values()];
    expect(new Set(slices.map((r) => r.vcpuId))).toEqual(new Set([0, 1, 2]));
    const overlap = slices.some((a) => slices.some((b) => a.vcpuId !== b.vcpuId && a.pcpu !== b.pcpu && a.startNs < b.endNs && b.startNs < a.endNs));
    expect(overlap).toBe(true);
  });
});
