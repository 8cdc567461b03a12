/**
 * The interpreter's hot loop: execute up to `budget` instructions of one hart.
 *
 * Kept monomorphic and allocation-free: registers in an Int32Array, memory through
 * typed-array views, an inline TLB hit check for fetch, load and store (a tag compare
 * that also rejects misaligned addresses, as TinyEMU does), and everything rare out of
 * line: TLB misses, MMIO, CSRs, AMOs and privileged instructions. Returns the number of
 * instructions executed; the block ends early when a slow path sets `h.endBlock`.
 *
 * Case labels are the literal Op numbers of encodings.ts with the name beside them: a
 * switch over literals becomes a jump table in every host (bundled, Vite's dev server,
 * vitest), where `case Op.ADD` is a chain of property loads unless a bundler inlines it.
 * interp.test.ts checks every label against the enum.
 *
 * Every value a call hands back into `pc` or a register is coerced with `| 0`, and taken
 * branches compute their target here from a small offset. Chromium's V8 keeps small
 * integers in 31 bits, so an untyped call result merged into `pc` (about 0x8000_0000 in
 * RAM) made the compiler keep `pc` as a heap object: one allocation per instruction,
 * 30-60% of the time in garbage collection (docs/bench.md, "Linux in Chromium").
 */
import type { Hart } from './hart';
import { DISPATCH, immB, resolve } from './decode';
import { fetchSlow, loadSlow, storeSlow, TLB_MASK } from './mmu';
import { execAmo, execCsr, execResolved } from './system';
import { Exc } from './trap';

// Tag masks: the page bits plus the bits that must be zero for an aligned access.
const PAGE = 0xffff_f000 | 0;
const PAGE_H = 0xffff_f001 | 0;
const PAGE_W = 0xffff_f003 | 0;

