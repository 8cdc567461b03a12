/**
 * The translation tier switched and inspected while a domain runs (core/xen/vcpu/jitControl.ts):
 * the hypervisor asks through the vCPU's control block, the worker switches between slices,
 * reports its counters at every slice end, and answers a dump of its hottest translations.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assemble } from '../core/cpu/asm';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { parseXlConfig } from '../core/tools/xlConfig';
import { domainJitStats, requestJitDump, requestJitMode } from '../core/xen/vcpu/jitControl';
import * as C from '../core/xen/vcpu/vcpuControl';
import { ensureBundleSync } from './testBundle';
import { nodeVcpuHost } from './vcpuHost';
import { until } from '../testing/support';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

/** A loop: x1 += 1, x2 ^= x1, forever. */
const LOOP = new Uint8Array(
  Int32Array.of(assemble('addi', { rd: 1, rs1: 1, imm: 1 }), assemble('xor', { rd: 2, rs1: 2, rs2: 1 }), assemble('jal', { imm: -8 })).buffer,
);

describe('the translation tier of a running domain', () => {
  it('turns on and off between slices, counts, and dumps its hottest translation with the guest code beside it', async () => {
    hv = new Hypervisor({ memoryMiB: 48, pcpus: 1, host: nodeVcpuHost(ensureBundleSync()), jit: 'off' });
    hv.start();
    const d = hv.createDomain(parseXlConfig('name = "loop"\ntype = "hvm"\nmemory = 16\nkernel = "loop.bin"\n'), { kernel: LOOP });
    await until(() => d.vcpus[0]!.instret > 1_000_000, 60_000);
    expect(domainJitStats(d, hv.jit)).toMatchObject({ mode: 'off', translated: 0, translations: 0 });

    requestJitMode(d, 'always');
    await until(() => domainJitStats(d, 'off').translated > 1_000_000, 60_000);
    const on = domainJitStats(d, 'off');
    expect(on.mode).toBe('always');
    expect(on.translations).toBeGreaterThan(0);
    expect(on.cached).toBeGreaterThan(0);

    const dump = await requestJitDump(d.vcpus[0]!, 30_000);
    expect(dump.mode).toBe('always');
    const hot = dump.hottest[0]!;
    expect(hot.guest.map((g) => g.text)).toEqual(expect.arrayContaining([expect.stringMatching(/^addi ra, ra, 1/), expect.stringMatching(/^xor sp, sp, ra/)]));
    expect(hot.code).toContain('continue');

    requestJitMode(d, 'off');
    const seen = d.vcpus[0]!.instret;
    await until(() => d.vcpus[0]!.instret > seen + 2_000_000, 60_000);
    const a = domainJitStats(d, 'off');
    const runAt = d.vcpus[0]!.instret;
    await until(() => d.vcpus[0]!.instret > runAt + 2_000_000, 60_000);
    const b = domainJitStats(d, 'off');
    expect(b.mode).toBe('off');
    expect(b.translated).toBe(a.translated); // nothing runs translated any more
    expect(b.translations).toBe(a.translations); // and the totals survive the switch
    expect(b.cached).toBe(0);
  });

  it('ignores garbage a worker could leave in the request and stats words', () => {
    hv = new Hypervisor({ memoryMiB: 48, pcpus: 1, host: nodeVcpuHost(ensureBundleSync()), jit: 'off' });
    const d = hv.createDomain(parseXlConfig('name = "idle"\ntype = "hvm"\nmemory = 16\nkernel = "loop.bin"\n'), { kernel: LOOP });
    const cb = d.vcpus[0]!.cb;
    cb[C.C_JIT_MODE] = 77;
    for (let i = 0; i < 6; i++) cb[C.C_JIT_STATS + i] = -1;
    const s = domainJitStats(d, 'off');
    expect(s.mode).toBe('off');
    expect(s.translations).toBeLessThanOrEqual(2 ** 31);
    expect(s.cached).toBeLessThanOrEqual(1 << 20);
  });
});
