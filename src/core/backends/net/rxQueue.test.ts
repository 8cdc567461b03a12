import { describe, expect, it } from 'vitest';
import { RX_QUEUE_MAX, RxQueue } from './rxQueue';

const f = (n: number): Uint8Array => Uint8Array.of(n);

describe('RxQueue', () => {
  it('keeps order, holds at most max frames and half of them per sender, and frees a share as frames go', () => {
    const q = new RxQueue(8);
    const a = {},
      b = {};
    for (let i = 0; i < 6; i++) expect(q.push(f(i), a)).toBe(i < 4);
    expect(q.length).toBe(4);
    for (let i = 0; i < 6; i++) expect(q.push(f(10 + i), b)).toBe(i < 4);
    expect(q.push(f(99), undefined)).toBe(false); // full
    expect([q.shift()![0], q.shift()![0]]).toEqual([0, 1]);
    expect(q.push(f(4), a)).toBe(true); // a's share has room again
    expect(q.push(f(5), a)).toBe(true);
    expect(q.push(f(6), a)).toBe(false);
    const rest: number[] = [];
    for (let x = q.shift(); x; x = q.shift()) rest.push(x[0]!);
    expect(rest).toEqual([2, 3, 10, 11, 12, 13, 4, 5]);
    expect(q.shift()).toBeUndefined();
    q.push(f(1), a);
    q.clear();
    expect(q.length).toBe(0);
    for (let i = 0; i < 4; i++) expect(q.push(f(i), a)).toBe(true);
  });

  it('defaults to 256 frames, 128 per sender', () => {
    const q = new RxQueue();
    let n = 0;
    while (q.push(f(0), 'x')) n++;
    expect(n).toBe(RX_QUEUE_MAX / 2);
    while (q.push(f(0), 'y')) n++;
    expect(n).toBe(RX_QUEUE_MAX);
  });
});
