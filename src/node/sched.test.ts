/**
 * The credit scheduler with real domains and vCPU workers: a cap holds a spinning domain
 * under its share, and hard affinity (xl vcpu-pin) decides which pCPUs a vCPU runs on,
 * read back from the scheduler's slice trace. Deterministic time (icount) where shares
 * are measured, so the figures do not depend on the host's load.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assemble } from '../core/cpu/asm';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { parseXlConfig } from '../core/tools/xlConfig';
import { ensureBundleSync } from './testBundle';
import { nodeVcpuHost } from './vcpuHost';
import { until } from '../testing/support';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

function host(pcpus: number, icountShift?: number): Hypervisor {
  hv = new Hypervisor({ memoryMiB: 64, pcpus, host: nodeVcpuHost(ensureBundleSync()), ...(icountShift !== undefined ? { icountShift } : {}) });
  hv.start();
  return hv;
}

/** A flat hvm image that spins forever: `j .` */
const SPIN = { kernel: new Uint8Array(Int32Array.of(assemble('jal', { imm: 0 })).buffer) };
const spinner = (name: string, extra = ''): ReturnType<typeof parseXlConfig> =>
  parseXlConfig(`name = "${name}"\ntype = "hvm"\nmemory = 8\nkernel = "spin"\n${extra}`);

describe('credit scheduler with real domains', () => {
  it('cap 50 holds a spinning domain at or under half a pCPU, and it still gets close to its cap', async () => {
    const h = host(1, 3);
    const d = h.createDomain(spinner('capped', 'cap = 50'), SPIN);
    await until(() => h.now() > 1e9); // one second of scheduler time to settle
    const [c0, t0] = [d.cpuNs, h.now()];
    await until(() => h.now() - t0 > 3e9);
    const share = (d.cpuNs - c0) / (h.now() - t0);
    expect(share).toBeLessThanOrEqual(0.5);
    expect(share).toBeGreaterThan(0.4);
  });

  it('without a cap the same domain takes the whole pCPU', async () => {
    const h = host(1, 3);
    const d = h.createDomain(spinner('free'), SPIN);
    await until(() => h.now() > 1e9);
    const [c0, t0] = [d.cpuNs, h.now()];
    await until(() => h.now() - t0 > 2e9);
    expect((d.cpuNs - c0) / (h.now() - t0)).toBeGreaterThan(0.95);
  });

  it('vcpu-pin is obeyed: pinned vCPUs run only on their pCPU, and move when re-pinned', async () => {
    const h = host(2);
    const a = h.createDomain(spinner('a'), SPIN);
    const b = h.createDomain(spinner('b'), SPIN);
    h.pinVcpu(a.domid, 0, 0b10);
    h.pinVcpu(b.domid, 0, 0b10);
    const t0 = h.now();
    await until(
      () => h.sliceTrace.since(t0).filter((r) => r.domid === a.domid).length >= 5 && h.sliceTrace.since(t0).filter((r) => r.domid === b.domid).length >= 5,
    );
    const pinned = h.sliceTrace.since(t0).filter((r) => r.domid === a.domid || r.domid === b.domid);
    // A slice granted before the pin may still end after t0 on pCPU 0; later ones may not.
    expect(pinned.filter((r) => r.startNs >= t0).every((r) => r.pcpu === 1)).toBe(true);

    h.pinVcpu(b.domid, 0, 0b01);
    const t1 = h.now();
    await until(() => h.sliceTrace.since(t1).filter((r) => r.domid === b.domid && r.startNs >= t1).length >= 5);
    const moved = h.sliceTrace.since(t1).filter((r) => r.startNs >= t1);
    expect(moved.filter((r) => r.domid === b.domid).every((r) => r.pcpu === 0)).toBe(true);
    expect(moved.filter((r) => r.domid === a.domid).every((r) => r.pcpu === 1)).toBe(true);
  });
});
