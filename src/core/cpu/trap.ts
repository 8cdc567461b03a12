/**
 * Trap causes and privilege levels (privileged spec 1.12, section 3.1.15, table 3.6).
 */

export const PRV_U = 0;
export const PRV_S = 1;
export const PRV_M = 3;

/** Synchronous exception codes (mcause with the interrupt bit clear). */
export const enum Exc {
  InsnMisaligned = 0,
  InsnAccessFault = 1,
  IllegalInsn = 2,
  Breakpoint = 3,
  LoadMisaligned = 4,
  LoadAccessFault = 5,
  StoreMisaligned = 6,
  StoreAccessFault = 7,
  EcallU = 8,
  EcallS = 9,
  EcallM = 11,
  InsnPageFault = 12,
  LoadPageFault = 13,
  StorePageFault = 15,
}

/** Kinds of memory access, for translation and for choosing the fault cause. */
export const enum Access {
  Read = 0,
  Write = 1,
  Exec = 2,
}

export function accessFault(a: Access): Exc {
  return a === Access.Exec ? Exc.InsnAccessFault : a === Access.Read ? Exc.LoadAccessFault : Exc.StoreAccessFault;
}

export function pageFault(a: Access): Exc {
  return a === Access.Exec ? Exc.InsnPageFault : a === Access.Read ? Exc.LoadPageFault : Exc.StorePageFault;
}

export function misaligned(a: Access): Exc {
  return a === Access.Exec ? Exc.InsnMisaligned : a === Access.Read ? Exc.LoadMisaligned : Exc.StoreMisaligned;
}

/** Interrupt numbers in the order they are taken (priv spec 3.1.9: MEI, MSI, MTI, SEI, SSI, STI). */
export const INTERRUPT_PRIORITY: readonly number[] = [11, 3, 7, 9, 1, 5];

export const CAUSE_INTERRUPT = 0x8000_0000 | 0;
