/**
 * The stream fuzzer of issue 15: every damaged stream is refused with one line naming the
 * byte offset, as a StreamError (never a RangeError from a typed array, never a non-Error,
 * never a hang).
 */
import { describe, expect, it } from 'vitest';
import { StreamError } from './bytes';
import { LibxcWriter } from './libxc';
import { XC } from './records';
import { readSaveFile, writeSaveFile, type SaveImage } from './saveFile';
import { CONFIG, LIMITS, libxcRecords, page, records, sampleHart, sampleImage } from './testing';

function refused(bytes: Uint8Array, message?: RegExp): StreamError {
  let caught: unknown;
  try {
    readSaveFile(bytes, LIMITS);
  } catch (e) {
    caught = e;
  }
  if (!(caught instanceof StreamError)) throw new Error(`expected a StreamError, got ${String(caught)}`);
  expect(caught.message).not.toMatch(/\n/);
  expect(caught.message).toMatch(/\(at byte \d+\)$/);
  if (message) expect(caught.message).toMatch(message);
  return caught;
}

/** A save file whose libxc stream `build` writes with a LibxcWriter. */
function custom(build: (x: LibxcWriter) => void): Uint8Array {
  const img: SaveImage = {
    config: CONFIG,
    libxc: (w) => {
      const x = new LibxcWriter(w, 'hvm');
      build(x);
      return x.end();
    },
  };
  return writeSaveFile(img);
}

const good = writeSaveFile({ config: CONFIG, libxc: sampleImage('hvm'), emulator: [] });
const goodPv = writeSaveFile({ config: CONFIG, libxc: sampleImage('pv') });
const twoBatches = custom((x) => {
  x.pages([{ pfn: 1, data: page((i) => i) }]);
  x.pages([{ pfn: 2, data: page((i) => i * 3) }]);
  x.vcpu(sampleHart());
});

