/**
 * The translator: guest code of one 4 KiB page, from an entry point, into one JavaScript
 * function (docs/jit.md says why JavaScript and not WebAssembly).
 *
 * Shape (jspspemu's, see the reference notes): the blocks reachable from the entry by
 * direct branches that stay in the page become the cases of a `switch` inside a loop, so a
 * loop in the guest is a loop in the host and a direct branch to another block of the page
 * is a jump inside the function (the chaining). Guest registers the blocks use are copied
 * into locals on entry and written back on every exit; before any slow path that could
 * trap (and so enter firmware that reads the registers) the written ones are stored first.
 *
 * Exactness with the interpreter (interp.ts is the reference):
 * - Every block starts by checking that its whole length fits in what is left of the
 *   budget, and leaves otherwise, so the interpreter finishes the budget exactly.
 * - Loads and stores make the interpreter's inline TLB check and call its slow paths with
 *   the same arguments; an instruction whose slow path sets `endBlock` ends the run, as it
 *   ends the interpreter's block. A store that wrote a watched frame (`codeWritten`)
 *   leaves too, so a translation of that page is rechecked before its next instruction.
 * - Instructions the interpreter handles out of line (CSRs, AMOs, ECALL, xRET, WFI,
 *   SFENCE.VMA, FENCE.I, illegal words) are not translated: a block stops before them and
 *   the interpreter runs them.
 * - The code does not depend on the virtual address: the page's virtual base is an argument
 *   (`vb`), so one translation serves the page wherever it is mapped, and it does not
 *   depend on the privilege level (permissions come from the TLB and the slow paths).
 */
import type { Hart } from '../hart';
import { DISPATCH, immB } from '../decode';
import { TLB_MASK } from '../mmu';
import { mulh, mulhsu, mulhu } from '../interp';

/**
 * The generated function: runs at most `budget` instructions of the page whose virtual page
 * number is `vpn`, returns how many it ran. (The page number and not its address: V8 keeps
 * integers in 31 bits, and an address near 0x8000_0000 passed as an argument is a heap
 * number allocated per call.)
 */
export type TranslatedFn = (h: Hart, budget: number, vpn: number) => number;

export interface TranslationSource {
  /** Page offsets (bytes) of the instructions translated, and their words when read. */
  offsets: number[];
  words: number[];
  /** The JavaScript source of the function body (for the inspector and tests). */
  code: string;
  /** Its exit table: [page offset, instructions counted but not run, instructions for the interpreter] per exit. */
  exits: string;
  /** Instructions the translation counts before its first budget check (what the dispatcher needs of the budget). */
  entryLength: number;
  /** Basic blocks on the trace kept inside the translation (forward branches onto it, plus one). */
  blocks: number;
  /**
   * Per exit: the page offset it goes to if another translation may follow it directly
   * (a direct branch or jump, or a budget check, to an aligned offset in this page), else -1
   * (out of the page, to the interpreter). The dispatcher chains on these (engine.ts).
   */
  chain: number[];
}

/** Bound on the instructions of one trace (a page holds 1024). */
export const MAX_INSNS = 128;

const enum Kind {
  Plain, // falls through
  Branch, // conditional: the trace follows the not-taken path
  Jal, // direct jump: the trace follows it if the target is in the page
  Jalr, // indirect jump: the trace ends
  Stop, // not translated: the trace ends before it
}

function opOf(insn: number): number {
  return DISPATCH[(insn & 0x7f) | ((insn >>> 5) & 0x380) | ((insn >>> 15) & 0x1fc00)]!;
}

function kindOf(op: number): Kind {
  if (op >= 2 && op <= 38) {
    if (op === 4) return Kind.Jal;
    if (op === 5) return Kind.Jalr;
    if (op >= 6 && op <= 11) return Kind.Branch;
    return Kind.Plain;
  }
  if (op === 39) return Kind.Plain; // FENCE
  if (op >= 49 && op <= 56) return Kind.Plain; // M extension
  return Kind.Stop;
}

const jalOffset = (insn: number): number => ((insn >> 31) << 20) | (insn & 0xff000) | ((insn >>> 9) & 0x800) | ((insn >>> 20) & 0x7fe);

