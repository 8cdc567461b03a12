/**
 * The device records of a save (deviceCodec.ts) and the watches record round-trip through
 * the devices themselves: a CLINT, PLIC and UART driven into a non-reset state, saved,
 * encoded, decoded and loaded into fresh devices, read back register for register. And
 * the restore's own checks (restore.ts checkSaveFile): a stream that parses but does not
 * fit its config is refused, with nothing built.
 */
import { describe, expect, it } from 'vitest';
import { Clint } from '../../devices/clint';
import { Plic } from '../../devices/plic';
import { Uart16550 } from '../../devices/uart16550';
import * as M from '../../board/memoryMap';
import { ByteWriter } from './bytes';
import {
  boardEntry,
  clintEntry,
  headerEntry,
  plicEntry,
  readBoardEntry,
  readClintEntry,
  readHeaderEntry,
  readPlicEntry,
  readUartEntry,
  readVcpuTimers,
  readVirtioEntry,
  uartEntry,
  virtioEntry,
  writeVcpuTimers,
  type VcpuTimers,
} from './deviceCodec';
import type { VirtioMmioState } from '../../devices/virtio/state';
import { readXenstoreWatches, writeXenstoreWatches, type XenstoreWatchRec } from './pvState';
import { checkSaveFile } from './restore';
import { checkMigratable, checkSavable, formatXlConfig } from './save';
import type { Domain } from '../../xen/common/domain';
import { pvLayout } from '../../xen/pv/builder';
import { parseXlConfig, validateDomainConfig } from '../xlConfig';
import type { LibxcImage } from './libxc';
import { ECS } from './pvState';
import { writeSaveFile } from './saveFile';
import { sampleHart, sampleImage } from './testing';

const target = () => ({
  level: 0,
  setInterruptLevel(bit: number, on: boolean) {
    this.level = on ? this.level | (1 << bit) : this.level & ~(1 << bit);
  },
});

describe('device state round trips', () => {
  it('CLINT: msip, mtimecmp and the SBI timer of a hart', () => {
    let now = 5_000_000;
    const clock = { frequency: M.VIRT_TIMEBASE_FREQ, now: () => now };
    const a = new Clint({ harts: [target()], clock, mtimeFromClock: true });
    a.write(0, 4, 1); // msip
    a.write(0x4000, 4, 0x1234_5678); // mtimecmp lo
    a.write(0x4004, 4, 7);
    a.setSupervisorTimer(0, 0x9999, 0);
    const s = a.saveState();
    const e = readClintEntry(clintEntry(0, s));
    expect(e).toEqual({ msip: true, cmp: [0x1234_5678, 7] });
    now = 42; // a new host: its clock reads something else; mtime goes on from the saved value
    const b = new Clint({ harts: [target()], clock, mtimeFromClock: true });
    b.restore({ msip: [e.msip], mtimecmpLo: [e.cmp[0]], mtimecmpHi: [e.cmp[1]], mtime: s.mtime, stimecmp: s.stimecmp! });
    expect(b.saveState()).toEqual(s);
  });

  it('PLIC: priorities, enables, threshold, pending and claimed sources', () => {
    const a = new Plic({ harts: [target()] });
    a.write(4 * 10, 4, 5); // priority of source 10
    a.write(0x2000, 4, 1 << 10); // enable for context 0
    a.setLine(10, true);
    a.write(0x20_0000, 4, 1); // threshold
    const s = a.saveState();
    const back = readPlicEntry(plicEntry(s), { sources: a.numSources, contexts: a.numContexts });
    expect(back).toEqual(s);
    const b = new Plic({ harts: [target()] });
    b.restore(back);
    expect(b.saveState()).toEqual(s);
    expect(() => readPlicEntry(plicEntry(s), { sources: a.numSources, contexts: 4 })).toThrow(/contexts/);
  });

  it('UART: line control, divisor, FIFO contents and pending interrupts', () => {
    const a = new Uart16550({ onTransmit: () => {} });
    a.write(3, 1, 0x80); // DLAB
    a.write(0, 1, 12);
    a.write(3, 1, 0x03);
    a.write(2, 1, 0xc7); // FIFO on, trigger 14
    a.write(1, 1, 0x0f);
    for (const c of 'hello') a.receive(c.charCodeAt(0));
    const s = a.saveState();
    const back = readUartEntry(uartEntry(s));
    expect(back).toEqual(s);
    const b = new Uart16550({ onTransmit: () => {} });
    b.restore(back);
    expect(b.saveState()).toEqual(s);
    const bad = uartEntry(s).data.slice();
    bad[11] = 17; // rx_count beyond the FIFO
    expect(() => readUartEntry({ typecode: 0x20, instance: 0, data: bad })).toThrow(/FIFO/);
  });

  it('the header, the board and the vCPU timers', () => {
    expect(readHeaderEntry(headerEntry(3))).toBe(3);
    const board = { entry: 0x8000_0000, fdtAddr: 0x80e0_0000, nextAddr: 0x8000_0000, a2: 0x1028 };
    expect(readBoardEntry(boardEntry(board))).toEqual(board);
    const ts: VcpuTimers[] = [
      { vcpu: 0, online: true, mtime: 2 ** 40 + 5, xenTimer: 2 ** 40 + 100, sbiTimer: null },
      { vcpu: 1, online: false, mtime: 2 ** 40 + 5, xenTimer: null, sbiTimer: [0xffff_fffe, 3] },
    ];
    const w = new ByteWriter();
    writeVcpuTimers(w, ts);
    expect(readVcpuTimers(w.finish(), 0)).toEqual(ts);
  });

  it('PV_XENSTORE_WATCHES: paths in and out of the home, binary tokens', () => {
    const ws: XenstoreWatchRec[] = [
      { path: 'data/w', token: 'tos-xs', relative: true, inHome: true },
      { path: '@releaseDomain', token: '\u0000\u00ff', relative: false, inHome: false },
      { path: '/local/domain/0/backend', token: 't', relative: false, inHome: false },
    ];
    const w = new ByteWriter();
    writeXenstoreWatches(w, ws);
    expect(readXenstoreWatches(w.finish(), 0)).toEqual(ws);
  });
});

