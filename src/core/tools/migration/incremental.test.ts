import { describe, expect, it } from 'vitest';
import { StreamError } from './bytes';
import { XC } from './records';
import { readSaveFile, SaveFileReader, writeSaveFile } from './saveFile';
import { CONFIG, LIMITS, libxcRecords, records, sampleImage } from './testing';

const file = writeSaveFile({ config: CONFIG, libxc: sampleImage('hvm'), emulator: [] });
const whole = readSaveFile(file, LIMITS);

function feed(reader: SaveFileReader, sizes: (i: number) => number, upTo = file.length): ReturnType<SaveFileReader['push']> {
  let got;
  for (let at = 0, i = 0; at < upTo; i++) {
    const n = Math.min(sizes(i), upTo - at);
    got = reader.push(file.subarray(at, at + n));
    at += n;
    if (at < upTo) expect(got).toBeUndefined();
  }
  return got;
}

describe('reading a stream as it arrives', () => {
  it.each([
    ['1 byte', () => 1],
    ['7 bytes', () => 7],
    ['4 KiB', () => 4096],
    ['uneven', (i: number) => 1 + ((i * 2654435761) % 3000)],
  ])('gives the same result in chunks of %s as from the whole file', (_, sizes) => {
    expect(feed(new SaveFileReader(LIMITS), sizes)).toEqual(whole);
  });

  it('hands over each record once verified, pages before END', () => {
    const seen: string[] = [];
    const reader = new SaveFileReader(LIMITS, (layer, rec) => seen.push(`${layer}:${rec.type}`));
    const pd = records(file, libxcRecords()).find((r) => r.type === XC.PAGE_DATA)!;
    feed(reader, () => 100, pd.offset + pd.size + 16);
    expect(seen).toEqual([`libxl:${0x01}`, `libxc:${XC.STATIC_DATA_END}`, `libxc:${XC.PAGE_DATA}`]);
  });

  it('refuses a corrupt record as soon as it has arrived, not at END', () => {
    const pd = records(file, libxcRecords()).find((r) => r.type === XC.PAGE_DATA)!;
    const bad = file.slice();
    bad[pd.offset + 100]! ^= 1;
    const reader = new SaveFileReader(LIMITS);
    expect(reader.push(bad.subarray(0, pd.offset + pd.size + 15))).toBeUndefined();
    expect(() => reader.push(bad.subarray(pd.offset + pd.size + 15, pd.offset + pd.size + 16))).toThrow(/libxc record 1 \(PAGE_DATA\) is corrupt/);
  });

  it('a stream that stops short waits, and is refused when told it has ended', () => {
    const reader = new SaveFileReader(LIMITS);
    expect(reader.push(file.subarray(0, 5000))).toBeUndefined();
    expect(() => reader.push(new Uint8Array(0), true)).toThrow(StreamError);
    const again = new SaveFileReader(LIMITS);
    again.push(file.subarray(0, 5000));
    expect(again.push(file.subarray(5000), true)).toEqual(whole);
  });

  it('refuses bytes after END', () => {
    const reader = new SaveFileReader(LIMITS);
    expect(reader.push(file)).toEqual(whole);
    expect(() => reader.push(Uint8Array.of(0))).toThrow(/1 bytes after the stream's END/);
  });
});

describe('the incremental reader under the fuzzer', () => {
  it('refuses a bit flip wherever it falls, whatever the chunks, with the same line as the whole-file reader', () => {
    for (let at = 0; at < file.length; at += 37) {
      const bad = file.slice();
      bad[at]! ^= 1 << (at % 8);
      let expected = '';
      try {
        readSaveFile(bad, LIMITS);
      } catch (e) {
        expected = (e as Error).message;
      }
      expect(expected).not.toBe('');
      const reader = new SaveFileReader(LIMITS);
      let got = '';
      try {
        for (let p = 0, i = 0; p < bad.length; i++) {
          const n = 1 + ((i * 7919 + at) % 2048);
          reader.push(bad.subarray(p, p + n), p + n >= bad.length);
          p += n;
        }
      } catch (e) {
        expect(e).toBeInstanceOf(StreamError);
        got = (e as Error).message;
      }
      expect(got).toBe(expected);
    }
  });
});
