import { describe, expect, it } from 'vitest';
import { assemble } from './asm';
import { CSR } from './csr';
import { li, load, makeHart, RAM_BASE, setWord, word } from './testing';
import { PRV_M, PRV_S, PRV_U } from './trap';
import * as S from './status';

const HANDLER = RAM_BASE + 0x800;
/** Trap handlers made of nops, so a test can run past the trap without a second one. */
const NOPS = Array.from({ length: 64 }, () => ['addi'] as [string]);

describe('synchronous exceptions (priv 3.1.15, 3.1.16)', () => {
  it('illegal instruction: mcause 2, mepc = pc, mtval = the instruction bits', () => {
    const h = makeHart([0xffff_ffff | 0]);
    h.mtvec = HANDLER;
    h.run(1);
    expect([h.mcause, h.mepc >>> 0, h.mtval >>> 0, h.pc >>> 0]).toEqual([2, RAM_BASE, 0xffff_ffff, HANDLER]);
    expect(h.instret).toBe(0); // a trapping instruction does not retire
  });

  it.each([
    [PRV_U, 8],
    [PRV_S, 9],
    [PRV_M, 11],
  ])('ecall from privilege %d gives cause %d', (priv, cause) => {
    const h = makeHart([['ecall']]);
    h.mtvec = HANDLER;
    h.priv = priv;
    h.run(1);
    expect(h.mcause).toBe(cause);
    expect(h.priv).toBe(PRV_M);
    expect((h.mstatus & S.MPP) >>> S.MPP_SHIFT).toBe(priv);
  });

  it('ebreak: cause 3 with tval = 0 (as QEMU)', () => {
    const h = makeHart([['ebreak']]);
    h.run(1);
    expect([h.mcause, h.mepc >>> 0, h.mtval]).toEqual([3, RAM_BASE, 0]);
  });

  it('a taken branch to a misaligned target traps on the branch (cause 0, tval = target)', () => {
    const h = makeHart([['beq', { imm: 6 }]]);
    h.mtvec = HANDLER;
    h.run(1);
    expect([h.mcause, h.mepc >>> 0, h.mtval >>> 0]).toEqual([0, RAM_BASE, RAM_BASE + 6]);
  });

  it('a load from an address with no device is an access fault with tval = address', () => {
    const h = makeHart([['lw', { rd: 1, rs1: 2 }]]);
    h.x[2] = 0x4000_0000;
    h.run(1);
    expect([h.mcause, h.mtval]).toEqual([5, 0x4000_0000]);
  });

  it('AMOs must be aligned: cause 6 (store/AMO address misaligned)', () => {
    const h = makeHart([['amoadd.w', { rd: 1, rs1: 2, rs2: 3 }]]);
    h.x[2] = RAM_BASE + 0x1002;
    h.run(1);
    expect([h.mcause, h.mtval >>> 0]).toEqual([6, RAM_BASE + 0x1002]);
  });
});

describe('delegation and xRET (3.1.8, 3.3.2)', () => {
  it('medeleg sends a U-mode ecall to S-mode; sret returns to U', () => {
    const h = makeHart([['ecall']]);
    h.medeleg = 1 << 8;
    h.stvec = HANDLER;
    h.priv = PRV_U;
    h.mstatus |= S.SIE;
    h.run(1);
    expect([h.priv, h.scause, h.sepc >>> 0, h.pc >>> 0]).toEqual([PRV_S, 8, RAM_BASE, HANDLER]);
    expect(h.mstatus & S.SPP).toBe(0);
    expect(h.mstatus & S.SIE).toBe(0);
    expect(h.mstatus & S.SPIE).toBe(S.SPIE);
    load(h, HANDLER, [['sret']]);
    h.sepc = RAM_BASE + 0x40;
    h.run(1);
    expect([h.priv, h.pc >>> 0]).toEqual([PRV_U, RAM_BASE + 0x40]);
    expect(h.mstatus & S.SIE).toBe(S.SIE);
  });

  it('exceptions in M-mode are never delegated', () => {
    const h = makeHart([['ecall']]);
    h.medeleg = 0xffff;
    h.run(1);
    expect(h.priv).toBe(PRV_M);
    expect(h.mcause).toBe(11);
  });

  it('mret goes to MPP, sets MIE from MPIE, leaves MPP = U and clears MPRV below M', () => {
    const h = makeHart([['mret']]);
    h.mstatus = (PRV_S << S.MPP_SHIFT) | S.MPIE | S.MPRV;
    h.mepc = RAM_BASE + 0x100;
    h.run(1);
    expect([h.priv, h.pc >>> 0]).toEqual([PRV_S, RAM_BASE + 0x100]);
    expect(h.mstatus & (S.MIE | S.MPIE | S.MPP | S.MPRV)).toBe(S.MIE | S.MPIE);
  });

  it('sret in S-mode with TSR=1 and wfi in S-mode with TW=1 are illegal', () => {
    for (const name of ['sret', 'wfi']) {
      const h = makeHart([[name]]);
      h.priv = PRV_S;
      h.mstatus = S.TSR | S.TW;
      h.run(1);
      expect(h.mcause, name).toBe(2);
    }
  });
});

