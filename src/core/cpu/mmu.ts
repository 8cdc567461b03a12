/**
 * Address translation (Sv32, privileged spec 1.12 section 4.3) and the slow paths of
 * memory access: TLB refill, MMIO, misaligned accesses and faults.
 *
 * The interpreter's fast path only handles an aligned access whose page is in the TLB;
 * everything else comes here. The TLB only ever holds RAM pages, so MMIO always takes
 * the slow path. A/D bits are set by the walker (as QEMU does) when an entry is filled,
 * so a write entry is only filled once D is set.
 */
import type { AccessWidth } from '../bus/mmio';
import type { Hart } from './hart';
import { Access, accessFault, misaligned, pageFault, PRV_M, PRV_S, PRV_U } from './trap';
import * as S from './status';
import { PMP_R, PMP_SPLIT, PMP_W, PMP_X, pmpPermissions } from './pmp';

export const TLB_SIZE = 256;
export const TLB_MASK = TLB_SIZE - 1;

// PTE bits (section 4.3.1, figure 4.18).
const PTE_V = 1,
  PTE_R = 2,
  PTE_W = 4,
  PTE_X = 8,
  PTE_U = 16,
  PTE_A = 64,
  PTE_D = 128;

/** Privilege a data access is checked at: MPRV makes M-mode loads/stores use MPP (3.1.6.3). */
function dataPriv(h: Hart): number {
  return h.priv === PRV_M && (h.mstatus & S.MPRV) !== 0 ? (h.mstatus & S.MPP) >>> S.MPP_SHIFT : h.priv;
}

/**
 * Translate virtual address `va` for `access`. Returns the physical address (up to 34 bits,
 * as a number), or -1 after raising the page or access fault on the hart. A `probe` (for
 * tracers and debuggers) has no side effects: no fault is raised and no A/D bit is set.
 */
export function translate(h: Hart, va: number, access: Access, epc: number, probe = false): number {
  const fault = probe ? noFault : raise;
  const priv = access === Access.Exec ? h.priv : dataPriv(h);
  if (priv === PRV_M || (h.satp & S.SATP_MODE_SV32) === 0) return va >>> 0;

  const ram = h.bus.ram.i32;
  let a = (h.satp & S.SATP_PPN_MASK) * 4096;
  // Walk at most two levels (4.3.2 steps 2-5).
  for (let level = 1; level >= 0; level--) {
    const vpn = level === 1 ? va >>> 22 : (va >>> 12) & 0x3ff;
    const pteAddr = a + vpn * 4;
    const off = h.bus.ramOffset(pteAddr);
    // Page-table reads are checked by PMP as S-mode reads (3.7.1).
    if (off < 0 || (pmpPermissions(h, pteAddr, 4, PRV_S) & PMP_R) === 0) return fault(h, accessFault(access), va, epc);
    const pte = ram[off >> 2]!;
    if ((pte & PTE_V) === 0 || ((pte & PTE_R) === 0 && (pte & PTE_W) !== 0)) return fault(h, pageFault(access), va, epc);
    const ppn = pte >>> 10;
    if ((pte & (PTE_R | PTE_X)) === 0) {
      if (level === 0) return fault(h, pageFault(access), va, epc);
      a = ppn * 4096;
      continue;
    }
    // Leaf: permission checks (4.3.2 step 6, 4.3.1 on SUM and MXR).
    if (!permitted(h, pte, access, priv)) return fault(h, pageFault(access), va, epc);
    if (level === 1 && (ppn & 0x3ff) !== 0) return fault(h, pageFault(access), va, epc); // misaligned superpage
    // A/D update in hardware (4.3.2 step 7), atomically as other harts may share the table.
    const want = PTE_A | (access === Access.Write ? PTE_D : 0);
    if ((pte & want) !== want && !probe) {
      if (h.bus.ramOffsetForWrite(pteAddr) < 0) return fault(h, accessFault(access), va, epc); // page table in a read-only frame
      Atomics.or(ram, off >> 2, want);
      const ww = h.writeWatch;
      if (ww !== undefined && ww.watch[off >>> 12] !== 0) ww.noteWrite(off >>> 12); // a page table beside code
    }
    const pageBase = level === 1 ? (ppn >>> 10) * 0x40_0000 + (va & 0x3f_f000) : ppn * 4096;
    return pageBase + (va & 0xfff);
  }
  return fault(h, pageFault(access), va, epc);
}

