/**
 * Load a kernel image into guest RAM the way `qemu-system-riscv32 -machine virt -bios
 * none -kernel IMAGE` does: an ELF goes to its segments' physical addresses, anything
 * else is a flat binary placed at the start of RAM (QEMU's riscv_load_kernel falls back
 * to load_image_targphys at the kernel start address, which is the start of RAM when no
 * firmware is loaded).
 */
import type { Bus } from '../bus/bus';
import { loadElf, type LoadedImage } from './elf';
import { ImageError } from './imageError';

export type { LoadedImage } from './elf';

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

export function isElf(bytes: Uint8Array): boolean {
  return ELF_MAGIC.every((b, i) => bytes[i] === b);
}

export function loadKernel(bytes: Uint8Array, bus: Bus): LoadedImage {
  if (bytes.length === 0) throw new ImageError('the image is empty');
  if (isElf(bytes)) {
    return loadElf(
      bytes,
      {
        write: (pa, data) => bus.writePhys(pa, data),
        zero: (pa, len) => bus.ram.u8.fill(0, bus.ramOffset(pa), bus.ramOffset(pa) + len),
      },
      { ram: { base: bus.ramBase, size: bus.ramSize } },
    );
  }
  if (bytes.length > bus.ramSize) {
    throw new ImageError(`the raw image (${bytes.length} bytes) is larger than RAM (${bus.ramSize} bytes)`);
  }
  bus.writePhys(bus.ramBase, bytes);
  return { entry: bus.ramBase, segments: [{ paddr: bus.ramBase, memsz: bytes.length }], symbols: [] };
}
