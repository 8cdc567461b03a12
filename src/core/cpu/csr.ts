/**
 * Control and status registers (privileged spec 1.12, chapter 2 and sections 3.1, 4.1).
 *
 * `csrRead` / `csrWrite` implement the registers; the CSR instructions (system.ts) do the
 * privilege and read-only checks from the CSR number itself (section 2.1: bits 11:10 say
 * read-only when 11, bits 9:8 give the lowest privilege that may access it).
 */
import type { Hart } from './hart';
import { PRV_M, PRV_S, PRV_U } from './trap';
import * as S from './status';
import { pmpWriteAddr, pmpWriteCfg } from './pmp';

export const CSR = {
  sstatus: 0x100,
  sie: 0x104,
  stvec: 0x105,
  scounteren: 0x106,
  senvcfg: 0x10a,
  sscratch: 0x140,
  sepc: 0x141,
  scause: 0x142,
  stval: 0x143,
  sip: 0x144,
  satp: 0x180,
  mstatus: 0x300,
  misa: 0x301,
  medeleg: 0x302,
  mideleg: 0x303,
  mie: 0x304,
  mtvec: 0x305,
  mcounteren: 0x306,
  menvcfg: 0x30a,
  mstatush: 0x310,
  menvcfgh: 0x31a,
  mcountinhibit: 0x320,
  mscratch: 0x340,
  mepc: 0x341,
  mcause: 0x342,
  mtval: 0x343,
  mip: 0x344,
  pmpcfg0: 0x3a0,
  pmpaddr0: 0x3b0,
  mcycle: 0xb00,
  minstret: 0xb02,
  mcycleh: 0xb80,
  minstreth: 0xb82,
  cycle: 0xc00,
  time: 0xc01,
  instret: 0xc02,
  cycleh: 0xc80,
  timeh: 0xc81,
  instreth: 0xc82,
  mvendorid: 0xf11,
  marchid: 0xf12,
  mimpid: 0xf13,
  mhartid: 0xf14,
  mconfigptr: 0xf15,
} as const;

/** misa: MXL=1 (32-bit) and the extensions A, I, M, S, U (section 3.1.1). */
export const MISA_RV32IMA = (1 << 30) | (1 << 0) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20);

const MIP_SSIP = 1 << 1,
  MIP_STIP = 1 << 5,
  MIP_SEIP = 1 << 9;
/** Interrupts that exist: SSI, MSI, STI, MTI, SEI, MEI. */
const MIE_MASK = 0xaaa;
/** Only supervisor interrupts can be delegated (section 3.1.8). */
const MIDELEG_MASK = MIP_SSIP | MIP_STIP | MIP_SEIP;
/** Exceptions that can be delegated: every cause but ecall from M (3.1.8) and the reserved 10, 14. */
const MEDELEG_MASK = 0xb3ff;
const MIP_WRITABLE = MIP_SSIP | MIP_STIP | MIP_SEIP;
const HI = 0x1_0000_0000;

/** Read a CSR. Returns undefined when it does not exist (an illegal instruction). */
export function csrRead(h: Hart, csr: number): number | undefined {
  switch (csr) {
    case CSR.sstatus:
      return h.mstatus & S.SSTATUS_MASK;
    case CSR.sie:
      return h.mie & h.mideleg;
    case CSR.stvec:
      return h.stvec;
    case CSR.scounteren:
      return h.scounteren;
    case CSR.senvcfg:
      return h.senvcfg;
    case CSR.sscratch:
      return h.sscratch;
    case CSR.sepc:
      return h.sepc & ~3;
    case CSR.scause:
      return h.scause;
    case CSR.stval:
      return h.stval;
    case CSR.sip:
      return h.mip & h.mideleg;
    case CSR.satp:
      return h.satp;
    case CSR.mstatus:
      return h.mstatus;
    case CSR.misa:
      return MISA_RV32IMA;
    case CSR.medeleg:
      return h.medeleg;
    case CSR.mideleg:
      return h.mideleg;
    case CSR.mie:
      return h.mie;
    case CSR.mtvec:
      return h.mtvec;
    case CSR.mcounteren:
      return h.mcounteren;
    case CSR.menvcfg:
      return h.menvcfg;
    case CSR.mstatush:
      return 0; // SBE = MBE = 0: little-endian
    case CSR.menvcfgh:
      return h.menvcfgh;
    case CSR.mcountinhibit:
      return h.mcountinhibit;
    case CSR.mscratch:
      return h.mscratch;
    case CSR.mepc:
      return h.mepc & ~3; // IALIGN=32: bit 1 reads as 0 (3.1.14)
    case CSR.mcause:
      return h.mcause;
    case CSR.mtval:
      return h.mtval;
    case CSR.mip:
      return h.mip;
    case CSR.mcycle:
    case CSR.cycle:
      return counter(h, MCYCLE, 0)[0] | 0;
    case CSR.mcycleh:
    case CSR.cycleh:
      return counter(h, MCYCLE, 0)[1] | 0;
    case CSR.minstret:
    case CSR.instret:
      return counter(h, MINSTRET, 0)[0] | 0;
    case CSR.minstreth:
    case CSR.instreth:
      return counter(h, MINSTRET, 0)[1] | 0;
    case CSR.time:
      return h.hooks.readTimeLo() | 0;
    case CSR.timeh:
      return h.hooks.readTimeHi() | 0;
    case CSR.mvendorid:
    case CSR.marchid:
    case CSR.mimpid:
    case CSR.mconfigptr:
      return 0;
    case CSR.mhartid:
      return h.hartid;
  }
  if (csr >= CSR.pmpcfg0 && csr < CSR.pmpcfg0 + 4) {
    const i = (csr - CSR.pmpcfg0) * 4;
    const c = h.pmpcfg;
    return c[i]! | (c[i + 1]! << 8) | (c[i + 2]! << 16) | (c[i + 3]! << 24);
  }
  if (csr >= CSR.pmpaddr0 && csr < CSR.pmpaddr0 + 16) return h.pmpaddr[csr - CSR.pmpaddr0]!;
  if (isHpm(csr)) return 0; // hpmcounter3..31, mhpmcounter3..31, mhpmevent3..31: hardwired 0
  return undefined;
}