describe('CSRs (priv ch. 2)', () => {
  it('a CSR above the current privilege is illegal; writing a read-only CSR is illegal', () => {
    const h = makeHart([['csrrs', { rd: 1, csr: CSR.mstatus }]]);
    h.priv = PRV_S;
    h.run(1);
    expect(h.mcause).toBe(2);
    const g = makeHart([
      ['csrrw', { rd: 1, rs1: 2, csr: CSR.mhartid }],
      ['csrrs', { rd: 3, csr: CSR.misa }],
    ]);
    g.mtvec = RAM_BASE + 4;
    g.run(2);
    expect(g.mcause).toBe(2);
    expect(g.x[3]! >>> 0).toBe(0x4014_1101); // RV32 A I M S U
  });

  it('csrrs with rs1 = x0 does not write, so reading a read-only CSR is fine', () => {
    const h = makeHart([['csrrs', { rd: 1, csr: CSR.mhartid }]]);
    h.run(1);
    expect(h.mcause).toBe(0);
    expect(h.pc >>> 0).toBe(RAM_BASE + 4);
  });

  it('counters in U-mode need mcounteren and scounteren', () => {
    const h = makeHart([['csrrs', { rd: 1, csr: CSR.instret }]]);
    h.priv = PRV_U;
    h.mcounteren = 4;
    h.run(1);
    expect(h.mcause).toBe(2);
    const g = makeHart([['csrrs', { rd: 1, csr: CSR.instret }]]);
    g.priv = PRV_U;
    g.mcounteren = 4;
    g.scounteren = 4;
    g.run(1);
    expect(g.pc >>> 0).toBe(RAM_BASE + 4);
  });

  it('minstret counts retired instructions and can be written', () => {
    const h = makeHart([
      ['addi'],
      ['addi'],
      ['csrrs', { rd: 1, csr: CSR.minstret }],
      ['csrrw', { rs1: 0, csr: CSR.minstret }],
      ['csrrs', { rd: 2, csr: CSR.minstret }],
    ]);
    h.run(5);
    expect(h.x[1]).toBe(2);
    expect(h.x[2]).toBe(0); // the write replaces the writing instruction's own increment
  });

  it.each([
    ['minstret', CSR.minstret, CSR.minstreth],
    ['mcycle', CSR.mcycle, CSR.mcycleh],
  ])('a write to %s replaces the increment of the writing instruction (counters written as a side effect)', (_, lo, hi) => {
    const h = makeHart([
      ['addi'],
      ['addi'],
      ['addi'],
      ['csrrwi', { rd: 0, imm: 0, csr: lo }],
      ['csrrs', { rd: 10, csr: lo }], // a0 = 0
      ['csrrwi', { rd: 0, imm: 7, csr: lo }],
      ['addi'],
      ['csrrs', { rd: 11, csr: lo }], // a1 = 8
      ['csrrwi', { rd: 0, imm: 3, csr: hi }],
      ['csrrs', { rd: 12, csr: hi }],
      ['csrrs', { rd: 13, csr: lo }], // a2 = 3, a3 = 11
    ]);
    h.run(11);
    expect([h.x[10], h.x[11], h.x[12], h.x[13]]).toEqual([0, 8, 3, 11]);
  });

  it.each([
    ['minstret', CSR.minstret, CSR.minstreth],
    ['mcycle', CSR.mcycle, CSR.mcycleh],
  ])('%s is exact over 64 bits: no low bits lost past 2^53, carries into the high word, wraps to zero', (_, lo, hi) => {
    const h = makeHart([
      ...li(5, 0x7fff_ffff),
      ['csrrw', { rs1: 5, csr: hi }],
      ...li(5, 0x12345),
      ['csrrw', { rs1: 5, csr: lo }],
      ['csrrs', { rd: 10, csr: lo }],
      ['csrrs', { rd: 11, csr: hi }], // a0 = 0x12345, a1 = 0x7fffffff
      ['csrrwi', { rd: 0, imm: 0, csr: hi }],
      ['csrrwi', { rd: 0, imm: 0, csr: lo }],
      ['csrrs', { rd: 12, csr: lo }], // a2 = 0
      ['addi', { rd: 5, rs1: 0, imm: -1 }],
      ['csrrw', { rs1: 5, csr: lo }],
      ['addi'],
      ['csrrs', { rd: 13, csr: hi }],
      ['csrrs', { rd: 14, csr: lo }], // a3 = 1 (carry), a4 = 1
      ['csrrw', { rs1: 5, csr: hi }],
      ['csrrw', { rs1: 5, csr: lo }],
      ['csrrs', { rd: 15, csr: hi }],
      ['csrrs', { rd: 16, csr: hi }], // a5 = 0xffffffff, then a6 = 0: wrapped
      ['csrrs', { rd: 17, csr: lo }], // a7 = 1
    ]);
    h.run(21);
    expect([h.x[10], h.x[11], h.x[12], h.x[13], h.x[14], h.x[15], h.x[16], h.x[17]].map((v) => v! >>> 0)).toEqual([
      0x12345, 0x7fff_ffff, 0, 1, 1, 0xffff_ffff, 0, 1,
    ]);
  });
});

