/**
 * The mask ROM of QEMU's riscv `virt` machine at 0x1000 (hw/riscv/virt.c maps
 * "riscv_virt_board.mrom", 0xf000 bytes), holding what QEMU 7.2's
 * riscv_setup_rom_reset_vec and riscv_rom_copy_firmware_info (hw/riscv/boot.c) put
 * there for an RV32 machine:
 *
 *   0x00  0x00000297  auipc t0, 0          t0 = 0x1000
 *   0x04  0x02828613  addi  a2, t0, 40     a2 = 0x1028, the fw_dynamic_info below
 *   0x08  0xf1402573  csrr  a0, mhartid
 *   0x0c  0x0202a583  lw    a1, 32(t0)     a1 = fdt_laddr
 *   0x10  0x0182a283  lw    t0, 24(t0)     t0 = start_addr
 *   0x14  0x00028067  jr    t0
 *   0x18  start_addr, 0     (a .dword: the high word is 0 on RV32)
 *   0x20  fdt_laddr, 0
 *   0x28  struct fw_dynamic_info (OpenSBI's, 32-bit fields on RV32):
 *         magic 0x4942534f ("OSBI"), version 2, next_addr = what riscv_load_kernel
 *         returned, next_mode 1 (S-mode), options 0, boot_hart 0
 *
 * and zeros up to the end of the window. With `-bios none`, start_addr is the start of
 * RAM (0x80000000) whatever the image. next_addr is not the ELF's e_entry: QEMU 7.2's
 * riscv_load_kernel returns the lowest address the ELF loads at (load_elf's lowaddr), or
 * the load address of a flat image, and 0 without -kernel (checked with QEMU's monitor:
 * an ELF loading at 0x80400000 with e_entry 0x80400100 gets next_addr 0x80400000).
 * QEMU replaces the csrr with a nop when the CPU lacks Zicsr; hyperlab's hart has it.
 *
 * The ROM answers loads of any width; stores are ignored without a fault, as QEMU
 * discards stores to ROM. The hart cannot fetch instructions from it (only RAM is
 * executable here), so the board starts the hart where this code would jump, with the
 * registers it would have set (see board/virt.ts).
 */
import type { AccessWidth, MmioDevice } from '../bus/mmio';
import { VIRT_MROM_SIZE } from '../board/memoryMap';

/** OpenSBI's FW_DYNAMIC_INFO_MAGIC_VALUE ("OSBI" little-endian). */
export const FW_DYNAMIC_INFO_MAGIC = 0x4942_534f;
export const FW_DYNAMIC_INFO_VERSION = 2;
/** FW_DYNAMIC_INFO_NEXT_MODE_S: the next stage runs in S-mode. */
export const FW_DYNAMIC_INFO_NEXT_MODE_S = 1;
/** Offset of fw_dynamic_info in the ROM: right after the 10-word reset vector. */
export const MROM_FW_DYNAMIC_INFO_OFFSET = 0x28;

/** The six instructions of QEMU's RV32 reset vector. */
export const MROM_RESET_VECTOR_RV32: readonly number[] = [
  0x0000_0297, // auipc t0, %pcrel_hi(fw_dyn)
  0x0282_8613, // addi  a2, t0, %pcrel_lo(1b)
  0xf140_2573, // csrr  a0, mhartid
  0x0202_a583, // lw    a1, 32(t0)
  0x0182_a283, // lw    t0, 24(t0)
  0x0002_8067, // jr    t0
];

export interface VirtMromContents {
  /** Where the reset vector jumps: the start of RAM with -bios none. */
  startAddr: number;
  /** The device tree's address (a1). */
  fdtAddr: number;
  /** fw_dynamic_info.next_addr: the image's lowest load address (see above). */
  nextAddr: number;
}

/** The bytes QEMU writes at the start of the `virt` MROM (0x40 bytes; the rest is zero). */
export function virtMromContents(c: VirtMromContents): Uint8Array {
  const words = [
    ...MROM_RESET_VECTOR_RV32,
    c.startAddr,
    0,
    c.fdtAddr,
    0,
    FW_DYNAMIC_INFO_MAGIC,
    FW_DYNAMIC_INFO_VERSION,
    c.nextAddr,
    FW_DYNAMIC_INFO_NEXT_MODE_S,
    0, // options
    0, // boot_hart
  ];
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w >>> 0, true));
  return bytes;
}

export interface MromOptions {
  /** The ROM's initial bytes; the rest of the window reads 0. */
  contents: Uint8Array;
  name?: string;
  /** Window size; default VIRT_MROM_SIZE (0xf000). */
  size?: number;
}

export class Mrom implements MmioDevice {
  readonly name: string;
  readonly size: number;
  private readonly bytes: Uint8Array;

  constructor(options: MromOptions) {
    this.name = options.name ?? 'mrom';
    this.size = options.size ?? VIRT_MROM_SIZE;
    if (options.contents.length > this.size) {
      throw new RangeError(`ROM contents (${options.contents.length} bytes) exceed the window (${this.size})`);
    }
    this.bytes = options.contents.slice();
  }

  read(offset: number, width: AccessWidth): number {
    const b = this.bytes;
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = (v << 8) | (b[offset + i] ?? 0);
    return v >>> 0;
  }

  write(_offset: number, _width: AccessWidth, _value: number): void {
    // Read-only: QEMU discards stores to ROM, without a fault.
  }
}
