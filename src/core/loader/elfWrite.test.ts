import { describe, expect, it } from 'vitest';
import { loadElf } from './elf';
import { elf32Executable } from './elfWrite';
import { detectImageFormat } from './image';

describe('elf32Executable', () => {
  it('makes an ELF our loader reads back: one segment with the code at its address, entry there', () => {
    const code = Uint8Array.of(0x6f, 0, 0, 0, 1, 2, 3);
    const elf = elf32Executable(code, 0x8020_0000);
    expect(detectImageFormat(elf)).toBe('elf');
    const written = new Map<number, Uint8Array>();
    const img = loadElf(elf, { write: (pa, data) => written.set(pa, data.slice()), zero: () => {} });
    expect(img.entry).toBe(0x8020_0000);
    expect(img.segments).toEqual([{ paddr: 0x8020_0000, memsz: code.length }]);
    expect([...written.get(0x8020_0000)!]).toEqual([...code]);
  });
});