/**
 * The trace from `entry` (page offset) in the page at RAM offset `page`: the path that
 * follows not-taken branches and direct jumps within the page, up to an indirect jump, an
 * untranslated instruction, the page's end, an instruction already on the trace, or
 * MAX_INSNS. Returns the page offsets of its instructions and where it goes after the last.
 */
function trace(i32: Int32Array, page: number, entry: number): { offs: number[]; next: number } {
  const offs: number[] = [];
  const seen = new Set<number>();
  let off = entry;
  while (off < 4096 && offs.length < MAX_INSNS && !seen.has(off)) {
    const insn = i32[(page + off) >> 2]!;
    const k = kindOf(opOf(insn));
    if (k === Kind.Stop) break;
    offs.push(off);
    seen.add(off);
    if (k === Kind.Jalr) return { offs, next: -1 };
    if (k === Kind.Jal) {
      const t = off + jalOffset(insn);
      if (t < 0 || t >= 4096 || (t & 3) !== 0) return { offs, next: -1 };
      off = t;
    } else off += 4;
  }
  return { offs, next: off };
}

const R = (r: number): string => (r === 0 ? '0' : `r${r}`);

/**
 * Build the source of the translation of the code at page offset `entry` of the page at
 * RAM byte offset `page`. Returns undefined if the entry instruction itself is not translated.
 *
 * The function is one loop: a branch back to the entry continues it (the loops of hot
 * code), any other taken branch leaves. Straight traces and not `switch`es over many
 * blocks: V8's optimizing compiler took about 200 ms per function of the larger shape.
 */
