import { describe, expect, it } from 'vitest';
import { SifiveTest, type FinishEvent } from './sifiveTest';

function setup() {
  const events: FinishEvent[] = [];
  const dev = new SifiveTest({ onFinish: (e) => events.push(e) });
  return { dev, events };
}

describe('SifiveTest', () => {
  it('reports pass, fail with code, and reset', () => {
    const { dev, events } = setup();
    dev.write(0, 4, 0x5555);
    dev.write(0, 4, 0x3333 | (42 << 16));
    dev.write(0, 4, (0xffff << 16) | 0x3333);
    dev.write(0, 4, 0x7777);
    expect(events).toEqual([
      { kind: 'pass', code: 0 },
      { kind: 'fail', code: 42 },
      { kind: 'fail', code: 0xffff },
      { kind: 'reset', code: 0 },
    ]);
  });

  it('accepts 16-bit writes as QEMU does, ignores bytes, other offsets and values', () => {
    const { dev, events } = setup();
    dev.write(0, 2, 0x5555);
    dev.write(0, 1, 0x55);
    dev.write(4, 4, 0x5555);
    dev.write(0, 4, 0x1234);
    dev.write(0, 4, 0x5556);
    expect(events).toEqual([{ kind: 'pass', code: 0 }]);
  });

  it('reads as zero and has the virt window', () => {
    const { dev } = setup();
    expect(dev.read(0, 4)).toBe(0);
    expect(dev.size).toBe(0x1000);
    expect(dev.name).toBe('test');
  });
});
