import { describe, expect, it } from 'vitest';
import { makeHart, RAM_BASE } from './testing';
import { mulh, mulhsu, mulhu } from './interp';

/** Run one R-type instruction on (a, b) and return rd. */
function alu(name: string, a: number, b: number): number {
  const h = makeHart([[name, { rd: 3, rs1: 1, rs2: 2 }]]);
  h.x[1] = a;
  h.x[2] = b;
  h.run(1);
  return h.x[3]!;
}

const INT_MIN = -0x8000_0000;

describe('RV32I register-register (Vol. I 2.4.2)', () => {
  it.each([
    ['add', 0x7fff_ffff, 1, INT_MIN],
    ['sub', 0, 1, -1],
    ['sll', 1, 33, 2], // only rs2[4:0] counts
    ['srl', -1, 28, 0xf],
    ['sra', INT_MIN, 31, -1],
    ['slt', -1, 0, 1],
    ['sltu', -1, 0, 0],
    ['xor', 0xff, 0x0f, 0xf0],
    ['or', 0xf0, 0x0f, 0xff],
    ['and', 0xf0, 0x3c, 0x30],
  ])('%s(%d, %d) = %d', (name, a, b, want) => expect(alu(name, a, b)).toBe(want));
});

describe('M extension edge cases (Vol. I 8.2, table 8.1)', () => {
  it.each([
    ['div', 7, 0, -1],
    ['divu', 7, 0, -1],
    ['rem', 7, 0, 7],
    ['remu', 7, 0, 7],
    ['div', INT_MIN, -1, INT_MIN],
    ['rem', INT_MIN, -1, 0],
    ['div', -7, 2, -3], // rounds toward zero
    ['rem', -7, 2, -1],
    ['divu', -1, 2, 0x7fff_ffff],
    ['remu', -1, 10, 5],
    ['mul', 0x10000, 0x10000, 0],
    ['mulh', -1, -1, 0],
    ['mulhu', -1, -1, -2],
    ['mulhsu', -1, -1, -1],
  ])('%s(%d, %d) = %d', (name, a, b, want) => expect(alu(name, a, b)).toBe(want));

  it('mulh, mulhu, mulhsu agree with 64-bit BigInt products', () => {
    let s = 0x9e3779b9;
    const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) | 0), s);
    const samples = [0, 1, -1, INT_MIN, 0x7fff_ffff, 0x8000, -0x8000];
    for (let i = 0; i < 20_000; i++) {
      const a = i < 49 ? samples[i % 7]! : next();
      const b = i < 49 ? samples[Math.floor(i / 7)]! : next();
      const hi = (p: bigint): number => Number(BigInt.asIntN(32, p >> 32n));
      expect(mulh(a, b)).toBe(hi(BigInt(a) * BigInt(b)));
      expect(mulhu(a, b)).toBe(hi(BigInt(a >>> 0) * BigInt(b >>> 0)));
      expect(mulhsu(a, b)).toBe(hi(BigInt(a) * BigInt(b >>> 0)));
    }
  });
});

describe('loads, stores and x0', () => {
  it('sign- and zero-extends bytes and halves; misaligned word loads are carried out', () => {
    const h = makeHart([
      ['lb', { rd: 1, rs1: 10, imm: 0 }],
      ['lbu', { rd: 2, rs1: 10, imm: 0 }],
      ['lh', { rd: 3, rs1: 10, imm: 0 }],
      ['lhu', { rd: 4, rs1: 10, imm: 0 }],
      ['lw', { rd: 5, rs1: 10, imm: 1 }],
      ['sw', { rs1: 10, rs2: 5, imm: 6 }],
      ['lw', { rd: 6, rs1: 10, imm: 6 }],
    ]);
    h.x[10] = RAM_BASE + 0x1000;
    h.bus.ram.u8.set([0x80, 0xff, 0x11, 0x22, 0x33], 0x1000);
    h.run(7);
    expect([h.x[1], h.x[2], h.x[3], h.x[4]]).toEqual([-128, 0x80, -128, 0xff80]);
    expect(h.x[5]! >>> 0).toBe(0x3322_11ff);
    expect(h.x[6]! >>> 0).toBe(0x3322_11ff);
    expect(h.mcause).toBe(0); // no trap
  });

  it('writes to x0 are discarded', () => {
    const h = makeHart([
      ['addi', { rd: 0, rs1: 0, imm: 5 }],
      ['add', { rd: 1, rs1: 0, rs2: 0 }],
    ]);
    h.run(2);
    expect(h.x[0]).toBe(0);
    expect(h.x[1]).toBe(0);
  });

  it('jal and jalr link pc+4 and jalr clears bit 0 of the target', () => {
    const h = makeHart([['jal', { rd: 1, imm: 8 }], 0, ['jalr', { rd: 2, rs1: 3, imm: 1 }]]);
    h.x[3] = RAM_BASE + 0x100;
    h.run(2);
    expect(h.x[1]! >>> 0).toBe(RAM_BASE + 4);
    expect(h.x[2]! >>> 0).toBe(RAM_BASE + 12);
    expect(h.pc >>> 0).toBe(RAM_BASE + 0x100);
  });
});

describe('run(budget)', () => {
  it('never executes more than the budget', () => {
    const h = makeHart([['jal', { rd: 0, imm: 0 }]]); // a tight infinite loop
    for (const budget of [1, 7, 4096, 4097, 100_000]) {
      const before = h.instret;
      expect(h.run(budget)).toBe('budget');
      expect(h.instret - before).toBe(budget);
    }
  });
});