export function translateSource(i32: Int32Array, page: number, entry: number): TranslationSource | undefined {
  const { offs, next } = trace(i32, page, entry);
  const L = offs.length;
  if (L === 0) return undefined;
  const words = offs.map((o) => i32[(page + o) >> 2]!);
  const used = new Set<number>();
  const written = new Set<number>();
  for (const insn of words) {
    const op = opOf(insn);
    const k = kindOf(op);
    if (op > 4 && op !== 39) used.add((insn >>> 15) & 31); // all but LUI, AUIPC, JAL, FENCE read rs1
    // rs2: branches, stores, register-register ALU and M
    if (k === Kind.Branch || (op >= 17 && op <= 19) || (op >= 29 && op <= 38) || op >= 49) used.add((insn >>> 20) & 31);
    if (k !== Kind.Branch && !(op >= 17 && op <= 19) && op !== 39) {
      const rd = (insn >>> 7) & 31;
      used.add(rd);
      written.add(rd);
    }
  }
  used.delete(0);
  written.delete(0);
  const regs = [...used].sort((a, b) => a - b);
  const wregs = [...written].sort((a, b) => a - b);
  const spill = wregs.map((r) => `x[${r}] = r${r};`).join(' ');
  const out: string[] = [];
  const at = (off: number): string => `(vb + ${off}) | 0`;
  // The loop: the trace ended at an instruction already on it (index K), so the instructions
  // from K on are the body of the function's loop and the ones before are a prefix run once.
  // The budget is checked once for the prefix and once per loop iteration; `n` counts a whole
  // segment up front and an exit subtracts what it did not run of its segment.
  // The head: the target of the first backward branch or jump onto the trace (the innermost
  // loop, usually), else where the trace ended if that is on it.
  let K = next >= 0 ? Math.max(0, offs.indexOf(next)) : 0;
  for (let j = 0; j < L; j++) {
    const insn = words[j]!;
    const k = kindOf(opOf(insn));
    const target = k === Kind.Branch ? offs[j]! + immB(insn) : k === Kind.Jal ? offs[j]! + jalOffset(insn) : -1;
    const at = target >= 0 ? offs.indexOf(target) : -1;
    if (at >= 0 && at <= j) {
      K = at;
      break;
    }
  }
  const segEnd = (j: number): number => (j < K ? K : L);
  // Forward branches onto the trace (if-then shapes: a branch over a few instructions to a
  // later one of the trace): the skipped instructions become the `else` of the branch, so
  // the taken path stays inside the translation. Accepted when properly nested, and not
  // across the start of the loop.
  const skipTo = new Map<number, number>(); // branch index -> index of its target on the trace
  const closeAt = new Array<number>(L + 1).fill(0);
  const regions: [number, number][] = [];
  words.forEach((insn, j) => {
    if (kindOf(opOf(insn)) !== Kind.Branch) return;
    const t = offs.indexOf(offs[j]! + immB(insn));
    if (t <= j) return;
    if (j < K && t > K) return;
    if (regions.some(([a, b]) => a < j && j < b && t > b)) return;
    skipTo.set(j, t);
    if (t === j + 1) return; // a branch to the next instruction: nothing to skip
    regions.push([j, t]);
    closeAt[t]!++;
  });
  // Exits are numbered; the shared tail after the loop reads where to (page offset), how many
  // of the counted instructions did not run, and how many the interpreter must run next.
  // An exit is then a constant store and a break: no arithmetic in code that rarely runs,
  // which the host's optimizer would compile without type feedback and throw away later.
  const exits: number[] = [entry, 0, 0]; // exit 0: the budget check at the top, back to the entry
  const exitTo = (off: number, less: number, slow: number): string => {
    exits.push(off, less, slow);
    return `{ ex = ${exits.length / 3 - 1}; break out; }`;
  };
  const head = offs[K]!;
  // After instruction j, go to page offset `target`: back to the entry (`continue out`), to
  // the loop's head from its body (`continue body`), else leave.
  const goTo = (target: number, j: number): string => {
    const less = segEnd(j) - j - 1;
    const adjust = less > 0 ? `n -= ${less}; ` : '';
    if (target === entry) return `{ ${adjust}continue out; }`;
    if (target === head && j >= K) return `{ ${adjust}continue body; }`;
    return exitTo(target, less, 0);
  };

  // `out` loops back to the entry; with a loop head inside the trace, `body` loops back to it.
  out.push('out: for (;;) {', `if (n + ${K > 0 ? K : L} > budget) { ex = 0; break out; } n += ${K > 0 ? K : L};`);
  words.forEach((insn, j) => {
    const op = opOf(insn);
    const off = offs[j]!;
    if (closeAt[j]! > 0) out.push('}'.repeat(closeAt[j]!));
    if (j === K && K > 0) out.push('body: for (;;) {', `if (n + ${L - K} > budget) ${exitTo(head, 0, 0)} n += ${L - K};`);
    const rd = (insn >>> 7) & 31;
    const s1 = R((insn >>> 15) & 31);
    const s2 = R((insn >>> 20) & 31);
    const imm = insn >> 20;
    const sh = (insn >>> 20) & 31;
    const set = (e: string): void => {
      if (rd !== 0) out.push(`r${rd} = ${e};`);
    };
    // Leave before this instruction; the interpreter runs it and the next few.
    const toInterp = (): string => exitTo(off, segEnd(j) - j, 1);
    const load = (tagMask: number, view: string, shift: number): void => {
      out.push(
        `{ const a = (${s1} + ${imm}) | 0; const i = (a >>> 12) & ${TLB_MASK};`,
        `if (rTag[i] !== (a & ${tagMask})) ${toInterp()}`,
        rd !== 0 ? `r${rd} = ${view}[((a + rAdd[i]) | 0) >> ${shift}]; }` : '}',
      );
    };
    const store = (tagMask: number, view: string, shift: number): void => {
      const simm = ((insn >> 20) & ~31) | rd;
      out.push(
        `{ const a = (${s1} + ${simm}) | 0; const i = (a >>> 12) & ${TLB_MASK};`,
        `if (wTag[i] !== (a & ${tagMask})) ${toInterp()}`,
        `${view}[((a + wAdd[i]) | 0) >> ${shift}] = ${s2}; }`,
      );
    };
    const branch = (cond: string): void => {
      const t = off + immB(insn);
      const to = skipTo.get(j);
      if (to !== undefined) {
        out.push(to === j + 1 ? `` : `if (${cond}) { n -= ${to - j - 1}; } else {`);
        return;
      }
      // A misaligned target: the interpreter raises the trap.
      out.push(`if (${cond}) ${(t & 3) !== 0 ? toInterp() : t >= 0 && t < 4096 ? goTo(t, j) : exitTo(t, segEnd(j) - j - 1, 0)}`);
    };
    switch (op) {
      case 2 /* LUI */:
        set(`${insn & 0xffff_f000}`);
        break;
      case 3 /* AUIPC */:
        set(`(vb + ${off + (insn & 0xffff_f000)}) | 0`);
        break;
      case 4 /* JAL */: {
        const t = off + jalOffset(insn);
        if ((t & 3) !== 0) out.push(toInterp());
        else if (j === L - 1 && next === t) {
          set(at(off + 4)); // the loop's back edge, below
        } else {
          set(at(off + 4));
          if (j === L - 1 || offs[j + 1] !== t) out.push(goTo(t, j)); // else the trace follows the jump
        }
        break;
      }
      case 5 /* JALR */:
        out.push(`{ const t = (${s1} + ${imm}) & -2;`, `if ((t & 3) !== 0) ${toInterp()}`);
        set(at(off + 4));
        out.push(`pc = t; break out; }`);
        break;
      case 6 /* BEQ */:
        branch(`${s1} === ${s2}`);
        break;
      case 7 /* BNE */:
        branch(`${s1} !== ${s2}`);
        break;
      case 8 /* BLT */:
        branch(`${s1} < ${s2}`);
        break;
      case 9 /* BGE */:
        branch(`${s1} >= ${s2}`);
        break;
      case 10 /* BLTU */:
        branch(`(${s1} >>> 0) < (${s2} >>> 0)`);
        break;
      case 11 /* BGEU */:
        branch(`(${s1} >>> 0) >= (${s2} >>> 0)`);
        break;
      case 12 /* LB */:
        load(0xffff_f000 | 0, 'i8', 0);
        break;
      case 13 /* LH */:
        load(0xffff_f001 | 0, 'i16', 1);
        break;
      case 14 /* LW */:
        load(0xffff_f003 | 0, 'i32', 2);
        break;
      case 15 /* LBU */:
        load(0xffff_f000 | 0, 'u8', 0);
        break;
      case 16 /* LHU */:
        load(0xffff_f001 | 0, 'u16', 1);
        break;
      case 17 /* SB */:
        store(0xffff_f000 | 0, 'u8', 0);
        break;
      case 18 /* SH */:
        store(0xffff_f001 | 0, 'u16', 1);
        break;
      case 19 /* SW */:
        store(0xffff_f003 | 0, 'i32', 2);
        break;
      case 20 /* ADDI */:
        set(`(${s1} + ${imm}) | 0`);
        break;
      case 21 /* SLTI */:
        set(`${s1} < ${imm} ? 1 : 0`);
        break;
      case 22 /* SLTIU */:
        set(`(${s1} >>> 0) < ${imm >>> 0} ? 1 : 0`);
        break;
      case 23 /* XORI */:
        set(`${s1} ^ ${imm}`);
        break;
      case 24 /* ORI */:
        set(`${s1} | ${imm}`);
        break;
      case 25 /* ANDI */:
        set(`${s1} & ${imm}`);
        break;
      case 26 /* SLLI */:
        set(`${s1} << ${sh}`);
        break;
      case 27 /* SRLI */:
        set(`(${s1} >>> ${sh}) | 0`);
        break;
      case 28 /* SRAI */:
        set(`${s1} >> ${sh}`);
        break;
      case 29 /* ADD */:
        set(`(${s1} + ${s2}) | 0`);
        break;
      case 30 /* SUB */:
        set(`(${s1} - ${s2}) | 0`);
        break;
      case 31 /* SLL */:
        set(`${s1} << ${s2}`);
        break;
      case 32 /* SLT */:
        set(`${s1} < ${s2} ? 1 : 0`);
        break;
      case 33 /* SLTU */:
        set(`(${s1} >>> 0) < (${s2} >>> 0) ? 1 : 0`);
        break;
      case 34 /* XOR */:
        set(`${s1} ^ ${s2}`);
        break;
      case 35 /* SRL */:
        set(`(${s1} >>> ${s2}) | 0`);
        break;
      case 36 /* SRA */:
        set(`${s1} >> ${s2}`);
        break;
      case 37 /* OR */:
        set(`${s1} | ${s2}`);
        break;
      case 38 /* AND */:
        set(`${s1} & ${s2}`);
        break;
      case 39 /* FENCE */:
        break;
      case 49 /* MUL */:
        set(`imul(${s1}, ${s2})`);
        break;
      case 50 /* MULH */:
        set(`mulh(${s1}, ${s2})`);
        break;
      case 51 /* MULHSU */:
        set(`mulhsu(${s1}, ${s2})`);
        break;
      case 52 /* MULHU */:
        set(`mulhu(${s1}, ${s2})`);
        break;
      // Division by zero and overflow as Vol. I 8.2 (and interp.ts) define them.
      case 53 /* DIV */:
        set(`(${s2} === 0 ? -1 : ${s1} === -2147483648 && ${s2} === -1 ? ${s1} : (${s1} / ${s2}) | 0)`);
        break;
      case 54 /* DIVU */:
        set(`(${s2} === 0 ? -1 : ((${s1} >>> 0) / (${s2} >>> 0)) | 0)`);
        break;
      case 55 /* REM */:
        set(`(${s2} === 0 ? ${s1} : ${s1} === -2147483648 && ${s2} === -1 ? 0 : (${s1} % ${s2}) | 0)`);
        break;
      case 56 /* REMU */:
        set(`(${s2} === 0 ? ${s1} : ((${s1} >>> 0) % (${s2} >>> 0)) | 0)`);
        break;
      default:
        throw new Error(`translator: op ${op} is not translatable`);
    }
  });
  if (next >= 0) out.push(goTo(next, L - 1));
  out.push(K > 0 ? '} }' : '}'); // the loops

  const code = [
    `const x = h.x;`,
    regs.length > 0 ? `let ${regs.map((r) => `r${r} = x[${r}]`).join(', ')};` : '',
    `let n = 0, pc = 0, ex = -1;`,
    ...out,
    `let slow = 0;`,
    `if (ex >= 0) { const e = ex * 3; pc = (vb + EXITS[e]) | 0; n -= EXITS[e + 1]; slow = EXITS[e + 2]; }`,
    spill,
    `h.pc = pc; h.jitSlow = slow; h.jitExit = ex; h.instret += n; return n;`,
  ].join('\n');
  const chain: number[] = [];
  for (let e = 0; e < exits.length; e += 3) {
    const to = exits[e]!;
    chain.push(exits[e + 2] === 0 && to >= 0 && to < 4096 && (to & 3) === 0 ? to : -1);
  }
  return { offsets: offs, words, code, exits: `[${exits.join(',')}]`, entryLength: K > 0 ? K : L, blocks: regions.length + 1, chain };
}

/** Compile a translation's source into a function bound to one hart's RAM views and TLB. */
export function compile(h: Hart, src: TranslationSource): TranslatedFn {
  const { u8, i8, u16, i16, i32 } = h.bus.ram;
  // The inner function in parentheses: V8 compiles it with the factory (its heuristic for an
  // immediately used function) instead of pre-parsing it and parsing it again at its first
  // call; a Linux boot with `always` took 9.4 s of CPU before, 6.9 s after.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the translation tier: generated code is the point
  const factory = new Function(
    'u8',
    'i8',
    'u16',
    'i16',
    'i32',
    'rTag',
    'rAdd',
    'wTag',
    'wAdd',
    'imul',
    'mulh',
    'mulhsu',
    'mulhu',
    `const EXITS = new Int32Array(${src.exits});\nreturn (function translation(h, budget, vpn) {\nconst vb = vpn << 12;\n${src.code}\n});`,
  ) as (...args: unknown[]) => TranslatedFn;
  return factory(u8, i8, u16, i16, i32, h.tlbRTag, h.tlbRAdd, h.tlbWTag, h.tlbWAdd, Math.imul, mulh, mulhsu, mulhu);
}
