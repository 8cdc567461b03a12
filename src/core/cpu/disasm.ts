/**
 * Disassembler driven by the same table as the decoder (encodings.ts): the row gives the
 * mnemonic and the operand format. Output follows the GNU/LLVM assembler syntax with ABI
 * register names, e.g. `addi sp, sp, -16`, `lw a0, 8(s0)`, `csrrw zero, mtvec, t0`.
 */
import { findEncoding } from './decode';
import { csrNum, immB, immI, immJ, immS, rd, rs1, rs2 } from './decode';
import { CSR } from './csr';

export const ABI_NAMES: readonly string[] = [
  'zero',
  'ra',
  'sp',
  'gp',
  'tp',
  't0',
  't1',
  't2',
  's0',
  's1',
  'a0',
  'a1',
  'a2',
  'a3',
  'a4',
  'a5',
  'a6',
  'a7',
  's2',
  's3',
  's4',
  's5',
  's6',
  's7',
  's8',
  's9',
  's10',
  's11',
  't3',
  't4',
  't5',
  't6',
];

const CSR_NAMES = new Map<number, string>(Object.entries(CSR).map(([name, num]) => [num, name]));

export function csrName(num: number): string {
  return CSR_NAMES.get(num) ?? `0x${num.toString(16)}`;
}

const r = (n: number): string => ABI_NAMES[n]!;
const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** Disassemble one instruction at `pc` (pc makes branch and jump targets absolute). */
export function disassemble(insn: number, pc = 0): string {
  const e = findEncoding(insn);
  if (e === undefined) return `.word ${hex(insn)}`;
  const n = e.name;
  switch (e.format) {
    case 'R':
      return `${n} ${r(rd(insn))}, ${r(rs1(insn))}, ${r(rs2(insn))}`;
    case 'I':
      return `${n} ${r(rd(insn))}, ${r(rs1(insn))}, ${immI(insn)}`;
    case 'shift':
      return `${n} ${r(rd(insn))}, ${r(rs1(insn))}, ${rs2(insn)}`;
    case 'load':
      return `${n} ${r(rd(insn))}, ${immI(insn)}(${r(rs1(insn))})`;
    case 'store':
      return `${n} ${r(rs2(insn))}, ${immS(insn)}(${r(rs1(insn))})`;
    case 'B':
      return `${n} ${r(rs1(insn))}, ${r(rs2(insn))}, ${hex(pc + immB(insn))}`;
    case 'U':
      return `${n} ${r(rd(insn))}, ${hex(insn >>> 12)}`;
    case 'J':
      return `${n} ${r(rd(insn))}, ${hex(pc + immJ(insn))}`;
    case 'csr':
      return `${n} ${r(rd(insn))}, ${csrName(csrNum(insn))}, ${r(rs1(insn))}`;
    case 'csri':
      return `${n} ${r(rd(insn))}, ${csrName(csrNum(insn))}, ${rs1(insn)}`;
    case 'lr':
      return `${n}${aqrl(insn)} ${r(rd(insn))}, (${r(rs1(insn))})`;
    case 'amo':
      return `${n}${aqrl(insn)} ${r(rd(insn))}, ${r(rs2(insn))}, (${r(rs1(insn))})`;
    case 'fence':
      return `${n} ${fenceSet(insn >>> 24)}, ${fenceSet(insn >>> 20)}`;
    case 'sfence':
      return `${n} ${r(rs1(insn))}, ${r(rs2(insn))}`;
    case 'none':
      return n;
  }
}

function aqrl(insn: number): string {
  return ((insn >>> 26) & 1 ? '.aq' : '') + ((insn >>> 25) & 1 ? '.rl' : '');
}

function fenceSet(bits: number): string {
  const s = (bits & 8 ? 'i' : '') + (bits & 4 ? 'o' : '') + (bits & 2 ? 'r' : '') + (bits & 1 ? 'w' : '');
  return s === '' ? '0' : s;
}
