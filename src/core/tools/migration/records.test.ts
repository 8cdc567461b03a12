import { describe, expect, it } from 'vitest';
import { captureHart, restoreHart } from '../../cpu/hartState';
import { li, makeHart, type Insn } from '../../cpu/testing';
import { ByteReader, ByteWriter } from './bytes';
import { HVM_SAVE, readDeviceState, writeDeviceState } from './deviceState';
import { LibxcWriter, readLibxcStream } from './libxc';
import { readPageData, writePageData, type PageEntry } from './pageData';
import { ECS, readEvtchnTable, readGrantTable, readXenstoreSubtree, writeEvtchnTable, writeGrantTable, writeXenstoreSubtree } from './pvState';
import { XC } from './records';
import { readSaveFile, writeSaveFile } from './saveFile';
import { CONFIG, LIMITS, page, sampleHart, sampleImage } from './testing';
import { readVcpuContext, VCPU_CONTEXT_SIZE, writeVcpuContext } from './vcpuContext';
import { readXlHeader, writeXlHeader } from './xlHeader';

function body(write: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter();
  write(w);
  return w.finish();
}

describe('every record round-trips', () => {
  it('xl header with its config (and one without)', () => {
    for (const config of [CONFIG, '']) {
      const b = body((w) => writeXlHeader(w, { config, json: false }));
      expect(readXlHeader(new ByteReader(b))).toEqual({ config, json: false });
    }
  });

  it('RV32_VCPU_CONTEXT: every register of a hart that ran a program', () => {
    const s = sampleHart(0, 1234);
    const b = body((w) => writeVcpuContext(w, s));
    expect(b.length).toBe(VCPU_CONTEXT_SIZE);
    expect(readVcpuContext(b, 0)).toEqual(s);
    const none = { ...s, reservation: null, wfi: true };
    expect(
      readVcpuContext(
        body((w) => writeVcpuContext(w, none)),
        0,
      ),
    ).toEqual(none);
  });

  it('PAGE_DATA: data, zero and invalid pages', () => {
    const batch: PageEntry[] = [
      { pfn: 3, data: page((i) => i ^ 0x33) },
      { pfn: 4, data: 'zero' },
      { pfn: 9, data: 'invalid' },
    ];
    expect(
      readPageData(
        body((w) => writePageData(w, batch)),
        0,
        16,
      ),
    ).toEqual(batch);
  });

  it('HVM_CONTEXT / EMULATOR_CONTEXT device entries', () => {
    const entries = [
      { typecode: HVM_SAVE.UART_16550, instance: 0, data: Uint8Array.of(1, 2, 3, 4, 5) },
      { typecode: HVM_SAVE.VIRTIO_MMIO, instance: 7, data: new Uint8Array(0) },
    ];
    expect(
      readDeviceState(
        body((w) => writeDeviceState(w, entries)),
        0,
        'HVM_CONTEXT',
      ),
    ).toEqual(entries);
  });

  it('PV_EVTCHN_TABLE, PV_GRANT_TABLE, PV_XENSTORE_SUBTREE', () => {
    const img = sampleImage('pv');
    expect(
      readEvtchnTable(
        body((w) => writeEvtchnTable(w, img.evtchn!)),
        0,
      ),
    ).toEqual(img.evtchn);
    expect(
      readGrantTable(
        body((w) => writeGrantTable(w, img.grants!)),
        0,
      ),
    ).toEqual(img.grants);
    expect(
      readXenstoreSubtree(
        body((w) => writeXenstoreSubtree(w, img.xenstore!)),
        0,
      ),
    ).toEqual(img.xenstore);
  });

  it.each(['hvm', 'pv'] as const)('a whole %s save file: header, libxl, libxc, every record', (kind) => {
    const libxc = sampleImage(kind);
    const emulator = kind === 'hvm' ? [{ typecode: HVM_SAVE.UART_16550, instance: 0, data: Uint8Array.of(9, 8, 7) }] : undefined;
    const file = writeSaveFile(emulator ? { config: CONFIG, libxc, emulator } : { config: CONFIG, libxc });
    const got = readSaveFile(file, LIMITS);
    expect(got.header.config).toBe(CONFIG);
    expect(got.emulator).toEqual(emulator);
    const { skipped, pageRecords, pageEntries, streamCrc, ...image } = got.libxc;
    expect(image).toEqual(libxc);
    expect([skipped, pageRecords, pageEntries]).toEqual([[], 1, 4]);
    expect(streamCrc).not.toBe(0);
    expect(got.skipped).toEqual([]);
  });

  it('later PAGE_DATA rounds replace earlier pages, and XTAB removes one (live migration)', () => {
    const w = new ByteWriter();
    const x = new LibxcWriter(w, 'hvm');
    x.pages([
      { pfn: 1, data: page(() => 1) },
      { pfn: 2, data: page(() => 2) },
    ]);
    x.pages([
      { pfn: 1, data: page(() => 3) },
      { pfn: 2, data: 'invalid' },
    ]);
    x.vcpu(sampleHart());
    x.end();
    const got = readLibxcStream(new ByteReader(w.finish()), LIMITS);
    expect([...got.pages.keys()]).toEqual([1]);
    expect(got.pages.get(1)).toEqual(page(() => 3));
    expect([got.pageRecords, got.pageEntries]).toEqual([2, 4]);
  });

  it('an optional record from a future version is skipped, in both layers, and the stream is read', () => {
    const future = 0xc859_7777,
      futureXl = 0x8000_0042;
    const file = writeSaveFile({
      config: CONFIG,
      libxc: (w) => {
        const x = new LibxcWriter(w, 'hvm');
        x.record(future, (b) => b.u32(0xdead_beef).u32(1).u8(7)); // 9 bytes: padded
        x.staticDataEnd();
        x.pages([{ pfn: 0, data: page((i) => i) }]);
        x.record(future);
        x.vcpu(sampleHart());
        return x.end();
      },
      extra: [{ type: futureXl, body: Uint8Array.of(1, 2, 3) }],
    });
    const got = readSaveFile(file, LIMITS);
    expect(got.libxc.skipped.map((s) => [s.type, s.length])).toEqual([
      [future, 9],
      [future, 0],
    ]);
    expect(got.libxc.vcpus).toHaveLength(1);
    expect(got.skipped.map((s) => [s.type, s.length])).toEqual([[futureXl, 3]]);
  });

  it('x86 and checkpoint records are refused by name', () => {
    for (const [type, message] of [
      [XC.X86_PV_INFO, /x86 record/],
      [XC.CHECKPOINT, /checkpointed streams/],
      [XC.HVM_PARAMS, /x86 record/],
    ] as const) {
      const w = new ByteWriter();
      const x = new LibxcWriter(w, 'hvm');
      x.staticDataEnd();
      x.record(type, (b) => b.u32(0).u32(0));
      x.vcpu(sampleHart());
      x.end();
      expect(() => readLibxcStream(new ByteReader(w.finish()), LIMITS)).toThrow(message);
    }
  });

  it('the pv records belong to pv domains and HVM_CONTEXT to hvm ones', () => {
    const w = new ByteWriter();
    const x = new LibxcWriter(w, 'hvm');
    x.staticDataEnd();
    x.evtchnTable([{ port: 1, state: ECS.IPI, vcpu: 0, a: 0, b: 0 }]);
    x.vcpu(sampleHart());
    x.end();
    expect(() => readLibxcStream(new ByteReader(w.finish()), LIMITS)).toThrow(/is for pv domains and this one is hvm/);
  });
});

