import { describe, expect, it } from 'vitest';
import { crc32c } from './crc32c';

/** The textbook bit-at-a-time definition, to check the sliced tables against. */
function slow(bytes: Uint8Array): number {
  let c = 0xffff_ffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f6_3b78 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('CRC-32C', () => {
  it('gives the check value of the Castagnoli polynomial ("123456789" -> 0xE3069283)', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe306_9283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a91_36aa); // RFC 3720 B.4: 32 bytes of zeros
  });

  it('agrees with the bitwise definition at every length and alignment, and continues across calls', () => {
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff);
    for (let start = 0; start < 9; start++) {
      for (const len of [0, 1, 7, 8, 9, 63, 64, 65, 200]) {
        const part = data.subarray(start, start + len);
        expect(crc32c(part)).toBe(slow(part));
        const cut = len >> 1;
        expect(crc32c(part.subarray(cut), crc32c(part.subarray(0, cut)))).toBe(slow(part));
      }
    }
  });
});
