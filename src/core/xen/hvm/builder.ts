/**
 * Building a domain's memory (Xen's libxenguest "domain builder"): populate the P2M with
 * fresh machine frames, load the kernel and its boot data, and say where vCPU 0 starts.
 */
import { Bus } from '../../bus/bus';
import { buildVirtFdt } from '../../board/virtFdt';
import * as M from '../../board/memoryMap';
import { loadKernel } from '../../loader/kernel';
import type { MachineMemory } from '../common/machineMemory';
import type { BuiltDomain, DomainImages } from '../common/domain';
import { P2m, releaseFrames } from '../common/p2m';
import type { DomainConfig } from '../../tools/xlConfig';

const MiB = 1024 * 1024;
/** Sv32 megapage: an rv32 MMU kernel must be loaded on such a boundary (Linux's setup_vm checks). */
export const SV32_MEGAPAGE = 4 * MiB;

/**
 * An hvm domain: QEMU's `virt` board boot protocol (board/virt.ts), RAM at 0x80000000.
 * The P2M has room for maxmem; `memory` of it is populated.
 *
 * firmware "none": the vCPU starts in M-mode at 0x80000000 with the registers of QEMU's
 * reset vector. firmware "sbi": hyperlab is the SBI firmware and takes no guest memory,
 * so a flat image (a Linux Image) goes at the start of RAM, which is 4 MiB aligned as
 * an rv32 MMU kernel needs; the vCPU starts in S-mode at its entry with a0 = hartid and
 * a1 = the device tree (the SBI spec's boot convention, as OpenSBI's fw_jump enters
 * Linux). The initrd and the device tree go above the kernel in both cases.
 */
/** `rngSeed`: the device tree's /chosen rng-seed (fresh random bytes by default; fixed in deterministic mode). */
export function buildHvm(mem: MachineMemory, domid: number, cfg: DomainConfig, images: DomainImages, rngSeed?: Uint8Array): BuiltDomain {
  const ramSize = cfg.memory * MiB;
  const p2m = new P2m((cfg.maxmem * MiB) / 4096);
  try {
    for (let gfn = 0; gfn < ramSize / 4096; gfn++) p2m.populate(mem, gfn, domid);
    const bus = new Bus({ ramBase: M.VIRT_DRAM_BASE, ramSize, buffer: mem.buffer, p2m: p2m.table });
    const image = loadKernel(images.kernel, bus);
    let initrd: { start: number; end: number } | undefined;
    if (images.ramdisk) {
      const start = image.entry + Math.min(ramSize / 2, 128 * MiB);
      initrd = { start, end: start + images.ramdisk.length };
      bus.writePhys(start, images.ramdisk);
    }
    const fdt = buildVirtFdt({
      memBase: M.VIRT_DRAM_BASE,
      memSize: ramSize,
      harts: cfg.vcpus,
      ...(cfg.cmdline !== undefined ? { bootargs: cfg.cmdline } : {}),
      ...(initrd ? { initrd } : {}),
      ...(rngSeed ? { rngSeed } : {}),
    });
    const fdtAddr = Math.floor((M.VIRT_DRAM_BASE + ramSize - fdt.length) / 0x20_0000) * 0x20_0000;
    bus.writePhys(fdtAddr, fdt);
    const nextAddr = Math.min(...image.segments.map((s) => s.paddr));
    if (cfg.firmware === 'sbi') {
      if (image.format === 'linux-image' && image.entry % SV32_MEGAPAGE !== 0) {
        throw new Error(`a Linux Image must start on a 4 MiB boundary, not at 0x${(image.entry >>> 0).toString(16)}`);
      }
      return { p2m, ramBase: M.VIRT_DRAM_BASE, entry: image.entry, args: [0, fdtAddr, 0], mrom: { fdtAddr, nextAddr } };
    }
    return { p2m, ramBase: M.VIRT_DRAM_BASE, entry: M.VIRT_DRAM_BASE, args: [0, fdtAddr, 0x1028], mrom: { fdtAddr, nextAddr } };
  } catch (e) {
    releaseFrames(mem, p2m);
    throw e;
  }
}