describe('restore refuses a stream that does not fit its config, before building anything', () => {
  const hvm = (
    over: Partial<ReturnType<typeof sampleImage>> = {},
    devices = false,
    config = 'name = "demo"\ntype = "hvm"\nmemory = 4\nfirmware = "sbi"\nvcpus = 2\nkernel = "k"\n',
  ) => {
    const img = { ...sampleImage('hvm'), ...over };
    img.timers = [0, 1].map((vcpu) => ({ vcpu, online: vcpu === 0, mtime: 1000, xenTimer: null, sbiTimer: null }));
    img.hvmContext = [headerEntry(2), boardEntry({ entry: 0x8000_0000, fdtAddr: 0, nextAddr: 0x8000_0000, a2: 0 })];
    if (!devices) return writeSaveFile({ config, libxc: img, emulator: [] });
    const t = target();
    const plic = new Plic({ harts: [t, t] });
    const clint = new Clint({ harts: [t], clock: { frequency: M.VIRT_TIMEBASE_FREQ, now: () => 0 } }).saveState();
    img.hvmContext.push(clintEntry(0, clint), clintEntry(1, clint), plicEntry(plic.saveState()));
    return writeSaveFile({ config, libxc: img, emulator: [uartEntry(new Uart16550({ onTransmit: () => {} }).saveState())] });
  };

  it('a config of another type, or another vCPU count', () => {
    expect(() => checkSaveFile(hvm({}, false, 'name = "demo"\ntype = "pv"\nmemory = 4\nvcpus = 2\nkernel = "k"\n'))).toThrow(
      /hvm domain and its config says type = "pv"/,
    );
    expect(() => checkSaveFile(hvm({}, false, 'name = "demo"\ntype = "hvm"\nmemory = 4\nfirmware = "sbi"\nvcpus = 3\nkernel = "k"\n'))).toThrow(
      /2 vCPU context\(s\) for a domain of 3/,
    );
  });

  it('missing device state, or a hart state the hart cannot hold', () => {
    expect(() => checkSaveFile(hvm())).toThrow(/no CLINT entry for hart 0/);
    const h = sampleHart(0);
    expect(checkSaveFile(hvm({}, true)).vcpus.map((v) => v.online)).toEqual([true, false]);
    const bad = hvm({ vcpus: [{ ...h, csr: { ...h.csr, mstatus: h.csr.mstatus | (2 << 11) } }, sampleHart(1)] }, true); // MPP = 2 does not exist
    expect(() => checkSaveFile(bad)).toThrow(/hart 0: mstatus/);
  });

  it('xl save refuses a domain with foreign grant mappings, and one that has shut down; xl migrate one with nomigrate', () => {
    const d = (over: object): Domain =>
      ({ domid: 3, name: 'x', shutdownReason: null, maptrack: new Map(), config: { nomigrate: false }, ...over }) as unknown as Domain;
    expect(() => checkSavable(d({ maptrack: new Map([[0, {}]]) }))).toThrow(/1 grant mapping\(s\) of other domains' pages/);
    expect(() => checkSavable(d({ shutdownReason: 'poweroff' }))).toThrow(/has shut down/);
    expect(() => checkSavable(d({}))).not.toThrow();
    expect(() => checkSavable(d({ config: { nomigrate: true } }))).not.toThrow(); // as Xen: nomigrate does not stop a save
    expect(() => checkMigratable(d({ config: { nomigrate: true } }))).toThrow(/^domain 3 \(x\) has nomigrate = 1 in its config: it may not be migrated$/);
    expect(() => checkMigratable(d({}))).not.toThrow();
  });

  it('nomigrate = 1 parses, validates again (as Toolstack.create does) and survives formatXlConfig', () => {
    const c = validateDomainConfig(parseXlConfig('name = "n"\nkernel = "k"\nnomigrate = 1\n'));
    expect(c.nomigrate).toBe(true);
    expect(validateDomainConfig(parseXlConfig(formatXlConfig(c))).nomigrate).toBe(true);
    expect(validateDomainConfig(parseXlConfig('name = "n"\nkernel = "k"\nnomigrate = 0\n')).nomigrate).toBe(false);
    expect(() => parseXlConfig('name = "n"\nkernel = "k"\nnomigrate = 2\n')).toThrow(/nomigrate must be between 0 and 1/);
  });

  it('a config with disks needs a virtio-mmio entry for each, on its slot', () => {
    const withDisk = 'name = "x"\ntype = "hvm"\nmemory = 4\nfirmware = "sbi"\nvcpus = 2\nkernel = "k"\ndisk = [ "d.img,raw,xvda,rw" ]\n';
    expect(() => checkSaveFile(hvm({}, true), { configText: withDisk })).toThrow(/^EMULATOR_CONTEXT: no virtio-mmio entry for the device on slot 7$/);
  });

  it('VIRTIO_MMIO entries round-trip, and bad ones are refused', () => {
    const st: VirtioMmioState = {
      deviceId: 2,
      status: 15,
      interruptStatus: 1,
      driverFeatures: [0x3000_0000, 1],
      deviceFeaturesSel: 1,
      driverFeaturesSel: 0,
      queueSel: 0,
      queues: [
        {
          num: 128,
          ready: true,
          eventIdx: true,
          indirect: false,
          descAddr: 0x8100_0000,
          driverAddr: 0x8100_0800,
          deviceAddr: 0x1_8100_1000,
          lastAvail: 65535,
          usedIdx: 7,
        },
      ],
    };
    const e = virtioEntry(7, st);
    expect(e.instance).toBe(7);
    expect(e.data.length).toBe(40 + 40);
    expect(readVirtioEntry(e)).toEqual(st);
    const flags = e.data.slice();
    flags[44] = 8; // queue 0's flags: a reserved bit
    expect(() => readVirtioEntry({ ...e, data: flags })).toThrow(/queue 0: reserved flags 0x8/);
    const many = e.data.slice();
    new DataView(many.buffer).setUint32(32, 65, true);
    expect(() => readVirtioEntry({ ...e, data: many })).toThrow(/65 queues \(at most 64\)/);
    expect(() => readVirtioEntry({ ...e, data: e.data.subarray(0, 60) })).toThrow(/VIRTIO_MMIO 7/);
  });

  it('a replacement config must keep the memory layout', () => {
    expect(() => checkSaveFile(hvm(), { configText: 'name = "x"\ntype = "hvm"\nmemory = 8\nfirmware = "sbi"\nvcpus = 2\nkernel = "k"\n' })).toThrow(
      /keep the saved domain's/,
    );
  });

  it('pv: event channels, grants and special pages that this domain cannot have', () => {
    const config = 'name = "p"\ntype = "pv"\nmemory = 4\nvcpus = 1\nkernel = "k"\n';
    const layout = pvLayout(validateDomainConfig(parseXlConfig(config)));
    const pv = (edit: (img: LibxcImage) => void): Uint8Array => {
      const img = sampleImage('pv');
      img.vcpus = [sampleHart(0)];
      img.timers = [{ vcpu: 0, online: true, mtime: 1, xenTimer: null, sbiTimer: null }];
      img.grants = { frames: [...layout.grantFrames], maptrack: [] };
      img.evtchn = [
        { port: 1, state: ECS.INTERDOMAIN, vcpu: 0, a: 0, b: 7 },
        { port: 2, state: ECS.INTERDOMAIN, vcpu: 0, a: 0, b: 8 },
        { port: 3, state: ECS.VIRQ, vcpu: 0, a: 0, b: 0 },
      ];
      for (const g of layout.specialGfns) img.pages.set(g, 'zero');
      edit(img);
      return writeSaveFile({ config, libxc: img });
    };
    expect(checkSaveFile(pv(() => {})).cfg.type).toBe('pv');
    expect(() => checkSaveFile(pv((i) => (i.evtchn![2]!.a = 99)))).toThrow(/port 3 is bound to virq 99/);
    expect(() => checkSaveFile(pv((i) => (i.evtchn![0]!.state = ECS.UNBOUND)))).toThrow(/ports 1 and 2 must be the console and xenstore channels/);
    expect(() => checkSaveFile(pv((i) => i.evtchn!.push({ port: 9, state: ECS.UNBOUND, vcpu: 0, a: 0x7ff0, b: 0 })))).toThrow(/port 9 names domain 32752/);
    expect(() => checkSaveFile(pv((i) => (i.grants!.maptrack = [{ handle: 0, granter: 3, ref: 1, gfn: 0x500, readonly: true }])))).toThrow(
      /mappings of other domains/,
    );
    expect(() => checkSaveFile(pv((i) => (i.grants!.frames = [1, 2])))).toThrow(/frames 1,2 are not where/);
    expect(() => checkSaveFile(pv((i) => i.pages.delete(layout.specialGfns[0]!)))).toThrow(/lacks the special page/);
  });
});
