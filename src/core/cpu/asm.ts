/**
 * A one-instruction assembler over the encoding table, for tests and tools: the inverse
 * of the disassembler. `assemble('addi', { rd: 1, rs1: 0, imm: 5 })`.
 */
import { ENCODINGS, type Encoding } from './encodings';

export interface Operands {
  rd?: number;
  rs1?: number;
  rs2?: number;
  imm?: number;
  csr?: number;
}

const BY_NAME = new Map<string, Encoding>(ENCODINGS.map((e) => [e.name, e]));

function fits(v: number, bits: number, signed: boolean): boolean {
  return signed ? v >= -(2 ** (bits - 1)) && v < 2 ** (bits - 1) : v >= 0 && v < 2 ** bits;
}

export function assemble(name: string, o: Operands = {}): number {
  const e = BY_NAME.get(name);
  if (e === undefined) throw new Error(`unknown instruction '${name}'`);
  const rd = (o.rd ?? 0) << 7,
    rs1 = (o.rs1 ?? 0) << 15,
    rs2 = (o.rs2 ?? 0) << 20;
  const imm = o.imm ?? 0;
  const check = (bits: number, signed = true): void => {
    if (!fits(imm, bits, signed)) throw new Error(`${name}: immediate ${imm} does not fit ${bits} bits`);
  };
  let w: number;
  switch (e.format) {
    case 'R':
    case 'amo':
    case 'sfence':
      w = rd | rs1 | rs2;
      break;
    case 'lr':
      w = rd | rs1;
      break;
    case 'I':
    case 'load':
      check(12);
      w = rd | rs1 | ((imm & 0xfff) << 20);
      break;
    case 'shift':
      check(5, false);
      w = rd | rs1 | (imm << 20);
      break;
    case 'store':
      check(12);
      w = rs1 | rs2 | ((imm & 0x1f) << 7) | ((imm >> 5) << 25);
      break;
    case 'B':
      check(13);
      if (imm & 1) throw new Error(`${name}: odd branch offset`);
      w = rs1 | rs2 | (((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3f) << 25) | (((imm >> 1) & 0xf) << 8) | (((imm >> 11) & 1) << 7);
      break;
    case 'U':
      w = rd | (imm << 12);
      break;
    case 'J':
      check(21);
      if (imm & 1) throw new Error(`${name}: odd jump offset`);
      w = rd | (((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20) | (((imm >> 12) & 0xff) << 12);
      break;
    case 'csr':
      w = rd | rs1 | ((o.csr ?? 0) << 20);
      break;
    case 'csri':
      check(5, false);
      w = rd | (imm << 15) | ((o.csr ?? 0) << 20);
      break;
    case 'fence':
      w = (imm & 0xff) << 20;
      break;
    case 'none':
      w = 0;
      break;
  }
  return w | e.match | 0;
}