/** Write a CSR that exists and is writable. Returns false when it does not exist. */
export function csrWrite(h: Hart, csr: number, v: number): boolean {
  switch (csr) {
    case CSR.sstatus:
      setMstatus(h, (h.mstatus & ~S.SSTATUS_MASK) | (v & S.SSTATUS_MASK));
      return true;
    case CSR.sie:
      h.mie = (h.mie & ~h.mideleg) | (v & h.mideleg & MIE_MASK);
      return true;
    case CSR.stvec:
      if ((v & 3) < 2) h.stvec = v;
      return true; // modes 2 and 3 are reserved: keep the old value
    case CSR.scounteren:
      h.scounteren = v;
      return true;
    case CSR.senvcfg:
      h.senvcfg = v & 1;
      return true; // FIOM only
    case CSR.sscratch:
      h.sscratch = v;
      return true;
    case CSR.sepc:
      h.sepc = v & ~1;
      return true;
    case CSR.scause:
      h.scause = v;
      return true;
    case CSR.stval:
      h.stval = v;
      return true;
    case CSR.sip:
      h.mipSw = (h.mipSw & ~(h.mideleg & MIP_SSIP)) | (v & h.mideleg & MIP_SSIP);
      return true;
    case CSR.satp:
      // Only Bare (0) and Sv32 (1) exist on RV32, so every value is legal (4.1.11).
      h.satp = v;
      h.flushTlb();
      return true;
    case CSR.mstatus:
      setMstatus(h, v);
      return true;
    case CSR.misa:
      return true; // WARL: the extensions cannot be turned off
    case CSR.medeleg:
      h.medeleg = v & MEDELEG_MASK;
      return true;
    case CSR.mideleg:
      h.mideleg = v & MIDELEG_MASK;
      return true;
    case CSR.mie:
      h.mie = v & MIE_MASK;
      return true;
    case CSR.mtvec:
      if ((v & 3) < 2) h.mtvec = v;
      return true;
    case CSR.mcounteren:
      h.mcounteren = v;
      return true;
    case CSR.menvcfg:
      h.menvcfg = v & 1;
      return true;
    case CSR.mstatush:
      return true;
    case CSR.menvcfgh:
      return true;
    case CSR.mcountinhibit:
      setCountInhibit(h, v & ~2);
      return true; // bit 1 (TM) is hardwired 0
    case CSR.mscratch:
      h.mscratch = v;
      return true;
    case CSR.mepc:
      h.mepc = v & ~1;
      return true;
    case CSR.mcause:
      h.mcause = v;
      return true;
    case CSR.mtval:
      h.mtval = v;
      return true;
    case CSR.mip:
      h.mipSw = (h.mipSw & ~MIP_WRITABLE) | (v & MIP_WRITABLE);
      h.endBlock = true;
      return true;
    case CSR.mcycle:
      writeCounterHalf(h, MCYCLE, false, v);
      return true;
    case CSR.mcycleh:
      writeCounterHalf(h, MCYCLE, true, v);
      return true;
    case CSR.minstret:
      writeCounterHalf(h, MINSTRET, false, v);
      return true;
    case CSR.minstreth:
      writeCounterHalf(h, MINSTRET, true, v);
      return true;
  }
  if (csr >= CSR.pmpcfg0 && csr < CSR.pmpcfg0 + 4) {
    for (let b = 0; b < 4; b++) pmpWriteCfg(h, (csr - CSR.pmpcfg0) * 4 + b, v >>> (8 * b));
    h.flushTlb(); // the TLB only holds pages with one PMP answer
    return true;
  }
  if (csr >= CSR.pmpaddr0 && csr < CSR.pmpaddr0 + 16) {
    pmpWriteAddr(h, csr - CSR.pmpaddr0, v);
    h.flushTlb();
    return true;
  }
  return isHpm(csr);
}

