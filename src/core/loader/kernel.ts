/**
 * Load a kernel image into a bus's RAM the way `qemu-system-riscv32 -machine virt -bios
 * none -kernel IMAGE` does: an ELF goes to its segments' physical addresses, anything else
 * is a flat binary at the start of RAM (image.ts).
 */
import type { Bus } from '../bus/bus';
import type { LoadedImage } from './elf';
import { loadImage, type ImageFormat } from './image';

export type { LoadedImage } from './elf';

export function loadKernel(bytes: Uint8Array, bus: Bus): LoadedImage & { format: ImageFormat } {
  const ram = { base: bus.ramBase, size: bus.ramSize };
  return loadImage(
    bytes,
    {
      write: (pa, data) => bus.writePhys(pa, data),
      zero: (pa, len) => bus.zeroPhys(pa, len),
    },
    { rawLoadAddress: bus.ramBase, ram },
  );
}