function permitted(h: Hart, pte: number, access: Access, priv: number): boolean {
  if (priv === PRV_U && (pte & PTE_U) === 0) return false;
  if (priv === PRV_S && (pte & PTE_U) !== 0 && (access === Access.Exec || (h.mstatus & S.SUM) === 0)) return false;
  switch (access) {
    case Access.Exec:
      return (pte & PTE_X) !== 0;
    case Access.Write:
      return (pte & PTE_W) !== 0;
    default:
      return (pte & PTE_R) !== 0 || ((h.mstatus & S.MXR) !== 0 && (pte & PTE_X) !== 0);
  }
}

function raise(h: Hart, cause: number, va: number, epc: number): number {
  h.raiseException(cause, va, epc);
  return -1;
}

const PMP_NEED = [PMP_R, PMP_W, PMP_X];

/**
 * PMP check of a translated access (3.7). Returns 1 if PMP allows the whole 4 KiB page
 * (so it may go into the TLB), 0 if it allows only this access, or -1 after raising an
 * access fault.
 */
function pmpCheck(h: Hart, va: number, pa: number, width: number, access: Access, epc: number): number {
  const priv = access === Access.Exec ? h.priv : dataPriv(h);
  const need = PMP_NEED[access]!;
  const page = pmpPermissions(h, pa - (pa % 4096), 4096, priv);
  if (page !== PMP_SPLIT) return (page & need) !== 0 ? 1 : raise(h, accessFault(access), va, epc);
  const exact = pmpPermissions(h, pa, width, priv);
  return exact !== PMP_SPLIT && (exact & need) !== 0 ? 0 : raise(h, accessFault(access), va, epc);
}

/** Put the page of `va` (which maps to RAM offset `off`) into a TLB. */
function fill(tags: Int32Array, adds: Int32Array, va: number, off: number): void {
  const i = (va >>> 12) & TLB_MASK;
  const page = va & ~0xfff;
  tags[i] = page;
  adds[i] = ((off & ~0xfff) - page) | 0;
}

/**
 * Fetch slow path: make the page of `pc` fetchable. Returns the RAM byte offset of `pc`,
 * or -1 after raising a fault (instructions can only be fetched from RAM).
 */
export function fetchSlow(h: Hart, pc: number): number {
  if ((pc & 3) !== 0) return raise(h, misaligned(Access.Exec), pc, pc);
  const pa = translate(h, pc, Access.Exec, pc);
  if (pa < 0) return -1;
  const off = h.bus.ramOffset(pa);
  if (off < 0) return raise(h, accessFault(Access.Exec), pc, pc);
  const pmp = pmpCheck(h, pc, pa, 4, Access.Exec, pc);
  if (pmp < 0) return -1;
  if (pmp > 0) fill(h.tlbXTag, h.tlbXAdd, pc, off);
  return off;
}

/** Load slow path. Returns the value (sign- or zero-extended per `signed`), or 0 with `h.trapped` set. */
export function loadSlow(h: Hart, va: number, width: AccessWidth, signed: boolean, epc: number): number {
  if ((va & (width - 1)) !== 0) return loadMisaligned(h, va, width, signed, epc);
  const pa = translate(h, va, Access.Read, epc);
  if (pa < 0) return 0;
  const pmp = pmpCheck(h, va, pa, width, Access.Read, epc);
  if (pmp < 0) return 0;
  const off = h.bus.ramOffset(pa);
  let v: number;
  if (off >= 0) {
    if (pmp > 0) fill(h.tlbRTag, h.tlbRAdd, va, off);
    const ram = h.bus.ram;
    v = width === 4 ? ram.i32[off >> 2]! : width === 2 ? ram.u16[off >> 1]! : ram.u8[off]!;
  } else {
    const r = h.bus.mmioRead(pa, width);
    if (r === undefined) return raise(h, accessFault(Access.Read), va, epc) & 0;
    v = r;
  }
  return extend(v, width, signed);
}

function extend(v: number, width: AccessWidth, signed: boolean): number {
  if (width === 4) return v | 0;
  const shift = 32 - width * 8;
  return signed ? (v << shift) >> shift : (v << shift) >>> shift;
}

/**
 * Misaligned loads and stores are carried out, not trapped, as QEMU's riscv32 `virt` does
 * for ordinary loads and stores (AMOs never come here): in RAM byte by byte (each byte
 * translated). A misaligned load from a device is what QEMU 7.2's softmmu makes of it
 * (cputlb.c, load_helper's do_unaligned_access): two aligned loads of the same width,
 * below and above, joined, so a device that accepts only words answers a misaligned word
 * too; a misaligned store goes byte by byte (store_helper_unaligned), which such a device
 * refuses at the first byte.
 */
