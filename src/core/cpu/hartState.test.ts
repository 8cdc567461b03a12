import { describe, expect, it } from 'vitest';
import { CSR, csrRead, csrWrite } from './csr';
import { captureHart, HART_CSRS, restoreHart, type HartState } from './hartState';
import { li, makeHart, RAM_BASE, type Insn } from './testing';
import { PRV_S } from './trap';
import * as S from './status';

const DATA = RAM_BASE + 0x1000;

/** A loop that uses the ALU, M, memory, LR/SC, CSRs and the counters: state everywhere. */
const PROGRAM: Insn[] = [
  ...li(5, 0x1234_5679),
  ...li(7, DATA),
  // loop (RAM_BASE + 16):
  ['addi', { rd: 1, rs1: 1, imm: 1 }],
  ['mul', { rd: 2, rs1: 1, rs2: 5 }],
  ['xor', { rd: 3, rs1: 3, rs2: 2 }],
  ['csrrs', { rd: 4, rs1: 0, csr: CSR.cycle }],
  ['csrrw', { rd: 6, rs1: 3, csr: CSR.sscratch }],
  ['sw', { rs1: 7, rs2: 3, imm: 0 }],
  ['lr.w', { rd: 8, rs1: 7 }],
  ['add', { rd: 9, rs1: 9, rs2: 4 }],
  ['sc.w', { rd: 10, rs1: 7, rs2: 9 }],
  ['csrrs', { rd: 11, rs1: 0, csr: CSR.instret }],
  ['jal', { rd: 0, imm: -40 }],
];

function running(): ReturnType<typeof makeHart> {
  const h = makeHart(PROGRAM);
  h.mtvec = RAM_BASE + 0x800;
  h.stvec = RAM_BASE + 0x900 + 1;
  h.medeleg = 0xb1ff;
  h.mideleg = 0x222;
  h.mie = 0x0aa;
  h.mscratch = 0x5a5a_5a5a;
  h.mcounteren = 7;
  h.scounteren = 5;
  h.mstatus = S.SUM | S.MXR | (1 << S.MPP_SHIFT);
  h.pmpaddr[1] = 0x2000_0400;
  h.pmpcfg[1] = 0x0b; // TOR, X R
  h.priv = PRV_S;
  return h;
}

function fresh(from: ReturnType<typeof makeHart>): ReturnType<typeof makeHart> {
  const h = makeHart();
  h.pmpaddr.fill(0);
  h.pmpcfg.fill(0);
  h.bus.ram.u8.set(from.bus.ram.u8);
  return h;
}

describe('hart save and load', () => {
  it('captures every register and CSR, and a loaded hart runs on exactly as the original', () => {
    const a = running();
    a.run(1001); // stops just after the LR
    const saved = captureHart(a);
    expect(saved.reservation).not.toBeNull();
    expect(Object.keys(saved.csr)).toHaveLength(HART_CSRS.length);

    const b = fresh(a);
    restoreHart(b, saved);
    expect(captureHart(b)).toEqual(saved);

    for (let round = 0; round < 5; round++) {
      expect(a.run(777)).toBe(b.run(777));
      expect(captureHart(b)).toEqual(captureHart(a));
    }
    expect(b.bus.ram.u8).toEqual(a.bus.ram.u8);
    expect(captureHart(b).csr.minstret).toBe(captureHart(a).csr.minstret);
    expect(captureHart(b).instret).toBeGreaterThan(4000);
  });

  it('keeps written and inhibited counters exactly, high halves included', () => {
    const a = running();
    a.run(300);
    csrWrite(a, CSR.mcycleh, 0x7fff_fffe);
    csrWrite(a, CSR.mcycle, -5);
    csrWrite(a, CSR.mcountinhibit, 4); // minstret stops, mcycle runs
    a.run(100);
    const saved = captureHart(a);
    expect(saved.csr.mcountinhibit).toBe(4);
    const b = fresh(a);
    restoreHart(b, saved);
    a.run(50);
    b.run(50);
    expect(captureHart(b)).toEqual(captureHart(a));
    expect(captureHart(b).csr.minstret).toBe(saved.csr.minstret);
    expect(captureHart(b).csr.mcycleh).toBe(0x7fff_ffff);
  });

  it('a hart in WFI stays in WFI', () => {
    const h = makeHart([['wfi'], ['addi', { rd: 1, rs1: 1, imm: 1 }]]);
    expect(h.run(10)).toBe('wfi');
    const s = captureHart(h);
    expect(s.wfi).toBe(true);
    const b = makeHart();
    restoreHart(b, s);
    expect(b.run(10)).toBe('wfi');
  });

  const refused: [string, (s: HartState) => void, RegExp][] = [
    ['another hart', (s) => (s.hartid = 1), /hart 1's/],
    ['privilege 2', (s) => (s.priv = 2), /privilege 2/],
    ['a misaligned pc', (s) => (s.pc += 2), /not 4-byte aligned/],
    ['x0 not 0', (s) => (s.x[0] = 1), /x0/],
    ['other extensions', (s) => (s.csr.misa ^= 1 << 2), /misa .* differs/],
    ['mtvec mode 2', (s) => (s.csr.mtvec = RAM_BASE + 2), /mtvec .* not a value/],
    ['MPP = 2', (s) => (s.csr.mstatus = 2 << S.MPP_SHIFT), /mstatus/],
    ['medeleg bit 11 (ecall from M)', (s) => (s.csr.medeleg |= 1 << 11), /medeleg/],
    ['a reserved pmpcfg bit', (s) => (s.pmpcfg[3] = 0x20), /pmp3cfg/],
    ['mcountinhibit TM', (s) => (s.csr.mcountinhibit = 2), /mcountinhibit/],
  ];
  it.each(refused)('refuses %s, naming the register', (_, spoil, message) => {
    const a = running();
    a.run(100);
    const s = captureHart(a);
    spoil(s);
    expect(() => restoreHart(fresh(a), s)).toThrow(message);
  });
});

describe('the saved CSRs are every CSR the hart has', () => {
  it('each CSR the hart answers is saved, a view or shadow of a saved one, or holds nothing', () => {
    const saved = new Set<number>(HART_CSRS.map(([name]) => CSR[name]));
    const views = new Set<number>([CSR.sstatus, CSR.sie, CSR.sip, CSR.cycle, CSR.cycleh, CSR.instret, CSR.instreth]);
    const platform = new Set<number>([CSR.time, CSR.timeh]); // the CLINT's mtime, saved with the CLINT
    const pmp = (n: number): boolean => (n >= CSR.pmpcfg0 && n < CSR.pmpcfg0 + 4) || (n >= CSR.pmpaddr0 && n < CSR.pmpaddr0 + 16);
    const missing: string[] = [];
    for (let n = 0; n < 4096; n++) {
      const h = makeHart();
      if (csrRead(h, n) === undefined || saved.has(n) || views.has(n) || platform.has(n) || pmp(n)) continue;
      // anything else must hold no state: a write leaves it reading as before
      const before = csrRead(h, n);
      csrWrite(h, n, 0x5555_5555);
      csrWrite(h, n, -1);
      if (csrRead(h, n) !== before) missing.push('0x' + n.toString(16));
    }
    expect(missing).toEqual([]);
  });
});
