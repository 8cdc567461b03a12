import { describe, expect, it } from 'vitest';
import { utf8Bytes, utf8String } from './utf8';

describe('UTF-8', () => {
  it('agrees with TextEncoder and TextDecoder on valid text', () => {
    for (const s of ['', 'abc', 'café', '€', '𝄞 clef', 'x'.repeat(10000) + 'é']) {
      expect(utf8Bytes(s)).toEqual(new TextEncoder().encode(s));
      expect(utf8String(new TextEncoder().encode(s))).toBe(s);
    }
  });

  it('decodes malformed bytes to U+FFFD without throwing', () => {
    expect(utf8String(new Uint8Array([0x61, 0xff, 0x62]))).toBe('a\ufffdb');
    expect(utf8String(new Uint8Array([0xe2, 0x82]))).toBe('\ufffd\ufffd');
    expect(utf8String(new Uint8Array([0xc0, 0x80]))).toBe('\ufffd\ufffd'); // overlong
    expect(utf8String(new Uint8Array([0xed, 0xa0, 0x80]))).toBe('\ufffd\ufffd\ufffd'); // surrogate
    expect(utf8Bytes('\ud800')).toEqual(new Uint8Array([0xef, 0xbf, 0xbd]));
  });
});