describe('a hart through a save file', () => {
  it('runs on after the round trip exactly as the original', () => {
    const program: Insn[] = [
      ...li(6, 0x7654_3210),
      ['addi', { rd: 1, rs1: 1, imm: 5 }],
      ['xor', { rd: 2, rs1: 2, rs2: 6 }],
      ['mul', { rd: 6, rs1: 6, rs2: 1 }],
      ['jal', { imm: -12 }],
    ];
    const a = makeHart(program);
    a.run(999);
    const ram = new Map<number, Uint8Array | 'zero'>();
    for (let pfn = 0; pfn < 4; pfn++) ram.set(pfn, a.bus.ram.u8.slice(pfn * 4096, pfn * 4096 + 4096));
    const file = writeSaveFile({ config: CONFIG, libxc: { kind: 'hvm', xenMajor: 4, xenMinor: 19, pages: ram, vcpus: [captureHart(a)] } });

    const got = readSaveFile(file, LIMITS);
    const b = makeHart();
    for (const [pfn, data] of got.libxc.pages) if (data !== 'zero') b.bus.ram.u8.set(data, pfn * 4096);
    restoreHart(b, got.libxc.vcpus[0]!);
    a.run(1000);
    b.run(1000);
    expect(captureHart(b)).toEqual(captureHart(a));
  });
});