export function execBlock(h: Hart, budget: number): number {
  const x = h.x;
  const { u8, i8, u16, i16, i32 } = h.bus.ram;
  const rTag = h.tlbRTag,
    rAdd = h.tlbRAdd,
    wTag = h.tlbWTag,
    wAdd = h.tlbWAdd;
  const dispatch = DISPATCH;
  const tlbMask = TLB_MASK; // a local: module bindings can cost a lookup per use in some hosts
  let pc = h.pc | 0;
  let codePage = -1; // virtual page of pc whose RAM offset is cached in codeAdd
  let codeAdd = 0;
  let n = 0;
  h.trapped = false;
  h.endBlock = false;

  loop: while (n < budget) {
    if ((pc & PAGE) !== codePage) {
      if (codePage !== -1 && h.pageExit) break; // the translation tier profiles cold code page by page
      const i = (pc >>> 12) & tlbMask;
      if (h.tlbXTag[i] === (pc & PAGE_W)) {
        codeAdd = h.tlbXAdd[i]!;
      } else {
        n++;
        const off = fetchSlow(h, pc) | 0;
        if (off < 0) {
          pc = h.pc | 0;
          break;
        }
        codeAdd = (off - pc) | 0;
        n--;
      }
      codePage = pc & PAGE;
    }
    const insn = i32[(pc + codeAdd) >> 2]!;
    n++;
    const rd = (insn >>> 7) & 31;
    const rs1 = (insn >>> 15) & 31;
    const rs2 = (insn >>> 20) & 31;

    const op = dispatch[(insn & 0x7f) | ((insn >>> 5) & 0x380) | ((insn >>> 15) & 0x1fc00)]!;
    switch (op) {
      case 2 /* LUI */:
        x[rd] = insn & 0xffff_f000;
        pc = (pc + 4) | 0;
        break;
      case 3 /* AUIPC */:
        x[rd] = pc + (insn & 0xffff_f000);
        pc = (pc + 4) | 0;
        break;
      case 4 /* JAL */: {
        const t = (pc + (((insn >> 31) << 20) | (insn & 0xff000) | ((insn >>> 9) & 0x800) | ((insn >>> 20) & 0x7fe))) | 0;
        if ((t & 3) !== 0) {
          pc = misaligned(h, t, pc);
          break loop;
        }
        x[rd] = pc + 4;
        pc = t;
        break;
      }
      case 5 /* JALR */: {
        const t = (x[rs1]! + (insn >> 20)) & ~1;
        if ((t & 3) !== 0) {
          pc = misaligned(h, t, pc);
          break loop;
        }
        x[rd] = pc + 4;
        pc = t;
        break;
      }
      case 6 /* BEQ */:
        if (x[rs1] === x[rs2]) {
          const t = (pc + immB(insn)) | 0;
          if ((t & 3) !== 0) {
            pc = misaligned(h, t, pc);
            break loop;
          }
          pc = t;
        } else pc = (pc + 4) | 0;
        break;
      case 7 /* BNE */:
        if (x[rs1] !== x[rs2]) {
          const t = (pc + immB(insn)) | 0;
          if ((t & 3) !== 0) {
            pc = misaligned(h, t, pc);
            break loop;
          }
          pc = t;
        } else pc = (pc + 4) | 0;
        break;
      case 8 /* BLT */:
        if (x[rs1]! < x[rs2]!) {
          const t = (pc + immB(insn)) | 0;
          if ((t & 3) !== 0) {
            pc = misaligned(h, t, pc);
            break loop;
          }
          pc = t;
        } else pc = (pc + 4) | 0;
        break;
      case 9 /* BGE */:
        if (x[rs1]! >= x[rs2]!) {
          const t = (pc + immB(insn)) | 0;
          if ((t & 3) !== 0) {
            pc = misaligned(h, t, pc);
            break loop;
          }
          pc = t;
        } else pc = (pc + 4) | 0;
        break;
      case 10 /* BLTU */:
        if (x[rs1]! >>> 0 < x[rs2]! >>> 0) {
          const t = (pc + immB(insn)) | 0;
          if ((t & 3) !== 0) {
            pc = misaligned(h, t, pc);
            break loop;
          }
          pc = t;
        } else pc = (pc + 4) | 0;
        break;
      case 11 /* BGEU */:
        if (x[rs1]! >>> 0 >= x[rs2]! >>> 0) {
          const t = (pc + immB(insn)) | 0;
          if ((t & 3) !== 0) {
            pc = misaligned(h, t, pc);
            break loop;
          }
          pc = t;
        } else pc = (pc + 4) | 0;
        break;

      case 12 /* LB */: {
        const a = (x[rs1]! + (insn >> 20)) | 0;
        const i = (a >>> 12) & tlbMask;
        const v = rTag[i] === (a & PAGE) ? i8[(a + rAdd[i]!) | 0]! : loadSlow(h, a, 1, true, pc) | 0;
        if (h.endBlock) {
          pc = loadEnd(h, rd, v, pc);
          break loop;
        }
        x[rd] = v;
        pc = (pc + 4) | 0;
        break;
      }
      case 13 /* LH */: {
        const a = (x[rs1]! + (insn >> 20)) | 0;
        const i = (a >>> 12) & tlbMask;
        const v = rTag[i] === (a & PAGE_H) ? i16[((a + rAdd[i]!) | 0) >> 1]! : loadSlow(h, a, 2, true, pc) | 0;
        if (h.endBlock) {
          pc = loadEnd(h, rd, v, pc);
          break loop;
        }
        x[rd] = v;
        pc = (pc + 4) | 0;
        break;
      }
      case 14 /* LW */: {
        const a = (x[rs1]! + (insn >> 20)) | 0;
        const i = (a >>> 12) & tlbMask;
        const v = rTag[i] === (a & PAGE_W) ? i32[((a + rAdd[i]!) | 0) >> 2]! : loadSlow(h, a, 4, true, pc) | 0;
        if (h.endBlock) {
          pc = loadEnd(h, rd, v, pc);
          break loop;
        }
        x[rd] = v;
        pc = (pc + 4) | 0;
        break;
      }
      case 15 /* LBU */: {
        const a = (x[rs1]! + (insn >> 20)) | 0;
        const i = (a >>> 12) & tlbMask;
        const v = rTag[i] === (a & PAGE) ? u8[(a + rAdd[i]!) | 0]! : loadSlow(h, a, 1, false, pc) | 0;
        if (h.endBlock) {
          pc = loadEnd(h, rd, v, pc);
          break loop;
        }
        x[rd] = v;
        pc = (pc + 4) | 0;
        break;
      }
      case 16 /* LHU */: {
        const a = (x[rs1]! + (insn >> 20)) | 0;
        const i = (a >>> 12) & tlbMask;
        const v = rTag[i] === (a & PAGE_H) ? u16[((a + rAdd[i]!) | 0) >> 1]! : loadSlow(h, a, 2, false, pc) | 0;
        if (h.endBlock) {
          pc = loadEnd(h, rd, v, pc);
          break loop;
        }
        x[rd] = v;
        pc = (pc + 4) | 0;
        break;
      }
      case 17 /* SB */: {
        const a = (x[rs1]! + (((insn >> 20) & ~31) | rd)) | 0;
        const i = (a >>> 12) & tlbMask;
        if (wTag[i] === (a & PAGE)) u8[(a + wAdd[i]!) | 0] = x[rs2]!;
        else {
          storeSlow(h, a, 1, x[rs2]!, pc);
          if (h.endBlock) {
            pc = h.trapped ? h.pc | 0 : (pc + 4) | 0;
            break loop;
          }
        }
        pc = (pc + 4) | 0;
        break;
      }
      case 18 /* SH */: {
        const a = (x[rs1]! + (((insn >> 20) & ~31) | rd)) | 0;
        const i = (a >>> 12) & tlbMask;
        if (wTag[i] === (a & PAGE_H)) u16[((a + wAdd[i]!) | 0) >> 1] = x[rs2]!;
        else {
          storeSlow(h, a, 2, x[rs2]!, pc);
          if (h.endBlock) {
            pc = h.trapped ? h.pc | 0 : (pc + 4) | 0;
            break loop;
          }
        }
        pc = (pc + 4) | 0;
        break;
      }
      case 19 /* SW */: {
        const a = (x[rs1]! + (((insn >> 20) & ~31) | rd)) | 0;
        const i = (a >>> 12) & tlbMask;
        if (wTag[i] === (a & PAGE_W)) i32[((a + wAdd[i]!) | 0) >> 2] = x[rs2]!;
        else {
          storeSlow(h, a, 4, x[rs2]!, pc);
          if (h.endBlock) {
            pc = h.trapped ? h.pc | 0 : (pc + 4) | 0;
            break loop;
          }
        }
        pc = (pc + 4) | 0;
        break;
      }

      case 20 /* ADDI */:
        x[rd] = x[rs1]! + (insn >> 20);
        pc = (pc + 4) | 0;
        break;
      case 21 /* SLTI */:
        x[rd] = x[rs1]! < insn >> 20 ? 1 : 0;
        pc = (pc + 4) | 0;
        break;
      case 22 /* SLTIU */:
        x[rd] = x[rs1]! >>> 0 < (insn >> 20) >>> 0 ? 1 : 0;
        pc = (pc + 4) | 0;
        break;
      case 23 /* XORI */:
        x[rd] = x[rs1]! ^ (insn >> 20);
        pc = (pc + 4) | 0;
        break;
      case 24 /* ORI */:
        x[rd] = x[rs1]! | (insn >> 20);
        pc = (pc + 4) | 0;
        break;
      case 25 /* ANDI */:
        x[rd] = x[rs1]! & (insn >> 20);
        pc = (pc + 4) | 0;
        break;
      case 26 /* SLLI */:
        x[rd] = x[rs1]! << rs2;
        pc = (pc + 4) | 0;
        break;
      case 27 /* SRLI */:
        x[rd] = x[rs1]! >>> rs2;
        pc = (pc + 4) | 0;
        break;
      case 28 /* SRAI */:
        x[rd] = x[rs1]! >> rs2;
        pc = (pc + 4) | 0;
        break;

      case 29 /* ADD */:
        x[rd] = x[rs1]! + x[rs2]!;
        pc = (pc + 4) | 0;
        break;
      case 30 /* SUB */:
        x[rd] = x[rs1]! - x[rs2]!;
        pc = (pc + 4) | 0;
        break;
      case 31 /* SLL */:
        x[rd] = x[rs1]! << x[rs2]!;
        pc = (pc + 4) | 0;
        break; // JS shifts use the low 5 bits, as RV32 does
      case 32 /* SLT */:
        x[rd] = x[rs1]! < x[rs2]! ? 1 : 0;
        pc = (pc + 4) | 0;
        break;
      case 33 /* SLTU */:
        x[rd] = x[rs1]! >>> 0 < x[rs2]! >>> 0 ? 1 : 0;
        pc = (pc + 4) | 0;
        break;
      case 34 /* XOR */:
        x[rd] = x[rs1]! ^ x[rs2]!;
        pc = (pc + 4) | 0;
        break;
      case 35 /* SRL */:
        x[rd] = x[rs1]! >>> x[rs2]!;
        pc = (pc + 4) | 0;
        break;
      case 36 /* SRA */:
        x[rd] = x[rs1]! >> x[rs2]!;
        pc = (pc + 4) | 0;
        break;
      case 37 /* OR */:
        x[rd] = x[rs1]! | x[rs2]!;
        pc = (pc + 4) | 0;
        break;
      case 38 /* AND */:
        x[rd] = x[rs1]! & x[rs2]!;
        pc = (pc + 4) | 0;
        break;

      case 49 /* MUL */:
        x[rd] = Math.imul(x[rs1]!, x[rs2]!);
        pc = (pc + 4) | 0;
        break;
      case 50 /* MULH */:
        x[rd] = mulh(x[rs1]!, x[rs2]!);
        pc = (pc + 4) | 0;
        break;
      case 51 /* MULHSU */:
        x[rd] = mulhsu(x[rs1]!, x[rs2]!);
        pc = (pc + 4) | 0;
        break;
      case 52 /* MULHU */:
        x[rd] = mulhu(x[rs1]!, x[rs2]!);
        pc = (pc + 4) | 0;
        break;
      case 53 /* DIV */: {
        // division by zero gives -1, overflow gives the dividend (Vol. I 8.2)
        const a = x[rs1]!,
          b = x[rs2]!;
        x[rd] = b === 0 ? -1 : a === -0x8000_0000 && b === -1 ? a : (a / b) | 0;
        pc = (pc + 4) | 0;
        break;
      }
      case 54 /* DIVU */: {
        const a = x[rs1]! >>> 0,
          b = x[rs2]! >>> 0;
        x[rd] = b === 0 ? -1 : (a / b) | 0;
        pc = (pc + 4) | 0;
        break;
      }
      case 55 /* REM */: {
        const a = x[rs1]!,
          b = x[rs2]!;
        x[rd] = b === 0 ? a : a === -0x8000_0000 && b === -1 ? 0 : a % b;
        pc = (pc + 4) | 0;
        break;
      }
      case 56 /* REMU */: {
        const a = x[rs1]! >>> 0,
          b = x[rs2]! >>> 0;
        x[rd] = b === 0 ? a : a % b;
        pc = (pc + 4) | 0;
        break;
      }

      case 39 /* FENCE */:
        pc = (pc + 4) | 0;
        break; // one hart, sequentially consistent memory
      case 42 /* FENCE_I */:
        if (h.jit !== undefined) h.jit.fenceI(); // translations are the only instruction cache
        pc = (pc + 4) | 0;
        break;

      case 43 /* CSRRW */:
      case 44 /* CSRRS */:
      case 45 /* CSRRC */:
      case 46 /* CSRRWI */:
      case 47 /* CSRRSI */:
      case 48 /* CSRRCI */:
        h.blockRetired = h.retiredBefore + n - 1;
        pc = execCsr(h, op, insn, pc) | 0;
        h.blockRetired = 0;
        if (h.endBlock) break loop;
        break;

      case 58 /* SC_W */:
      case 59 /* AMOSWAP_W */:
      case 60 /* AMOADD_W */:
      case 61 /* AMOXOR_W */:
      case 62 /* AMOAND_W */:
      case 63 /* AMOOR_W */:
      case 64 /* AMOMIN_W */:
      case 65 /* AMOMAX_W */:
      case 66 /* AMOMINU_W */:
      case 67 /* AMOMAXU_W */:
        pc = execAmo(h, op, insn, pc) | 0;
        if (h.endBlock) break loop;
        break;

      case 1 /* RESOLVE */:
        pc = execResolved(h, resolve(insn), insn, pc) | 0;
        if (h.endBlock) break loop;
        break;

      default: // 0, ILLEGAL
        h.raiseException(Exc.IllegalInsn, insn, pc);
        pc = h.pc | 0;
        break loop;
    }
    x[0] = 0;
  }
  x[0] = 0;
  h.pc = pc;
  h.instret += n;
  return n;
}

