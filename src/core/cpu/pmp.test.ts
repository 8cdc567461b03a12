import { describe, expect, it } from 'vitest';
import { CSR } from './csr';
import { PMP_SPLIT, pmpPermissions } from './pmp';
import { makeHart, RAM_BASE } from './testing';
import { PRV_M, PRV_S, PRV_U } from './trap';

function closedHart(program: Parameters<typeof makeHart>[0]) {
  const h = makeHart(program);
  h.pmpaddr[0] = 0;
  h.pmpcfg[0] = 0;
  return h;
}

describe('PMP (priv 3.7)', () => {
  it('with no entry matching, M-mode may access and S/U-mode may not', () => {
    const h = closedHart([]);
    expect(pmpPermissions(h, RAM_BASE, 4, PRV_M)).toBe(7);
    expect(pmpPermissions(h, RAM_BASE, 4, PRV_S)).toBe(0);
    expect(pmpPermissions(h, RAM_BASE, 4, PRV_U)).toBe(0);
  });

  it('an S-mode fetch without a PMP grant is an instruction access fault', () => {
    const h = closedHart([['addi']]);
    h.priv = PRV_S;
    h.run(1);
    expect([h.mcause, h.mtval >>> 0]).toEqual([1, RAM_BASE]);
  });

  it('TOR, NA4 and NAPOT ranges; the lowest matching entry wins; L binds M-mode', () => {
    const h = closedHart([]);
    // Entry 0: NA4 at RAM_BASE+0x100, read-only. Entry 1: TOR up to RAM_BASE+0x2000, RW.
    h.pmpaddr[0] = (RAM_BASE + 0x100) / 4;
    h.pmpcfg[0] = (2 << 3) | 1;
    h.pmpaddr[1] = (RAM_BASE + 0x2000) / 4;
    h.pmpcfg[1] = (1 << 3) | 3;
    // Entry 2: NAPOT 64 KiB at RAM_BASE+0x10000, X only, locked.
    h.pmpaddr[2] = (RAM_BASE + 0x1_0000) / 4 + (0x1_0000 / 8 - 1);
    h.pmpcfg[2] = 0x80 | (3 << 3) | 4;
    expect(pmpPermissions(h, RAM_BASE + 0x100, 4, PRV_S)).toBe(1);
    expect(pmpPermissions(h, RAM_BASE + 0x104, 4, PRV_S)).toBe(3);
    expect(pmpPermissions(h, RAM_BASE + 0x1_8000, 4, PRV_S)).toBe(4);
    expect(pmpPermissions(h, RAM_BASE + 0x1_8000, 4, PRV_M)).toBe(4); // locked: applies to M
    expect(pmpPermissions(h, RAM_BASE + 0x104, 4, PRV_M)).toBe(7); // unlocked: M ignores it
    expect(pmpPermissions(h, RAM_BASE, 4096, PRV_S)).toBe(PMP_SPLIT); // the NA4 entry cuts the page
  });

  it('a locked entry ignores writes to its cfg and address', () => {
    const h = makeHart([
      ['csrrw', { rs1: 5, csr: CSR.pmpcfg0 + 0 }],
      ['csrrw', { rs1: 6, csr: CSR.pmpaddr0 + 1 }],
    ]);
    h.pmpcfg[1] = 0x80 | (2 << 3);
    h.pmpaddr[1] = 0x1234;
    h.x[5] = 0;
    h.x[6] = 0x5678;
    h.run(2);
    expect(h.pmpcfg[1]).toBe(0x80 | (2 << 3));
    expect(h.pmpaddr[1]).toBe(0x1234);
  });
});
