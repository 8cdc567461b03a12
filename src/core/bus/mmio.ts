/**
 * The contract between the bus and every memory-mapped device.
 *
 * A device owns a window of `size` bytes and only ever sees offsets into that window,
 * never absolute guest-physical addresses (TinyEMU's iomem.h does the same), so the
 * same device model can be placed anywhere in a memory map.
 */

/** Width of one access in bytes. RV32 has no 8-byte loads or stores. */
export type AccessWidth = 1 | 2 | 4;

export interface MmioDevice {
  /** Short name used in traces and exit statistics ("uart0", "plic", "clint"...). */
  readonly name: string;
  /** Size of the device's window in bytes. */
  readonly size: number;
  /**
   * The narrowest access the device accepts (QEMU's MemoryRegionOps.valid.min_access_size);
   * the bus refuses narrower ones, which the hart takes as an access fault. Default 1.
   */
  readonly minWidth?: AccessWidth;
  /**
   * Read `width` bytes at `offset`. Returns the value zero-extended to 32 bits
   * (callers apply sign extension for LB/LH). Unmapped registers read as 0.
   */
  read(offset: number, width: AccessWidth): number;
  /** Write the low `width` bytes of `value` at `offset`. Unmapped registers ignore writes. */
  write(offset: number, width: AccessWidth, value: number): void;
}

/**
 * One interrupt wire, level-triggered: the source drives it high or low and the sink
 * (the PLIC, or a hart's mip bit) samples the level. Mirrors TinyEMU's IRQSignal.
 */
export interface IrqLine {
  set(level: boolean): void;
}

/**
 * What a device sees of a hart's interrupt-pending register. `bit` is an mip bit
 * number from the privileged spec (section 3.1.9): 1 SSIP, 3 MSIP, 5 STIP, 7 MTIP,
 * 9 SEIP, 11 MEIP.
 */
export interface InterruptTarget {
  setInterruptLevel(bit: number, level: boolean): void;
}

/** mip/mie bit numbers (privileged spec 3.1.9). */
export const IRQ_SSIP = 1;
export const IRQ_MSIP = 3;
export const IRQ_STIP = 5;
export const IRQ_MTIP = 7;
export const IRQ_SEIP = 9;
export const IRQ_MEIP = 11;

/**
 * A source of the platform time (the CLINT's mtime), counted in ticks of
 * `frequency` Hz. Values are plain numbers: exact up to 2^53 ticks (28 years at 10 MHz).
 */
export interface Clock {
  readonly frequency: number;
  now(): number;
}
