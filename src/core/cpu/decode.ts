/**
 * Decoding, built from the declarative table in encodings.ts.
 *
 * The interpreter looks an instruction up in a dense dispatch table indexed by a 17-bit
 * key made of the fields that select an RV32 operation: opcode (bits 6:0), funct3
 * (14:12) and funct7 (31:25). Built once at start-up by expanding every row over the key
 * bits its mask leaves free (Spike builds its opcode map the same way). A key that more
 * than one row claims, or whose row also constrains bits outside the key (ecall, sret,
 * lr.w's rs2...), maps to Op.RESOLVE and is decided by `resolve()`, which matches the
 * full word against the table. Only privileged instructions and lr.w take that path.
 */
import { ENCODINGS, Op, type Encoding } from './encodings';

/** Instruction bits that form the dispatch key. */
export const KEY_BITS = 0xfe00_707f | 0;

/** The dispatch key of an instruction word. Keep in step with KEY_BITS. */
export function dispatchKey(insn: number): number {
  return (insn & 0x7f) | ((insn >>> 5) & 0x380) | ((insn >>> 15) & 0x1fc00);
}

/**
 * Fill the table row by row: each row claims the keys that agree with its fixed key bits,
 * enumerated as the subsets of its free key bits (sum over rows of 2^free, about 10^4
 * stores, where testing every row against every key was 10^7 steps at start-up).
 */
export function buildDispatch(rows: readonly Encoding[]): Uint8Array {
  const table = new Uint8Array(1 << 17);
  const claims = new Uint8Array(1 << 17);
  for (const r of rows) {
    const fixed = dispatchKey(r.match & r.mask);
    const free = ~dispatchKey(r.mask) & 0x1ffff;
    const op = (r.mask & ~KEY_BITS) !== 0 ? Op.RESOLVE : r.op; // constrains bits the key lacks
    let sub = 0;
    do {
      const key = fixed | sub;
      const earlier = claims[key]!;
      claims[key] = earlier + 1;
      table[key] = earlier === 0 ? op : Op.RESOLVE;
      sub = (sub - free) & free; // next subset of the free bits
    } while (sub !== 0);
  }
  return table; // unclaimed keys stay 0, Op.ILLEGAL
}

/** Dispatch table: key -> Op. */
export const DISPATCH: Uint8Array = buildDispatch(ENCODINGS);

/** The row an instruction word matches, or undefined if it is not a valid encoding. */
export function findEncoding(insn: number): Encoding | undefined {
  for (const r of ENCODINGS) if ((insn & r.mask) === r.match) return r;
  return undefined;
}

/** Words resolve() has matched: a kernel runs the same few (sret, wfi, sfence.vma...) again and again. */
const resolved = new Map<number, Op>();
/** Bounds the cache, so that a guest executing random words cannot grow it without end. */
const RESOLVED_MAX = 4096;

/** Full decode for keys the dispatch table leaves open (slow path). */
export function resolve(insn: number): Op {
  let op = resolved.get(insn);
  if (op === undefined) {
    op = findEncoding(insn)?.op ?? Op.ILLEGAL;
    if (resolved.size < RESOLVED_MAX) resolved.set(insn, op);
  }
  return op;
}

/** Decode one word to its Op (what the interpreter does, as a function for tests and tools). */
export function decodeOp(insn: number): Op {
  const op = DISPATCH[dispatchKey(insn)] as Op;
  return op === Op.RESOLVE ? resolve(insn) : op;
}

// Operand fields and immediates (Vol. I section 2.3, "Immediate Encoding Variants").
export const rd = (i: number): number => (i >>> 7) & 31;
export const rs1 = (i: number): number => (i >>> 15) & 31;
export const rs2 = (i: number): number => (i >>> 20) & 31;
export const immI = (i: number): number => i >> 20;
export const immS = (i: number): number => ((i >> 20) & ~31) | ((i >>> 7) & 31);
export const immB = (i: number): number => ((i >> 31) << 12) | ((i << 4) & 0x800) | ((i >>> 20) & 0x7e0) | ((i >>> 7) & 0x1e);
export const immU = (i: number): number => i & 0xffff_f000;
export const immJ = (i: number): number => ((i >> 31) << 20) | (i & 0xff000) | ((i >>> 9) & 0x800) | ((i >>> 20) & 0x7fe);
export const csrNum = (i: number): number => i >>> 20;
