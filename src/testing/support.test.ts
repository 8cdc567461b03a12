import { describe, expect, it } from 'vitest';
import { assemble } from '../core/cpu/asm';
import { makeHart } from '../core/cpu/testing';
import { consoleText, li, typeInto, until, waitForConsole, wordsToImage } from './support';

describe('test support', () => {
  it('li loads any 32-bit value in two words (lui + addi), as the hart computes it', () => {
    for (const v of [0, 1, -1, 0x7ff, 0x800, 0xfff, 0x1000, 0x8000_0000, 0x8000_0800, 0x7fff_ffff, 0x0a00_0007, -2048]) {
      const h = makeHart([...li(5, v), assemble('ebreak')]);
      h.run(2);
      expect(h.x[5]! | 0).toBe(v | 0);
      expect(li(5, v)).toHaveLength(2);
    }
  });

  it('wordsToImage lays words out little-endian', () => {
    expect([...wordsToImage([0x04030201, -1])]).toEqual([1, 2, 3, 4, 255, 255, 255, 255]);
  });

  it('consoleText, typeInto and waitForConsole', async () => {
    const d = { domid: 7, console: [...'a\r\nb$ '].map((c) => c.charCodeAt(0)) };
    expect(consoleText(d)).toBe('a\r\nb$ ');
    expect(consoleText(d, { lf: true })).toBe('a\nb$ ');
    const typed: [number, string][] = [];
    typeInto({ consoleInput: (domid, bytes) => typed.push([domid, new TextDecoder().decode(bytes)]) }, d, 'ls\n');
    expect(typed).toEqual([[7, 'ls\n']]);
    expect((await waitForConsole(d, 'b$'))[0]).toBe('b$');
    expect((await waitForConsole(d, /^b/m, { lf: true, from: 2 }))[0]).toBe('b');
    setTimeout(() => d.console.push(...[...'(1+1)'].map((c) => c.charCodeAt(0))), 20);
    expect((await waitForConsole(d, '(1+1)', { ms: 5_000 }))[0]).toBe('(1+1)'); // a string is not a pattern
    await expect(waitForConsole(d, 'never', { ms: 30 })).rejects.toThrow(/timed out waiting for never in:\na\r\nb\$ /);
  });

  it('until polls until the condition holds, and times out', async () => {
    let n = 0;
    await until(() => ++n > 3, 5_000);
    expect(n).toBe(4);
    await expect(until(() => false, 20)).rejects.toThrow('timed out');
    await expect(until(() => false, 20, 'the answer')).rejects.toThrow('timed out waiting for the answer');
  });
});