// mcycle and minstret are the retired count plus a 64-bit offset held as two uint32 halves
// (h.counterOffset; a double would lose the low bits past 2^53); while mcountinhibit's CY
// or IR bit is set (3.1.12) the halves hold the counter's value. The retired count itself
// stays a double, exact far beyond any run, so the interpreter's hot path is unchanged.
// A CSR write takes effect after the writing instruction has otherwise completed, its own
// increment included (priv 3.1.10): writes see the count with that instruction retired
// (`extra` = 1), so the value written is what the next instruction reads.
const CY = 1,
  IR = 4;
const MCYCLE = 0,
  MINSTRET = 2;

function inhibited(h: Hart, k: number): boolean {
  return (h.mcountinhibit & (k === MCYCLE ? CY : IR)) !== 0;
}

/** Counter `k` (MCYCLE or MINSTRET) as uint32 halves, with `extra` more instructions retired. */
function counter(h: Hart, k: number, extra: number): [number, number] {
  const off = h.counterOffset;
  if (inhibited(h, k)) return [off[k]!, off[k + 1]!];
  const r = h.retired() + extra;
  const rLo = r % HI;
  const lo = rLo + off[k]!;
  const carry = lo >= HI ? 1 : 0;
  return [lo - carry * HI, ((r - rLo) / HI + off[k + 1]! + carry) >>> 0];
}

/** Make counter `k` read (lo, hi) once `extra` more instructions have retired. */
function setCounter(h: Hart, k: number, lo: number, hi: number, extra: number): void {
  const off = h.counterOffset;
  if (inhibited(h, k)) {
    off[k] = lo;
    off[k + 1] = hi;
    return;
  }
  const r = h.retired() + extra;
  const rLo = r % HI;
  const borrow = lo >>> 0 < rLo ? 1 : 0;
  off[k] = (lo >>> 0) - rLo; // stores into a Uint32Array are modulo 2^32
  off[k + 1] = (hi >>> 0) - (r - rLo) / HI - borrow;
}

/** A CSR write to one half of counter `k`. */
function writeCounterHalf(h: Hart, k: number, high: boolean, v: number): void {
  const [lo, hi] = counter(h, k, 1);
  if (high) setCounter(h, k, lo, v, 1);
  else setCounter(h, k, v, hi, 1);
}

/** The writing instruction counts under the new mcountinhibit (as Spike counts it). */
function setCountInhibit(h: Hart, v: number): void {
  const [cLo, cHi] = counter(h, MCYCLE, 0),
    [iLo, iHi] = counter(h, MINSTRET, 0);
  h.mcountinhibit = v;
  setCounter(h, MCYCLE, cLo, cHi, 0);
  setCounter(h, MINSTRET, iLo, iHi, 0);
}

function setMstatus(h: Hart, v: number): void {
  let next = (h.mstatus & ~S.MSTATUS_WRITABLE) | (v & S.MSTATUS_WRITABLE);
  // MPP is WARL over {U, S, M}: the reserved value 2 leaves the field unchanged.
  if ((next & S.MPP) >>> S.MPP_SHIFT === 2) next = (next & ~S.MPP) | (h.mstatus & S.MPP);
  h.mstatus = next;
  h.flushTlb(); // MPRV, MPP, SUM and MXR all change what a translation allows
}

/** hpmcounter3..31(h), mhpmcounter3..31(h), mhpmevent3..31. */
function isHpm(csr: number): boolean {
  const n = csr & 0x1f;
  if (n < 3) return false;
  const base = csr & ~0x1f;
  return base === 0xc00 || base === 0xc80 || base === 0xb00 || base === 0xb80 || base === 0x320;
}

/**
 * Whether the counter CSR `csr` (cycle, time, instret, hpmcounterN and their high halves)
 * may be read at privilege `priv` (mcounteren / scounteren, sections 3.1.11 and 4.1.5).
 */
export function counterAccessible(h: Hart, csr: number, priv: number): boolean {
  if ((csr & ~0x9f) !== 0xc00 || priv === PRV_M) return true;
  const bit = 1 << (csr & 0x1f);
  if ((h.mcounteren & bit) === 0) return false;
  return priv === PRV_S || (priv === PRV_U && (h.scounteren & bit) !== 0);
}
