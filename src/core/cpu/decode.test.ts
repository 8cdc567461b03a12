import { describe, expect, it } from 'vitest';
import { ENCODINGS, HINTS, hartIsaString, Op } from './encodings';
import { buildDispatch, DISPATCH, decodeOp, dispatchKey, KEY_BITS, findEncoding, immB, immI, immJ, immS, immU } from './decode';

/** Deterministic pseudo-random words (xorshift32) so failures reproduce. */
function* words(n: number, seed = 0x1234567): Generator<number> {
  let s = seed;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    yield s | 0;
  }
}

describe('encoding table', () => {
  it('each hint the hart claims decodes as the row that carries it out (PAUSE as FENCE)', () => {
    for (const h of HINTS) expect(decodeOp(h.word), h.name).toBe(h.as);
    expect(hartIsaString()).toBe('rv32ima_zicsr_zifencei_zihintpause');
  });

  it('no two encodings overlap (no word matches two rows)', () => {
    for (let a = 0; a < ENCODINGS.length; a++) {
      for (let b = a + 1; b < ENCODINGS.length; b++) {
        const x = ENCODINGS[a]!,
          y = ENCODINGS[b]!;
        const common = x.mask & y.mask;
        expect((x.match ^ y.match) & common, `${x.name} overlaps ${y.name}`).not.toBe(0);
      }
    }
  });

  it('every row is self-consistent (match has no bits outside mask)', () => {
    for (const r of ENCODINGS) expect(r.match & ~r.mask, r.name).toBe(0);
  });

  it('every Op except ILLEGAL/RESOLVE has exactly one row', () => {
    const seen = new Map<Op, number>();
    for (const r of ENCODINGS) seen.set(r.op, (seen.get(r.op) ?? 0) + 1);
    for (let op = Op.RESOLVE + 1; op < Op.COUNT; op++) expect(seen.get(op), `op ${op}`).toBe(1);
  });
});

describe('dispatch table agrees with the table', () => {
  it('decodes every row match word to its own op', () => {
    for (const r of ENCODINGS) expect(decodeOp(r.match)).toBe(r.op);
  });

  it('agrees with a full linear match on a million random words', () => {
    const mismatches: string[] = [];
    for (const w of words(1_000_000)) {
      const want = findEncoding(w)?.op ?? Op.ILLEGAL;
      if (decodeOp(w) !== want && mismatches.length < 5) mismatches.push((w >>> 0).toString(16));
    }
    expect(mismatches).toEqual([]);
  });

  it('every one of the 2^17 keys holds what testing every row against it gives', () => {
    const keyToBits = (k: number): number => (k & 0x7f) | ((k & 0x380) << 5) | ((k & 0x1fc00) << 15);
    const bad: number[] = [];
    for (let key = 0; key < 1 << 17; key++) {
      const claims = ENCODINGS.filter((r) => ((keyToBits(key) ^ r.match) & r.mask & KEY_BITS) === 0);
      const want = claims.length === 0 ? Op.ILLEGAL : claims.length > 1 || (claims[0]!.mask & ~KEY_BITS) !== 0 ? Op.RESOLVE : claims[0]!.op;
      if (DISPATCH[key] !== want && bad.length < 5) bad.push(key);
    }
    expect(bad).toEqual([]);
  });

  it('two rows claiming one key make it RESOLVE, whatever their order', () => {
    const add = ENCODINGS.find((r) => r.name === 'add')!;
    const twin = { ...add, op: Op.SUB };
    for (const rows of [
      [add, twin],
      [twin, add],
    ])
      expect(buildDispatch(rows)[dispatchKey(add.match)]).toBe(Op.RESOLVE);
    expect(buildDispatch([add])[dispatchKey(add.match)]).toBe(Op.ADD);
  });

  it('words whose low two bits are not 11 are illegal (no C extension)', () => {
    expect(decodeOp(0x0000_0001)).toBe(Op.ILLEGAL);
    expect(decodeOp(0x0000_0000)).toBe(Op.ILLEGAL);
    expect(DISPATCH[dispatchKey(0x33 & ~1)]).toBe(Op.ILLEGAL);
  });

  it('lr.w with rs2 != 0 is illegal; aq/rl bits do not change the op', () => {
    expect(decodeOp(0x1000_202f | (1 << 20))).toBe(Op.ILLEGAL);
    expect(decodeOp(0x1000_202f | (3 << 25))).toBe(Op.LR_W);
    expect(decodeOp(0x0800_202f | (1 << 26))).toBe(Op.AMOSWAP_W);
  });

  it('slli with shamt[5] set is illegal on RV32', () => {
    expect(decodeOp(0x0200_1013)).toBe(Op.ILLEGAL);
  });
});

describe('immediates (Vol. I 2.3)', () => {
  it('I, S, B, U, J immediates decode from known encodings', () => {
    expect(immI(0xfff0_0093 | 0)).toBe(-1); // addi x1, x0, -1
    expect(immS(0xfe11_2e23 | 0)).toBe(-4); // sw x1, -4(x2)
    expect(immB(0xfe00_0ee3 | 0)).toBe(-4); // beq x0, x0, -4
    expect(immB(0x0000_0463)).toBe(8); // beq x0, x0, +8
    expect(immU(0x1234_50b7)).toBe(0x1234_5000); // lui x1, 0x12345
    expect(immJ(0xffdf_f06f | 0)).toBe(-4); // jal x0, -4
    expect(immJ(0x0080_006f)).toBe(8); // jal x0, +8
    expect(immJ(0x8000_006f | 0)).toBe(-(1 << 20)); // jal x0, -1 MiB
  });
});
