/**
 * The out-of-line instructions: Zicsr, the privileged instructions (ECALL, EBREAK, xRET,
 * WFI, SFENCE.VMA) and the A extension. Each returns the next pc; on an exception it has
 * already trapped the hart (`h.trapped`), and the interpreter leaves its block.
 */
import type { Hart } from './hart';
import { Op } from './encodings';
import { counterAccessible, csrRead, csrWrite } from './csr';
import { csrNum, rd, rs1, rs2 } from './decode';
import { amoAddress } from './mmu';
import { Exc, PRV_M, PRV_S, PRV_U } from './trap';
import * as S from './status';

function illegal(h: Hart, insn: number, pc: number): number {
  // mtval holds the faulting instruction bits, as QEMU reports them (priv 3.1.16 allows it).
  h.raiseException(Exc.IllegalInsn, insn, pc);
  return h.pc;
}

/** CSRRW/CSRRS/CSRRC and their immediate forms (Vol. I ch. 7; Vol. II 2.1). */
export function execCsr(h: Hart, op: Op, insn: number, pc: number): number {
  const csr = csrNum(insn);
  const d = rd(insn);
  const src = op >= Op.CSRRWI ? rs1(insn) : h.x[rs1(insn)]!;
  const kind = op >= Op.CSRRWI ? op - Op.CSRRWI : op - Op.CSRRW; // 0 write, 1 set, 2 clear
  // CSRRW with rd=x0 does not read; CSRRS/C with rs1=x0 (uimm=0) do not write (7.1).
  const reads = kind !== 0 || d !== 0;
  const writes = kind === 0 || rs1(insn) !== 0;
  if (((csr >>> 8) & 3) > h.priv) return illegal(h, insn, pc);
  if (writes && csr >>> 10 === 3) return illegal(h, insn, pc);
  if (!counterAccessible(h, csr, h.priv)) return illegal(h, insn, pc);
  if (csr === 0x180 && h.priv === PRV_S && (h.mstatus & S.TVM) !== 0) return illegal(h, insn, pc);
  const old = csrRead(h, csr);
  if (old === undefined) return illegal(h, insn, pc);
  if (writes) {
    const v = kind === 0 ? src : kind === 1 ? old | src : old & ~src;
    csrWrite(h, csr, v);
    h.endBlock = true;
  }
  if (reads && d !== 0) h.x[d] = old;
  return (pc + 4) | 0;
}

/** Instructions that the dispatch key alone cannot decide (decode.ts), all rare. */
export function execResolved(h: Hart, op: Op, insn: number, pc: number): number {
  switch (op) {
    case Op.ECALL:
      h.raiseException(Exc.EcallU + (h.priv === PRV_M ? 3 : h.priv), 0, pc);
      return h.pc;
    case Op.EBREAK:
      h.raiseException(Exc.Breakpoint, 0, pc); // tval 0, as QEMU 7.2 reports it (3.1.16 allows pc or 0)
      return h.pc;
    case Op.MRET:
      return mret(h, insn, pc);
    case Op.SRET:
      return sret(h, insn, pc);
    case Op.WFI:
      // U-mode may not wait; TW=1 forbids it below M (3.1.6.5).
      if (h.priv === PRV_U || (h.priv === PRV_S && (h.mstatus & S.TW) !== 0)) return illegal(h, insn, pc);
      h.wfi = true;
      h.endBlock = true;
      return (pc + 4) | 0;
    case Op.SFENCE_VMA:
      if (h.priv === PRV_U || (h.priv === PRV_S && (h.mstatus & S.TVM) !== 0)) return illegal(h, insn, pc);
      h.flushTlb();
      return (pc + 4) | 0;
    case Op.LR_W:
      return execAmo(h, op, insn, pc);
    default:
      return illegal(h, insn, pc);
  }
}

