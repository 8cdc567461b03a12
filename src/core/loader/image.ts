/**
 * Guest image formats other than ELF, and the choice between them. QEMU's
 * riscv_load_kernel tries ELF first and otherwise copies the file as a flat binary to
 * the start of DRAM (for `virt` with -bios none); hyperlab does the same, and also
 * recognises a Linux RISC-V "Image" header (Documentation/arch/riscv/boot-image-header.rst)
 * and a device tree blob, so that a wrong file gives a useful message.
 */
import { ImageError } from './imageError';
import { loadElf, type ElfLoadOptions, type ImageSink, type LoadedImage } from './elf';

export type ImageFormat = 'elf' | 'linux-image' | 'dtb' | 'raw';

/** Linux Image header: magic "RISCV\0\0\0" at 48 (deprecated), magic2 "RSC\x05" at 56. */
const LINUX_MAGIC = [0x52, 0x49, 0x53, 0x43, 0x56, 0, 0, 0];
const LINUX_MAGIC2 = [0x52, 0x53, 0x43, 0x05];

function matchAt(bytes: Uint8Array, offset: number, magic: readonly number[]): boolean {
  if (bytes.length < offset + magic.length) return false;
  return magic.every((b, i) => bytes[offset + i] === b);
}

/** Guess an image's format from its first bytes. Anything unrecognised is 'raw'. */
export function detectImageFormat(bytes: Uint8Array): ImageFormat {
  if (matchAt(bytes, 0, [0x7f, 0x45, 0x4c, 0x46])) return 'elf';
  if (matchAt(bytes, 0, [0xd0, 0x0d, 0xfe, 0xed])) return 'dtb';
  if (matchAt(bytes, 56, LINUX_MAGIC2) || matchAt(bytes, 48, LINUX_MAGIC)) return 'linux-image';
  return 'raw';
}

export interface RawLoadOptions {
  /** If given, the image must fit inside this physical range (guest RAM). */
  ram?: { base: number; size: number };
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** Copy a flat binary to `loadAddress`, which is also its entry point. */
export function loadRaw(bytes: Uint8Array, loadAddress: number, write: ImageSink['write'], options: RawLoadOptions = {}): LoadedImage {
  if (bytes.length === 0) throw new ImageError('image is empty');
  if (!Number.isInteger(loadAddress) || loadAddress < 0 || loadAddress > 0xffff_ffff) {
    throw new ImageError(`load address ${loadAddress} is not a 32-bit physical address`);
  }
  if (loadAddress % 4 !== 0) throw new ImageError(`load address ${hex(loadAddress)} is not 4-byte aligned`);
  const end = loadAddress + bytes.length;
  if (end > 2 ** 32) throw new ImageError(`image (${bytes.length} bytes at ${hex(loadAddress)}) runs past the end of the 32-bit address space`);
  const ram = options.ram;
  if (ram && (loadAddress < ram.base || end > ram.base + ram.size)) {
    throw new ImageError(`image (${hex(loadAddress)}..${hex(end)}) does not fit in guest RAM (${hex(ram.base)}..${hex(ram.base + ram.size)})`);
  }
  write(loadAddress, bytes);
  return { entry: loadAddress, segments: [{ paddr: loadAddress, memsz: bytes.length }], symbols: [] };
}

export interface ImageLoadOptions extends ElfLoadOptions {
  /** Where flat binaries go: the start of DRAM on `virt`. */
  rawLoadAddress: number;
}

/** Load any supported image: ELF by its headers, anything else as a flat binary. */
export function loadImage(bytes: Uint8Array, sink: ImageSink, options: ImageLoadOptions): LoadedImage & { format: ImageFormat } {
  const format = detectImageFormat(bytes);
  const ram = options.ram ? { ram: options.ram } : {};
  switch (format) {
    case 'elf':
      return { format, ...loadElf(bytes, sink, options) };
    case 'dtb':
      throw new ImageError('this is a device tree blob, not a guest image');
    case 'linux-image':
    case 'raw':
      return { format, ...loadRaw(bytes, options.rawLoadAddress, (p, b) => sink.write(p, b), ram) };
  }
}