/**
 * A load whose slow path ended the block: it trapped (pc is the trap vector), or a device
 * read changed interrupt state, and the load completes first. Every slow path that sets
 * `endBlock` ends the block at that instruction, so any split of a block into pieces
 * (the translation tier's) stops where the whole block would.
 */
function loadEnd(h: Hart, rd: number, v: number, pc: number): number {
  if (h.trapped) return h.pc | 0;
  if (rd !== 0) h.x[rd] = v;
  return (pc + 4) | 0;
}

/** A jump or taken branch to a target that is not 4-byte aligned traps (no C extension). */
function misaligned(h: Hart, target: number, pc: number): number {
  h.raiseException(Exc.InsnMisaligned, target, pc);
  return h.pc | 0;
}

/** High 32 bits of the unsigned 64-bit product, from 16-bit limbs (every partial sum < 2^53). */
export function mulhu(a: number, b: number): number {
  const al = a & 0xffff,
    ah = a >>> 16,
    bl = b & 0xffff,
    bh = b >>> 16;
  const lh = al * bh,
    hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 65536)) | 0;
}

/** Signed x signed: correct the unsigned product for negative operands (mod 2^32). */
export function mulh(a: number, b: number): number {
  return (mulhu(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
}

/** Signed x unsigned. */
export function mulhsu(a: number, b: number): number {
  return (mulhu(a, b) - (a < 0 ? b : 0)) | 0;
}
