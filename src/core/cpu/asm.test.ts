import { describe, expect, it } from 'vitest';
import { assemble } from './asm';
import { disassemble } from './disasm';
import { ENCODINGS } from './encodings';
import { decodeOp } from './decode';

describe('assembler over the encoding table', () => {
  it('round-trips through the disassembler', () => {
    expect(disassemble(assemble('addi', { rd: 2, rs1: 2, imm: -16 }))).toBe('addi sp, sp, -16');
    expect(disassemble(assemble('sw', { rs1: 2, rs2: 1, imm: -4 }))).toBe('sw ra, -4(sp)');
    expect(disassemble(assemble('beq', { imm: -4 }), 0x1000)).toBe('beq zero, zero, 0xffc');
    expect(disassemble(assemble('jal', { rd: 1, imm: -(1 << 20) }), 0x8010_0000)).toBe('jal ra, 0x80000000');
    expect(disassemble(assemble('csrrs', { rd: 10, csr: 0x342 }))).toBe('csrrs a0, mcause, zero');
  });

  it('every row assembles to a word that decodes back to the same op', () => {
    for (const e of ENCODINGS) expect(decodeOp(assemble(e.name)), e.name).toBe(e.op);
  });

  it('rejects immediates that do not fit', () => {
    expect(() => assemble('addi', { imm: 2048 })).toThrow(/does not fit/);
    expect(() => assemble('beq', { imm: 3 })).toThrow(/odd/);
  });
});
