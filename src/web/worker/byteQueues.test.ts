import { describe, expect, it } from 'vitest';
import { ByteBatch, InputQueue } from './byteQueues';

describe('ByteBatch', () => {
  it('grows past its first buffer and starts over after take()', () => {
    const batch = new ByteBatch();
    for (let i = 0; i < 5000; i++) batch.push(i & 0xff);
    const out = batch.take();
    expect(out.length).toBe(5000);
    expect(out[4999]).toBe(4999 & 0xff);
    expect(batch.length).toBe(0);
    batch.push(7);
    expect([...batch.take()]).toEqual([7]);
  });
});

describe('InputQueue', () => {
  it('stops at the first refused byte and resumes there', () => {
    const q = new InputQueue();
    q.push(Uint8Array.of(1, 2, 3));
    q.push(Uint8Array.of(4, 5));
    const taken: number[] = [];
    let room = 4;
    const accept = (b: number): boolean => {
      if (room === 0) return false;
      room--;
      taken.push(b);
      return true;
    };
    expect(q.feed(accept)).toBe(4);
    expect(q.length).toBe(1);
    room = 10;
    expect(q.feed(accept)).toBe(1);
    expect(taken).toEqual([1, 2, 3, 4, 5]);
    expect(q.length).toBe(0);
  });

  it('keeps its own copy of pushed bytes', () => {
    const q = new InputQueue();
    const bytes = Uint8Array.of(9);
    q.push(bytes);
    bytes[0] = 0;
    const taken: number[] = [];
    q.feed((b) => (taken.push(b), true));
    expect(taken).toEqual([9]);
  });
});