function loadMisaligned(h: Hart, va: number, width: AccessWidth, signed: boolean, epc: number): number {
  if ((va & 0xfff) + width <= 0x1000) {
    const pa = translate(h, va, Access.Read, epc);
    if (pa < 0) return 0;
    if (h.bus.ramOffset(pa) < 0) return loadMisalignedMmio(h, va, pa, width, signed, epc);
  }
  let v = 0;
  for (let i = 0; i < width; i++) {
    const b = loadSlow(h, (va + i) | 0, 1, false, epc);
    if (h.trapped) return 0;
    v |= b << (8 * i);
  }
  return extend(v, width, signed);
}

function loadMisalignedMmio(h: Hart, va: number, pa: number, width: AccessWidth, signed: boolean, epc: number): number {
  if (pmpCheck(h, va, pa, width, Access.Read, epc) < 0) return 0;
  const down = width - 1;
  const lo = h.bus.mmioRead(pa & ~down, width);
  if (lo === undefined) return raise(h, accessFault(Access.Read), va & ~down, epc) & 0;
  const hi = h.bus.mmioRead((pa & ~down) + width, width);
  if (hi === undefined) return raise(h, accessFault(Access.Read), (va & ~down) + width, epc) & 0;
  const shift = (va & down) * 8;
  return extend((lo >>> shift) | (hi << (width * 8 - shift)), width, signed);
}

/** Store slow path. On failure the hart has trapped (`h.trapped`). */
export function storeSlow(h: Hart, va: number, width: AccessWidth, value: number, epc: number): void {
  if ((va & (width - 1)) !== 0) {
    for (let i = 0; i < width; i++) {
      storeSlow(h, (va + i) | 0, 1, value >>> (8 * i), epc);
      if (h.trapped) return;
    }
    return;
  }
  const pa = translate(h, va, Access.Write, epc);
  if (pa < 0) return;
  const pmp = pmpCheck(h, va, pa, width, Access.Write, epc);
  if (pmp < 0) return;
  const off = h.bus.ramOffsetForWrite(pa);
  if (off < 0 && h.bus.ramOffset(pa) >= 0) {
    raise(h, accessFault(Access.Write), va, epc); // RAM the P2M maps read-only
    return;
  }
  if (off >= 0) {
    const ww = h.writeWatch;
    const watched = ww !== undefined && ww.watch[off >>> 12] !== 0;
    if (pmp > 0 && !watched) fill(h.tlbWTag, h.tlbWAdd, va, off); // watched frames stay on this path (writeWatch.ts)
    const ram = h.bus.ram;
    if (width === 4) ram.i32[off >> 2] = value;
    else if (width === 2) ram.u16[off >> 1] = value;
    else ram.u8[off] = value;
    if (watched) {
      ww.noteWrite(off >>> 12);
      h.codeWritten = true;
    }
    return;
  }
  if (!h.bus.mmioWrite(pa, width, value)) {
    raise(h, accessFault(Access.Write), va, epc);
    return;
  }
  h.endBlock = true; // a device may have changed interrupt state or asked to stop
}

/**
 * Translate for an AMO/LR/SC (always a naturally aligned word, 9.4): returns the RAM word
 * index, or -1 after trapping. AMOs to MMIO raise a store/AMO access fault, as on
 * `virt` where the devices do not support atomics.
 */
export function amoAddress(h: Hart, va: number, isLoad: boolean, epc: number): number {
  const access = isLoad ? Access.Read : Access.Write;
  if ((va & 3) !== 0) return raise(h, misaligned(access), va, epc);
  const pa = translate(h, va, access, epc);
  if (pa < 0 || pmpCheck(h, va, pa, 4, access, epc) < 0) return -1;
  const off = isLoad ? h.bus.ramOffset(pa) : h.bus.ramOffsetForWrite(pa);
  if (off < 0) return raise(h, accessFault(access), va, epc);
  const ww = h.writeWatch;
  if (!isLoad && ww !== undefined && ww.watch[off >>> 12] !== 0) {
    // Noted before the write: the interpreter carries AMOs out, and no translation of
    // this hart runs until it has rechecked the generation.
    ww.noteWrite(off >>> 12);
    h.codeWritten = true;
  }
  return off >> 2;
}

function noFault(_h: Hart, _cause: number, _va: number, _epc: number): number {
  return -1;
}
