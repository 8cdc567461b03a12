import { describe, expect, it } from 'vitest';
import { SliceTrace } from './sliceTrace';

const rec = (i: number) => ({ pcpu: i % 2, domid: 1, vcpuId: 0, startNs: i * 10, endNs: i * 10 + 5, reason: 1 });

describe('SliceTrace', () => {
  it('keeps the newest records, oldest first', () => {
    const t = new SliceTrace(4);
    for (let i = 0; i < 6; i++) t.record(rec(i));
    expect(t.total).toBe(6);
    expect(t.since(0).map((r) => r.startNs)).toEqual([20, 30, 40, 50]);
  });
  it('filters by end time', () => {
    const t = new SliceTrace(8);
    for (let i = 0; i < 5; i++) t.record(rec(i));
    expect(t.since(26).map((r) => r.startNs)).toEqual([30, 40]);
  });
});