/** MRET (3.3.2): priv = MPP, MIE = MPIE, MPIE = 1, MPP = U; MPRV cleared when leaving M. */
function mret(h: Hart, insn: number, pc: number): number {
  if (h.priv < PRV_M) return illegal(h, insn, pc);
  const ms = h.mstatus;
  const mpp = (ms & S.MPP) >>> S.MPP_SHIFT;
  let next = (ms & ~(S.MIE | S.MPP)) | ((ms & S.MPIE) >>> 4) | S.MPIE;
  if (mpp !== PRV_M) next &= ~S.MPRV;
  return xret(h, next, mpp, h.mepc);
}

/** SRET (3.3.2, 4.1.1): illegal in U, and in S when TSR=1. */
function sret(h: Hart, insn: number, pc: number): number {
  if (h.priv === PRV_U || (h.priv === PRV_S && (h.mstatus & S.TSR) !== 0)) return illegal(h, insn, pc);
  const ms = h.mstatus;
  const spp = (ms & S.SPP) >>> S.SPP_SHIFT;
  const next = (ms & ~(S.SIE | S.SPP | S.MPRV)) | ((ms & S.SPIE) >>> 4) | S.SPIE;
  return xret(h, next, spp, h.sepc);
}

function xret(h: Hart, mstatus: number, priv: number, epc: number): number {
  h.resAddr = -1; // xRET may clear the LR reservation (3.3.2); QEMU does, so an SC after a trap fails
  h.mstatus = mstatus;
  h.priv = priv;
  h.flushTlb();
  return epc & ~3; // IALIGN=32: xepc[1] reads as zero
}

/** LR.W, SC.W and the AMOs (Vol. I ch. 9). Atomics keep them atomic across vCPU workers. */
export function execAmo(h: Hart, op: Op, insn: number, pc: number): number {
  const x = h.x;
  const va = x[rs1(insn)]!;
  const idx = amoAddress(h, va, op === Op.LR_W, pc);
  if (idx < 0) return h.pc;
  const mem = h.bus.ram.i32;
  const b = x[rs2(insn)]!;
  let old: number;
  switch (op) {
    case Op.LR_W:
      old = Atomics.load(mem, idx);
      h.resAddr = idx;
      h.resValue = old;
      break;
    case Op.SC_W: {
      // Succeeds if the reservation is on this word and it still holds the value LR saw
      // (the same test QEMU makes with a compare-and-swap).
      const ok = h.resAddr === idx && Atomics.compareExchange(mem, idx, h.resValue, b) === h.resValue;
      h.resAddr = -1;
      old = ok ? 0 : 1;
      break;
    }
    case Op.AMOSWAP_W:
      old = Atomics.exchange(mem, idx, b);
      break;
    case Op.AMOADD_W:
      old = Atomics.add(mem, idx, b);
      break;
    case Op.AMOXOR_W:
      old = Atomics.xor(mem, idx, b);
      break;
    case Op.AMOAND_W:
      old = Atomics.and(mem, idx, b);
      break;
    case Op.AMOOR_W:
      old = Atomics.or(mem, idx, b);
      break;
    default:
      old = amoMinMax(mem, idx, b, op);
  }
  const d = rd(insn);
  if (d !== 0) x[d] = old;
  return (pc + 4) | 0;
}

/** AMOMIN/MAX[U] by compare-and-swap; the bound is generous: another hart must win 1000 races in a row. */
function amoMinMax(mem: Int32Array, idx: number, b: number, op: Op): number {
  for (let tries = 0; tries < 1000; tries++) {
    const old = Atomics.load(mem, idx);
    const pick =
      op === Op.AMOMIN_W
        ? old < b
          ? old
          : b
        : op === Op.AMOMAX_W
          ? old > b
            ? old
            : b
          : op === Op.AMOMINU_W
            ? old >>> 0 < b >>> 0
              ? old
              : b
            : old >>> 0 > b >>> 0
              ? old
              : b;
    if (Atomics.compareExchange(mem, idx, old, pick) === old) return old;
  }
  throw new Error('AMO compare-and-swap did not settle after 1000 tries');
}