describe('interrupts (3.1.9)', () => {
  it('a pending, enabled timer interrupt is taken in M-mode only with MIE set', () => {
    const h = makeHart([['addi'], ['addi']]);
    load(h, HANDLER, NOPS);
    h.mtvec = HANDLER | 1; // vectored
    h.mie = 1 << 7;
    h.setInterruptLevel(7, true);
    h.run(1);
    expect(h.pc >>> 0).toBe(RAM_BASE + 4); // MIE clear: not taken
    h.mstatus |= S.MIE;
    h.run(1);
    expect(h.mcause >>> 0).toBe(0x8000_0007);
    expect(h.pc >>> 0).toBe(HANDLER + 4 * 7 + 4); // took the trap, then ran one handler instruction
    expect(h.mepc >>> 0).toBe(RAM_BASE + 4);
  });

  it('machine interrupts preempt lower privileges regardless of MIE', () => {
    const h = makeHart([['addi']]);
    load(h, HANDLER, NOPS);
    h.mtvec = HANDLER;
    h.priv = PRV_U;
    h.mie = 1 << 11;
    h.setInterruptLevel(11, true);
    h.run(1);
    expect(h.priv).toBe(PRV_M);
    expect(h.mcause >>> 0).toBe(0x8000_000b);
  });

  it('priority: MEI before MSI before MTI', () => {
    const h = makeHart([['addi']]);
    h.mstatus |= S.MIE;
    h.mie = 0xaaa;
    for (const b of [3, 7, 11]) h.setInterruptLevel(b, true);
    expect(h.pendingInterrupt()).toBe(11);
    h.setInterruptLevel(11, false);
    expect(h.pendingInterrupt()).toBe(3);
  });

  it('wfi returns "wfi" until an enabled interrupt is pending, even with MIE clear', () => {
    const h = makeHart([['wfi'], ['addi', { rd: 1, imm: 1 }]]);
    h.mie = 1 << 7;
    expect(h.run(10)).toBe('wfi');
    expect(h.run(10)).toBe('wfi');
    h.setInterruptLevel(7, true);
    h.run(1);
    expect(h.x[1]).toBe(1); // resumed after wfi without trapping
  });
});

describe('Sv32 (priv 4.3)', () => {
  // Root table at +0x10000, second level at +0x11000; map VA 0x00400000 -> RAM +0x20000.
  function paged(program: Parameters<typeof makeHart>[0], pteFlags: number) {
    const h = makeHart(program);
    const root = RAM_BASE + 0x1_0000,
      l2 = RAM_BASE + 0x1_1000,
      page = RAM_BASE + 0x2_0000;
    setWord(h, root + 4 * 1, ((l2 / 4096) << 10) | 1); // VPN[1] = 1
    setWord(h, l2 + 0, ((page / 4096) << 10) | pteFlags); // VPN[0] = 0
    // Identity megapage for the code at 0x80000000 (VPN[1] = 0x200), supervisor RWX.
    setWord(h, root + 4 * 0x200, ((RAM_BASE / 4096) << 10) | 0xcf);
    h.satp = S.SATP_MODE_SV32 | (root / 4096);
    h.priv = PRV_S;
    h.mtvec = HANDLER;
    return { h, l2, page };
  }

  it('a load through a 4 KiB page reads the mapped frame and sets A', () => {
    const { h, l2, page } = paged([['lw', { rd: 1, rs1: 2, imm: 8 }]], 0x03); // V R
    h.x[2] = 0x0040_0000;
    setWord(h, page + 8, 0x1234);
    h.run(1);
    expect(h.x[1]).toBe(0x1234);
    expect(word(h, l2) & 0xc0).toBe(0x40); // A set, D not
  });

  it('a store sets A and D', () => {
    const { h, l2, page } = paged([['sw', { rs1: 2, rs2: 3 }]], 0x07); // V R W
    h.x[2] = 0x0040_0000;
    h.x[3] = 77;
    h.run(1);
    expect(word(h, page)).toBe(77);
    expect(word(h, l2) & 0xc0).toBe(0xc0);
  });

  it('a store to a read-only page is a store page fault with tval = the virtual address', () => {
    const { h } = paged([['sw', { rs1: 2, rs2: 3, imm: 4 }]], 0x03);
    h.x[2] = 0x0040_0000;
    h.run(1);
    expect([h.mcause, h.mtval]).toEqual([15, 0x0040_0004]);
  });

  it('S-mode may read a U page only with SUM; never execute it', () => {
    const { h } = paged([['lw', { rd: 1, rs1: 2 }]], 0x13); // V R U
    h.x[2] = 0x0040_0000;
    h.run(1);
    expect(h.mcause).toBe(13);
    const g = paged([['lw', { rd: 1, rs1: 2 }]], 0x13).h;
    g.x[2] = 0x0040_0000;
    g.mstatus |= S.SUM;
    g.run(1);
    expect(g.mcause).toBe(0);
  });

  it('an unmapped address is a load page fault', () => {
    const { h } = paged([['lw', { rd: 1, rs1: 2 }]], 0x03);
    h.x[2] = 0x0080_0000;
    h.run(1);
    expect([h.mcause, h.mtval]).toEqual([13, 0x0080_0000]);
  });

  it('a stale TLB entry stays until sfence.vma', () => {
    const { h, l2, page } = paged([['lw', { rd: 1, rs1: 2 }], ['lw', { rd: 3, rs1: 2 }], ['sfence.vma'], ['lw', { rd: 4, rs1: 2 }]], 0x03);
    h.x[2] = 0x0040_0000;
    setWord(h, page, 1);
    setWord(h, page + 0x1000, 2);
    h.run(1);
    setWord(h, l2, (((page + 0x1000) / 4096) << 10) | 0x43);
    h.run(3);
    expect([h.x[1], h.x[3], h.x[4]]).toEqual([1, 1, 2]);
  });
});

