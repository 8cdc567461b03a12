import { describe, expect, it } from 'vitest';
import { disassemble } from './disasm';

// Encodings cross-checked with `llvm-objdump -d` on riscv32 objects.
const CASES: [number, number, string][] = [
  [0xff01_0113, 0, 'addi sp, sp, -16'],
  [0x0085_2503, 0, 'lw a0, 8(a0)'],
  [0xfe11_2e23, 0, 'sw ra, -4(sp)'],
  [0x00b5_0533, 0, 'add a0, a0, a1'],
  [0x40b5_0533, 0, 'sub a0, a0, a1'],
  [0x02b5_4533, 0, 'div a0, a0, a1'],
  [0x1234_50b7, 0, 'lui ra, 0x12345'],
  [0xfe00_0ee3, 0x1000, 'beq zero, zero, 0xffc'],
  [0x0080_00ef, 0x8000_0000, 'jal ra, 0x80000008'],
  [0x3052_9073, 0, 'csrrw zero, mtvec, t0'],
  [0x3420_2573, 0, 'csrrs a0, mcause, zero'],
  [0x1005_272f, 0, 'lr.w a4, (a0)'],
  [0x0cb5_262f, 0, 'amoswap.w.aq a2, a1, (a0)'],
  [0x0ff0_000f, 0, 'fence iorw, iorw'],
  [0x3020_0073, 0, 'mret'],
  [0x1050_0073, 0, 'wfi'],
  [0x1200_0073, 0, 'sfence.vma zero, zero'],
  [0x0000_0000, 0, '.word 0x0'],
];

describe('disassembler', () => {
  it.each(CASES)('%s at %s -> %s', (insn, pc, text) => {
    expect(disassemble(insn | 0, pc)).toBe(text);
  });
});
