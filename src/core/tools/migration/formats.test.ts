/**
 * The layouts against Xen's own numbers (tools/xl/xl.h, tools/libs/light/libxl_sr_stream_format.h,
 * tools/libs/guest/xg_sr_stream_format.h, docs/specs/libx{c,l}-migration-stream.pandoc).
 */
import { describe, expect, it } from 'vitest';
import { ByteWriter } from './bytes';
import { LibxcWriter } from './libxc';
import { MAX_BATCH_SIZE, PFINFO, writePageData } from './pageData';
import { DHDR_SIZE, EMULATOR, IHDR_SIZE, LIBXL_HDR_SIZE, REC_LENGTH_MAX, REC_TYPE_OPTIONAL, XC, XL } from './records';
import { writeSaveFile } from './saveFile';
import { CONFIG, libxcRecords, libxcStart, page, records, sampleHart, sampleImage } from './testing';
import { VCPU_CONTEXT_SIZE } from './vcpuContext';
import { SAVEFILE_MAGIC, XL_HEADER_SIZE } from './xlHeader';

const ascii = (b: Uint8Array): string => String.fromCharCode(...b);
const hexOf = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe("Xen's numbers", () => {
  it('record types are those of xg_sr_stream_format.h and libxl_sr_stream_format.h', () => {
    expect([XC.END, XC.PAGE_DATA, XC.X86_PV_INFO, XC.SHARED_INFO, XC.HVM_CONTEXT, XC.HVM_PARAMS, XC.VERIFY, XC.CHECKPOINT]).toEqual([
      0, 1, 2, 7, 9, 0xa, 0xd, 0xe,
    ]);
    expect([XC.STATIC_DATA_END, XC.X86_CPUID_POLICY, XC.X86_MSR_POLICY]).toEqual([0x10, 0x11, 0x12]);
    expect([XL.END, XL.LIBXC_CONTEXT, XL.EMULATOR_XENSTORE_DATA, XL.EMULATOR_CONTEXT, XL.CHECKPOINT_END, XL.CHECKPOINT_STATE]).toEqual([0, 1, 2, 3, 4, 5]);
    expect([REC_TYPE_OPTIONAL, REC_LENGTH_MAX, MAX_BATCH_SIZE]).toEqual([0x8000_0000, 128 << 20, 1024]);
    expect([PFINFO.NOTAB, PFINFO.L1TAB, PFINFO.L4TAB_PIN, PFINFO.BROKEN, PFINFO.XALLOC, PFINFO.XTAB]).toEqual([0, 1, 0xc, 0xd, 0xe, 0xf]);
    expect([EMULATOR.QEMU_TRADITIONAL, EMULATOR.QEMU_UPSTREAM]).toEqual([1, 2]);
    // sizeof(struct save_file_header), xc_sr_ihdr, xc_sr_dhdr, libxl__sr_hdr
    expect([XL_HEADER_SIZE, IHDR_SIZE, DHDR_SIZE, LIBXL_HDR_SIZE]).toEqual([48, 24, 16, 16]);
  });

  it("hyperlab's record types lie in a block Xen leaves free, mandatory ones without bit 31 and optional ones with it", () => {
    const ours = [XC.RV32_VCPU_CONTEXT, XC.PV_EVTCHN_TABLE, XC.PV_GRANT_TABLE, XC.PV_XENSTORE_SUBTREE, XC.RECORD_CHECKSUM, XC.STREAM_CHECKSUM];
    for (const t of ours) expect((t & 0x7fff_0000) >>> 16).toBe(0x4859);
    expect([XC.RV32_VCPU_CONTEXT, XC.PV_EVTCHN_TABLE, XC.PV_GRANT_TABLE, XC.PV_XENSTORE_SUBTREE].every((t) => (t & REC_TYPE_OPTIONAL) === 0)).toBe(true);
    expect([XC.RECORD_CHECKSUM, XC.STREAM_CHECKSUM].every((t) => (t & REC_TYPE_OPTIONAL) !== 0)).toBe(true);
  });
});