describe('LR/SC (Vol. I 9.2)', () => {
  it('sc succeeds after lr on the same word and fails without a reservation', () => {
    const h = makeHart([
      ['lr.w', { rd: 1, rs1: 10 }],
      ['sc.w', { rd: 2, rs1: 10, rs2: 11 }],
      ['sc.w', { rd: 3, rs1: 10, rs2: 12 }],
    ]);
    h.x[10] = RAM_BASE + 0x1000;
    h.x[11] = 5;
    h.x[12] = 6;
    setWord(h, RAM_BASE + 0x1000, 4);
    h.run(3);
    expect([h.x[1], h.x[2], h.x[3], word(h, RAM_BASE + 0x1000)]).toEqual([4, 0, 1, 5]);
  });

  it('amomaxu and amomin compare unsigned and signed', () => {
    const h = makeHart([
      ['amomaxu.w', { rd: 1, rs1: 10, rs2: 11 }],
      ['amomin.w', { rd: 2, rs1: 10, rs2: 12 }],
    ]);
    h.x[10] = RAM_BASE + 0x1000;
    h.x[11] = -1;
    h.x[12] = 3;
    setWord(h, RAM_BASE + 0x1000, 7);
    h.run(2);
    expect([h.x[1], h.x[2], word(h, RAM_BASE + 0x1000)]).toEqual([7, -1, -1]);
  });
});

describe('encoding sanity', () => {
  it('assembles privileged words as the spec lists them', () => {
    expect(assemble('mret') >>> 0).toBe(0x3020_0073);
    expect(assemble('wfi') >>> 0).toBe(0x1050_0073);
  });
});

describe('counter inhibit (3.1.12) and reservations across xRET', () => {
  it('mcountinhibit.IR freezes minstret; clearing it resumes counting from there', () => {
    const h = makeHart([
      ['addi'],
      ['csrrwi', { csr: CSR.mcountinhibit, imm: 4 }],
      ['addi'],
      ['addi'],
      ['csrrs', { rd: 1, csr: CSR.minstret }],
      ['csrrwi', { csr: CSR.mcountinhibit, imm: 0 }],
      ['addi'],
      ['csrrs', { rd: 2, csr: CSR.minstret }],
    ]);
    h.run(8);
    expect(h.x[1]).toBe(1); // frozen after the first addi
    expect(h.x[2]).toBe(3); // the uninhibiting write and the addi counted
  });

  it('an SC after a trap and mret fails', () => {
    const h = makeHart([['lr.w', { rd: 1, rs1: 10 }], ['ecall'], ['sc.w', { rd: 2, rs1: 10, rs2: 11 }]]);
    load(h, HANDLER, [['csrrs', { rd: 5, csr: CSR.mepc }], ['addi', { rd: 5, rs1: 5, imm: 4 }], ['csrrw', { rs1: 5, csr: CSR.mepc }], ['mret']]);
    h.mtvec = HANDLER;
    h.x[10] = RAM_BASE + 0x1000;
    h.run(7);
    expect(h.x[2]).toBe(1);
  });
});
