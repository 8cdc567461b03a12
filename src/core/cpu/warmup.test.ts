import { describe, expect, it } from 'vitest';
import { decodeOp } from './decode';
import { Op } from './encodings';
import { PRV_M } from './trap';
import { ITERATIONS, TRAPS_PER_BODY, warmUpInterpreter, warmupProgram } from './warmup';

describe('interpreter warm-up', () => {
  it('contains every RV32IMA instruction the interpreter has a case for', () => {
    const ops = new Set(warmupProgram().map(decodeOp));
    const missing = [];
    for (let op = Op.LUI; op < Op.COUNT; op++) if (!ops.has(op) && op !== Op.SRET) missing.push(op);
    expect(missing).toEqual([]); // SRET is left out: the program leaves S-mode by ECALL
  });

  it('runs its body in M-mode and again in S-mode through Sv32 with the same result, then waits', () => {
    const h = warmUpInterpreter();
    expect(h.wfi).toBe(true);
    expect(h.priv).toBe(PRV_M);
    expect(h.satp).toBe(0);
    expect(h.x[1]).toBe(0); // both loops ran out
    expect(h.x[29]).toBe(2 * ITERATIONS * TRAPS_PER_BODY); // only the body's own traps
    const half = h.x[28]!;
    expect(half).not.toBe(0);
    expect(h.x[31]).toBe((2 * half) | 0); // the S-mode half computed exactly what the M-mode half did
  });
});
