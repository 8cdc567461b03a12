/**
 * An hvm domain's device tree carries QEMU's /chosen rng-seed: fresh random bytes in real
 * time, and a fixed seed in deterministic (icount) mode, so that a deterministic run of a
 * host is reproducible as `hyperlab run --icount` is.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ICOUNT_RNG_SEED } from '../core/board/virt';
import { decodeFdt, findNode, getProp } from '../core/board/fdtReader';
import { Hypervisor } from '../core/xen/common/hypervisor';
import type { VcpuBoot } from '../core/xen/vcpu/vcpuControl';
import { parseXlConfig } from '../core/tools/xlConfig';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

/** The rng-seed in the device tree the first vCPU of a new hvm domain is handed (a1). */
function seedOf(icountShift: number | undefined): Uint8Array {
  let boot: VcpuBoot | undefined;
  hv = new Hypervisor({
    memoryMiB: 32,
    pcpus: 1,
    host: {
      start: (b) => {
        boot = b;
        return { terminate: () => {} };
      },
    },
    ...(icountShift !== undefined ? { icountShift } : {}),
  });
  const d = hv.createDomain(parseXlConfig('name = "h"\ntype = "hvm"\nmemory = 8\nkernel = "k"'), { kernel: Uint8Array.of(0x6f, 0, 0, 0) });
  const fdtAddr = boot!.args[1];
  const off = d.p2m.get((fdtAddr - d.ramBase) >>> 12) * 4096 + (fdtAddr & 0xfff);
  const bytes = new Uint8Array(hv.memory.buffer, off, 4096 - (fdtAddr & 0xfff)).slice();
  const seed = getProp(findNode(decodeFdt(bytes).root, '/chosen')!, 'rng-seed')!.value;
  hv.shutdownHost();
  hv = undefined;
  return seed;
}

describe('hvm device tree rng-seed', () => {
  it('is fixed in deterministic mode and fresh in real time', () => {
    expect([...seedOf(0)]).toEqual([...ICOUNT_RNG_SEED]);
    expect([...seedOf(0)]).toEqual([...seedOf(0)]);
    expect([...seedOf(undefined)]).not.toEqual([...seedOf(undefined)]);
  });
});
