import { describe, expect, it } from 'vitest';
import { Mrom, MROM_FW_DYNAMIC_INFO_OFFSET, virtMromContents } from './mrom';

/**
 * `xp /20wx 0x1000` in QEMU 7.2's monitor (qemu-system-riscv32 -machine virt -bios none
 * -m 128M -kernel ELF, the ELF loading at 0x80400000 with e_entry 0x80400100).
 */
const QEMU_MROM = [
  0x00000297, 0x02828613, 0xf1402573, 0x0202a583, 0x0182a283, 0x00028067, 0x80000000, 0x00000000, 0x87e00000, 0x00000000, 0x4942534f, 0x00000002, 0x80400000,
  0x00000001, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
];

function rom() {
  return new Mrom({ contents: virtMromContents({ startAddr: 0x8000_0000, fdtAddr: 0x87e0_0000, nextAddr: 0x8040_0000 }) });
}

describe('Mrom', () => {
  it("holds QEMU virt's RV32 reset vector and fw_dynamic_info", () => {
    const r = rom();
    expect(QEMU_MROM.map((_, i) => r.read(i * 4, 4))).toEqual(QEMU_MROM);
    expect(MROM_FW_DYNAMIC_INFO_OFFSET).toBe(0x28);
    expect(virtMromContents({ startAddr: 0, fdtAddr: 0, nextAddr: 0 }).length).toBe(0x40);
  });

  it('reads zeros to the end of its 0xf000-byte window', () => {
    const r = rom();
    expect(r.size).toBe(0xf000);
    expect(r.name).toBe('mrom');
    expect(r.read(0x40, 4)).toBe(0);
    expect(r.read(0x7000, 4)).toBe(0);
    expect(r.read(0xeffc, 4)).toBe(0);
    expect(r.read(0xefff, 1)).toBe(0);
  });

  it('answers narrow loads little-endian, as QEMU does', () => {
    const r = rom();
    expect(r.read(0, 1)).toBe(0x97);
    expect(r.read(1, 1)).toBe(0x02);
    expect(r.read(3, 1)).toBe(0x00);
    expect(r.read(0, 2)).toBe(0x0297);
    expect(r.read(2, 2)).toBe(0);
    expect(r.read(8, 4)).toBe(0xf1402573); // unsigned
    expect(r.read(0x1a, 2)).toBe(0x8000);
  });

  it('ignores stores', () => {
    const r = rom();
    r.write(0, 4, 0x12345678);
    r.write(0x40, 1, 0xaa);
    expect(r.read(0, 4)).toBe(0x297);
    expect(r.read(0x40, 4)).toBe(0);
  });

  it('copies its contents and refuses contents larger than the window', () => {
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const r = new Mrom({ contents: bytes, size: 8, name: 'boot' });
    bytes[0] = 9;
    expect(r.read(0, 4)).toBe(0x04030201);
    expect(r.read(4, 4)).toBe(0);
    expect(() => new Mrom({ contents: new Uint8Array(9), size: 8 })).toThrow(RangeError);
  });
});
