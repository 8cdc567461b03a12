import { describe, expect, it } from 'vitest';
import { detectImageFormat, loadImage, loadRaw } from './image';
import { ImageError } from './imageError';

function linuxImageHeader(): Uint8Array {
  const b = new Uint8Array(64);
  b.set([0x52, 0x53, 0x43, 0x05], 56);
  return b;
}

describe('detectImageFormat', () => {
  it('recognises ELF, DTB, Linux Image and falls back to raw', () => {
    expect(detectImageFormat(Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2]))).toBe('elf');
    expect(detectImageFormat(Uint8Array.from([0xd0, 0x0d, 0xfe, 0xed, 0]))).toBe('dtb');
    expect(detectImageFormat(linuxImageHeader())).toBe('linux-image');
    const old = new Uint8Array(64);
    old.set([0x52, 0x49, 0x53, 0x43, 0x56, 0, 0, 0], 48);
    expect(detectImageFormat(old)).toBe('linux-image');
    expect(detectImageFormat(Uint8Array.from([0x13, 0, 0, 0]))).toBe('raw');
    expect(detectImageFormat(new Uint8Array(0))).toBe('raw');
    expect(detectImageFormat(Uint8Array.from([0x7f, 0x45]))).toBe('raw');
  });
});

describe('loadRaw', () => {
  it('writes the image at the load address, which is the entry', () => {
    const calls: [number, number[]][] = [];
    const image = loadRaw(Uint8Array.from([1, 2, 3, 4, 5]), 0x8000_0000, (p, b) => calls.push([p, [...b]]));
    expect(calls).toEqual([[0x8000_0000, [1, 2, 3, 4, 5]]]);
    expect(image).toEqual({ entry: 0x8000_0000, segments: [{ paddr: 0x8000_0000, memsz: 5 }], symbols: [] });
  });

  it('rejects what cannot be loaded', () => {
    const w = () => {};
    const one = Uint8Array.from([1]);
    expect(() => loadRaw(new Uint8Array(0), 0, w)).toThrow(new ImageError('image is empty'));
    expect(() => loadRaw(one, 2, w)).toThrow(/not 4-byte aligned/);
    expect(() => loadRaw(one, -4, w)).toThrow(/not a 32-bit physical address/);
    expect(() => loadRaw(new Uint8Array(8), 0xffff_fffc, w)).toThrow(/runs past the end/);
    expect(() => loadRaw(new Uint8Array(0x2000), 0x8000_0000, w, { ram: { base: 0x8000_0000, size: 0x1000 } })).toThrow(
      'image (0x80000000..0x80002000) does not fit in guest RAM (0x80000000..0x80001000)',
    );
  });
});

describe('loadImage', () => {
  const sink = { write: () => {}, zero: () => {} };
  it('loads non-ELF files raw at the DRAM base', () => {
    const image = loadImage(linuxImageHeader(), sink, { rawLoadAddress: 0x8000_0000 });
    expect(image.format).toBe('linux-image');
    expect(image.entry).toBe(0x8000_0000);
  });

  it('sends ELF to the ELF loader and refuses a DTB', () => {
    expect(() => loadImage(Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2]), sink, { rawLoadAddress: 0 })).toThrow('ELF is 64-bit; hyperlab runs RV32 guests');
    expect(() => loadImage(Uint8Array.from([0xd0, 0x0d, 0xfe, 0xed]), sink, { rawLoadAddress: 0 })).toThrow(ImageError);
  });
});