describe('the xl save-file header, byte for byte', () => {
  const file = writeSaveFile({ config: CONFIG, libxc: sampleImage() });

  it('opens with the 32-byte magic, then byteorder 0x01020304, the flags and the config', () => {
    expect(SAVEFILE_MAGIC.length).toBe(32);
    expect(ascii(file.subarray(0, 32))).toBe('Xen saved domain, xl format\n \0 \r');
    expect(hexOf(file.subarray(32, 48))).toBe('04030201' + '02000000' + '00000000' + (4 + CONFIG.length).toString(16).padStart(2, '0') + '000000');
    expect(new DataView(file.buffer).getUint32(48, true)).toBe(CONFIG.length);
    expect(ascii(file.subarray(52, 52 + CONFIG.length))).toBe(CONFIG);
  });

  it('then the libxl header: "LibxlFmt", version 2, options 0 (big-endian fields), and LIBXC_CONTEXT', () => {
    const at = 52 + CONFIG.length;
    expect(ascii(file.subarray(at, at + 8))).toBe('LibxlFmt');
    expect(hexOf(file.subarray(at + 8, at + 16))).toBe('00000002' + '00000000');
    expect(hexOf(file.subarray(at + 16, at + 24))).toBe('01000000' + '00000000'); // LIBXC_CONTEXT, empty
  });

  it('then the libxc image header (marker, "XENF", version 3) and the domain header', () => {
    const at = libxcStart();
    expect(hexOf(file.subarray(at, at + 8))).toBe('ffffffffffffffff');
    expect(ascii(file.subarray(at + 8, at + 12))).toBe('XENF');
    expect(hexOf(file.subarray(at + 12, at + 24))).toBe('00000003' + '0000' + '0000' + '00000000');
    // type 0x48590001 (RV32 hvm), page_shift 12, xen 4.19: little-endian, as Xen's x86 streams
    expect(hexOf(file.subarray(at + 24, at + 40))).toBe('01005948' + '0c00' + '0000' + '04000000' + '13000000');
  });
});

describe('records', () => {
  it('are {type, length, body} padded to 8, each followed by its checksum record, and END is 8 bytes of zeros', () => {
    const file = writeSaveFile({ config: CONFIG, libxc: sampleImage() });
    const recs = records(file, libxcRecords());
    for (const r of recs) expect((r.offset - recs[0]!.offset) % 8).toBe(0);
    const data = recs.filter((r) => r.type !== XC.RECORD_CHECKSUM);
    expect(data.map((r) => r.type)).toEqual([
      XC.STATIC_DATA_END,
      XC.PAGE_DATA,
      XC.RV32_VCPU_CONTEXT,
      XC.RV32_VCPU_CONTEXT,
      XC.HVM_CONTEXT,
      XC.STREAM_CHECKSUM,
      XC.END,
    ]);
    recs.slice(0, -1).forEach((r, i) => expect(r.type === XC.RECORD_CHECKSUM).toBe(i % 2 === 1));
    expect(recs.find((r) => r.type === XC.RV32_VCPU_CONTEXT)!.length).toBe(VCPU_CONTEXT_SIZE);
    const end = recs.at(-1)!;
    expect(hexOf(file.subarray(end.offset, end.offset + 8))).toBe('0000000000000000');
  });

  it('PAGE_DATA: count, pfns with the type in bits 63-60, data for NOTAB pages only; a zero page costs 8 bytes', () => {
    const w = new ByteWriter();
    writePageData(w, [
      { pfn: 0x12, data: page((i) => i) },
      { pfn: 0x13, data: new Uint8Array(4096) },
      { pfn: 0x14, data: 'zero' },
      { pfn: 0x15, data: 'invalid' },
    ]);
    const b = w.finish();
    expect(b.length).toBe(8 + 4 * 8 + 4096);
    expect(hexOf(b.subarray(0, 8))).toBe('04000000' + '00000000');
    expect(hexOf(b.subarray(8, 40))).toBe('1200000000000000' + '13000000000000e0' + '14000000000000e0' + '15000000000000f0');
    expect(b[40 + 5]).toBe(5);
  });

  it('batches hold at most 1024 pages', () => {
    const w = new ByteWriter();
    const x = new LibxcWriter(w, 'hvm');
    const n = x.pages(Array.from({ length: 2500 }, (_, pfn) => ({ pfn, data: 'zero' as const })));
    x.vcpu(sampleHart());
    x.end();
    expect(n).toBe(3);
    const counts = records(w.finish(), 40)
      .filter((r) => r.type === XC.PAGE_DATA)
      .map((r) => new DataView(w.finish().buffer).getUint32(r.offset + 8, true));
    expect(counts).toEqual([1024, 1024, 452]);
  });
});
