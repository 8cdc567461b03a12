import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENCODINGS, Op } from './encodings';

const source = readFileSync(new URL('./interp.ts', import.meta.url), 'utf8');
const labels = [...source.matchAll(/case (\d+) \/\* (\w+) \*\/:/g)].map((m) => [Number(m[1]), m[2]!] as const);
/** Op numbers by name, from the table rows (a const enum has no runtime object to ask). */
const OP: Record<string, number> = Object.fromEntries([['RESOLVE', Op.RESOLVE], ...ENCODINGS.map((e) => [e.name.toUpperCase().replace('.', '_'), e.op])]);

/** Ops that only reach the interpreter through RESOLVE (see decode.ts). */
const RESOLVED_ONLY = new Set(['ECALL', 'EBREAK', 'SRET', 'MRET', 'WFI', 'SFENCE_VMA', 'LR_W']);

describe('interpreter case labels', () => {
  it('every literal label is the number of the Op it names', () => {
    expect(labels.length).toBeGreaterThan(50);
    for (const [num, name] of labels) expect(OP[name], `case ${num} /* ${name} */`).toBe(num);
  });

  it('every operation of the table has a case (or is decided by RESOLVE)', () => {
    const handled = new Set(labels.map(([, name]) => name));
    for (const e of ENCODINGS) {
      const name = e.name.toUpperCase().replace('.', '_');
      if (!RESOLVED_ONLY.has(name)) expect(handled.has(name), e.name).toBe(true);
    }
    expect(handled.has('RESOLVE')).toBe(true);
  });
});