describe('the stream fuzzer', () => {
  it('reads the undamaged streams', () => {
    expect(readSaveFile(good, LIMITS).libxc.vcpus).toHaveLength(2);
    expect(readSaveFile(goodPv, LIMITS).libxc.xenstore).toHaveLength(2);
    expect(readSaveFile(twoBatches, LIMITS).libxc.pageRecords).toBe(2);
  });

  it('refuses the stream cut at any length', () => {
    for (let n = 0; n < good.length; n += n < 200 ? 1 : 61) refused(good.subarray(0, n));
    refused(good.subarray(0, good.length - 1));
  });

  it.each([
    ['hvm', good],
    ['pv', goodPv],
  ])('refuses every single-bit flip in a %s file, wherever it falls', (_, file) => {
    for (let at = 0; at < file.length; at++) {
      const bad = file.slice();
      bad[at]! ^= 1 << ((at * 5) % 8);
      refused(bad);
    }
  });

  it('names the offset of the corrupt record', () => {
    const vcpu = records(good, libxcRecords()).find((r) => r.type === XC.RV32_VCPU_CONTEXT)!;
    const bad = good.slice();
    bad[vcpu.offset + 8 + 100]! ^= 0x10;
    const e = refused(bad, /libxc record \d+ \(RV32_VCPU_CONTEXT\) is corrupt/);
    expect(e.offset).toBe(vcpu.offset);
  });

  it('refuses records swapped whole (with their checksums), and swapped with re-numbered checksums', () => {
    const recs = records(twoBatches, libxcRecords());
    const pd = recs.flatMap((r, i) => (r.type === XC.PAGE_DATA ? [i] : []));
    const [a, b] = [recs[pd[0]!]!, recs[pd[1]!]!];
    const pairSize = a.size + 16;
    const swap = (renumber: boolean): Uint8Array => {
      const out = twoBatches.slice();
      const first = twoBatches.slice(a.offset, a.offset + pairSize),
        second = twoBatches.slice(b.offset, b.offset + pairSize);
      out.set(second, a.offset);
      out.set(first, b.offset);
      if (renumber) {
        const dv = new DataView(out.buffer);
        const ia = dv.getUint32(a.offset + a.size + 12, true),
          ib = dv.getUint32(b.offset + a.size + 12, true);
        dv.setUint32(a.offset + a.size + 12, ib, true);
        dv.setUint32(b.offset + a.size + 12, ia, true);
      }
      return out;
    };
    refused(swap(false), /out of place/);
    refused(swap(true), /stream checksum .* reordered/);
  });

  it('refuses a dropped record', () => {
    const recs = records(twoBatches, libxcRecords());
    const a = recs.find((r) => r.type === XC.PAGE_DATA)!;
    const out = new Uint8Array(twoBatches.length - a.size - 16);
    out.set(twoBatches.subarray(0, a.offset));
    out.set(twoBatches.subarray(a.offset + a.size + 16), a.offset);
    refused(out, /out of place|stream holds/);
  });

  it('refuses an unknown mandatory record, checksums and all', () => {
    refused(
      custom((x) => {
        x.staticDataEnd();
        x.record(0x0000_0099, (w) => w.u32(1));
        x.vcpu(sampleHart());
      }),
      /libxc record 1 \(type 0x00000099\): unknown mandatory record/,
    );
  });

  it('refuses a PAGE_DATA whose count does not match its pages', () => {
    refused(
      custom((x) => {
        x.staticDataEnd();
        x.record(XC.PAGE_DATA, (w) =>
          w
            .u32(2)
            .u32(0)
            .u32(1)
            .u32(0)
            .u32(2)
            .u32(0)
            .bytes(page(() => 1)),
        );
        x.vcpu(sampleHart());
      }),
      /page count mismatch: 2 of 2 pfns carry data/,
    );
    refused(
      custom((x) => {
        x.staticDataEnd();
        x.record(XC.PAGE_DATA, (w) => w.u32(0).u32(0));
        x.vcpu(sampleHart());
      }),
      /count 0/,
    );
    refused(
      custom((x) => {
        x.staticDataEnd();
        x.record(XC.PAGE_DATA, (w) =>
          w
            .u32(1025)
            .u32(0)
            .zeros(1025 * 8),
        );
        x.vcpu(sampleHart());
      }),
      /count 1025/,
    );
  });

  it('refuses a pfn beyond the domain', () => {
    refused(
      custom((x) => {
        x.pages([{ pfn: LIMITS.maxPfn, data: page(() => 1) }]);
        x.vcpu(sampleHart());
      }),
      /pfn 100 is beyond the domain's 100 frames/,
    );
  });

  it('refuses x86 page types', () => {
    refused(
      custom((x) => {
        x.staticDataEnd();
        x.record(XC.PAGE_DATA, (w) =>
          w
            .u32(1)
            .u32(0)
            .u32(1)
            .u32(1 << 28)
            .bytes(page(() => 1)),
        );
        x.vcpu(sampleHart());
      }),
      /page type 0x1 is not one an RV32 domain has/,
    );
  });

  it('refuses version mismatches in each layer', () => {
    const libxcAt = libxcRecords() - 40;
    const v2 = good.slice();
    v2[libxcAt + 15] = 2;
    refused(v2, /libxc stream version 2; hyperlab reads version 3/);
    const libxlAt = 52 + CONFIG.length;
    const v1 = good.slice();
    v1[libxlAt + 11] = 1;
    refused(v1, /libxl stream version 1/);
    const legacy = good.slice();
    legacy[36] = 0;
    refused(legacy, /legacy \(v1\) stream/);
    const x86 = good.slice();
    x86[libxcAt + 24] = 2;
    x86[libxcAt + 26] = x86[libxcAt + 27] = 0;
    refused(x86, /domain type 0x00000002 \(x86 HVM\) is not an RV32 hyperlab domain/);
  });

  it('refuses a stream that stops in the middle of a page', () => {
    const pd = records(good, libxcRecords()).find((r) => r.type === XC.PAGE_DATA)!;
    refused(good.subarray(0, pd.offset + 8 + 40 + 2000), /truncated: libxc record 1 \(PAGE_DATA\) needs/);
  });

  it("refuses a stream without hyperlab's checksums (as Xen writes them)", () => {
    const recs = records(good, libxcRecords());
    const sde = recs[0]!;
    const bad = good.slice();
    new DataView(bad.buffer).setUint32(sde.offset + 8, 0xc859_0003, true); // the checksum record becomes another optional one
    refused(bad, /libxc record 0 \(STATIC_DATA_END\) has no checksum record after it/);
  });

  it('refuses out-of-order, repeated and missing state', () => {
    refused(
      custom((x) => {
        x.record(XC.STATIC_DATA_END);
        x.staticDataEnd();
        x.vcpu(sampleHart());
      }),
      /STATIC_DATA_END\): appears twice/,
    );
    refused(
      custom((x) => {
        x.vcpu(sampleHart());
        x.staticDataEnd();
      }),
      /RV32_VCPU_CONTEXT\): comes before STATIC_DATA_END/,
    );
    refused(
      custom((x) => {
        x.staticDataEnd();
        x.vcpu(sampleHart());
        x.pages([{ pfn: 1, data: page(() => 1) }]);
      }),
      /PAGE_DATA\): comes after the vCPU/,
    );
    refused(
      custom((x) => {
        x.pages([{ pfn: 1, data: page(() => 1) }]);
      }),
      /no vCPU context/,
    );
    refused(
      custom((x) => {
        x.staticDataEnd();
        x.vcpu(sampleHart(1));
      }),
      /vCPU 0 has no context/,
    );
  });

  it('refuses garbage, bytes after END, and random data after a good header', () => {
    let seed = 12345;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 200; i++) {
      const junk = Uint8Array.from({ length: rnd() * 4 }, rnd);
      refused(junk);
      const mixed = good.slice(0, 48 + (i % 200));
      const tail = Uint8Array.from({ length: 64 + i }, rnd);
      const both = new Uint8Array(mixed.length + tail.length);
      both.set(mixed);
      both.set(tail, mixed.length);
      refused(both);
    }
    const extra = new Uint8Array(good.length + 8);
    extra.set(good);
    refused(extra, /8 bytes after the stream's END/);
  });
});
