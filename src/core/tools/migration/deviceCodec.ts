/**
 * The bodies of the device entries of HVM_CONTEXT and EMULATOR_CONTEXT (deviceState.ts), and
 * of RV32_VCPU_TIMERS: each device's save record as bytes, and back. Little-endian; every
 * reader checks its length and values, so a stream can only give a device a state its
 * registers can hold (docs/migration.md lists the layouts).
 */
import type { ClintState } from '../../devices/clint';
import type { PlicState } from '../../devices/plic';
import type { Uart16550State } from '../../devices/uart16550';
import type { VirtioMmioState, VirtqueueState } from '../../devices/virtio/state';
import { ByteReader, ByteWriter } from './bytes';
import { HVM_SAVE, type DeviceStateEntry } from './deviceState';

const NONE64 = 0xffff_ffff;

function body(write: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter();
  write(w);
  return w.finish();
}

/** HEADER (instance 0): {u32 magic "HYLB", u32 version 1, u32 nr_vcpus, u32 reserved}. */
export const HVM_HEADER_MAGIC = 0x4859_4c42;
export function headerEntry(nrVcpus: number): DeviceStateEntry {
  return { typecode: HVM_SAVE.HEADER, instance: 0, data: body((w) => w.u32(HVM_HEADER_MAGIC).u32(1).u32(nrVcpus).u32(0)) };
}
export function readHeaderEntry(e: DeviceStateEntry): number {
  const r = new ByteReader(e.data, 0, true, 'HVM HEADER');
  if (r.u32() !== HVM_HEADER_MAGIC) r.fail('bad magic', 0);
  if (r.u32() !== 1) r.fail('version is not 1', 4);
  const n = r.u32('nr_vcpus');
  r.skip(4);
  r.end();
  return n;
}

/** BOARD (instance 0), what the MROM's reset vector names: {u32 entry, u32 fdt_addr, u32 next_addr, u32 a2}. */
export interface BoardState {
  entry: number;
  fdtAddr: number;
  nextAddr: number;
  a2: number;
}
export function boardEntry(b: BoardState): DeviceStateEntry {
  return { typecode: HVM_SAVE.BOARD, instance: 0, data: body((w) => w.u32(b.entry).u32(b.fdtAddr).u32(b.nextAddr).u32(b.a2)) };
}
export function readBoardEntry(e: DeviceStateEntry): BoardState {
  const r = new ByteReader(e.data, 0, true, 'BOARD');
  const b = { entry: r.u32(), fdtAddr: r.u32(), nextAddr: r.u32(), a2: r.u32() };
  r.end();
  return b;
}

/** CLINT, one entry per hart (instance = hart): {u32 msip, u32 reserved, u64 mtimecmp}. mtime is in RV32_VCPU_TIMERS. */
export function clintEntry(hart: number, s: ClintState): DeviceStateEntry {
  return {
    typecode: HVM_SAVE.CLINT,
    instance: hart,
    data: body((w) =>
      w
        .u32(s.msip[0] ? 1 : 0)
        .u32(0)
        .u32(s.mtimecmpLo[0]!)
        .u32(s.mtimecmpHi[0]!),
    ),
  };
}
export function readClintEntry(e: DeviceStateEntry): { msip: boolean; cmp: [number, number] } {
  const r = new ByteReader(e.data, 0, true, 'CLINT');
  const msip = r.u32('msip');
  if (msip > 1) r.fail(`msip ${msip} is not 0 or 1`, 0);
  r.skip(4);
  const cmp: [number, number] = [r.u32(), r.u32()];
  r.end();
  return { msip: msip === 1, cmp };
}

/**
 * PLIC (instance 0): {u32 nr_sources, u32 nr_contexts, u32 nr_words, u32 reserved}, then
 * priority[nr_sources], threshold[nr_contexts], pending[nr_words], claimed[nr_words],
 * enable[nr_contexts * nr_words] (u32 each), then lines as nr_sources bytes, padded to 4.
 */
export function plicEntry(s: PlicState): DeviceStateEntry {
  const words = s.pending.length;
  return {
    typecode: HVM_SAVE.PLIC,
    instance: 0,
    data: body((w) => {
      w.u32(s.priority.length).u32(s.threshold.length).u32(words).u32(0);
      for (const a of [s.priority, s.threshold, s.pending, s.claimed, s.enable]) for (const v of a) w.u32(v >>> 0);
      for (const l of s.lines) w.u8(l ? 1 : 0);
      w.zeros((4 - (s.lines.length % 4)) % 4);
    }),
  };
}
export function readPlicEntry(e: DeviceStateEntry, expect: { sources: number; contexts: number }): PlicState {
  const r = new ByteReader(e.data, 0, true, 'PLIC');
  const nSrc = r.u32(),
    nCtx = r.u32(),
    nWords = r.u32();
  r.skip(4);
  if (nSrc !== expect.sources || nCtx !== expect.contexts || nWords !== (nSrc + 31) >> 5)
    r.fail(`${nSrc} sources and ${nCtx} contexts, where this board's PLIC has ${expect.sources} and ${expect.contexts}`, 0);
  const arr = (n: number): number[] => Array.from({ length: n }, () => r.u32());
  const s: PlicState = { priority: arr(nSrc), threshold: arr(nCtx), pending: arr(nWords), claimed: arr(nWords), enable: arr(nCtx * nWords), lines: [] };
  for (let i = 0; i < nSrc; i++) {
    const b = r.u8();
    if (b > 1) r.fail(`line ${i} level ${b}`);
    s.lines.push(b === 1);
  }
  r.skip((4 - (nSrc % 4)) % 4);
  r.end();
  return s;
}

/**
 * UART_16550 (EMULATOR_CONTEXT, instance 0): the registers rbr ier iir lcr mcr lsr msr scr
 * fcr trigger_level (u8 each), u8 flags (bit 0 THR interrupt pending, bit 1 character
 * timeout pending), u8 rx_count, u16 divider, u16 reserved, u64 timeout deadline (all ones:
 * none), then rx_count bytes of the receive FIFO, padded to 4.
 */
export const UART_FIFO = 16;
export function uartEntry(s: Uart16550State): DeviceStateEntry {
  return {
    typecode: HVM_SAVE.UART_16550,
    instance: 0,
    data: body((w) => {
      for (const v of [s.rbr, s.ier, s.iir, s.lcr, s.mcr, s.lsr, s.msr, s.scr, s.fcr, s.triggerLevel]) w.u8(v & 0xff);
      w.u8((s.thrPending ? 1 : 0) | (s.timeoutPending ? 2 : 0)).u8(s.rxFifo.length);
      w.u16(s.divider & 0xffff).u16(0);
      if (s.timeoutDeadline === null) w.u32(NONE64).u32(NONE64);
      else w.u64(Math.max(0, Math.floor(s.timeoutDeadline)));
      for (const b of s.rxFifo) w.u8(b);
      w.zeros((4 - (s.rxFifo.length % 4)) % 4);
    }),
  };
}
export function readUartEntry(e: DeviceStateEntry): Uart16550State {
  const r = new ByteReader(e.data, 0, true, 'UART_16550');
  const [rbr, ier, iir, lcr, mcr, lsr, msr, scr, fcr, triggerLevel] = Array.from({ length: 10 }, () => r.u8()) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const flags = r.u8(),
    rxLen = r.u8();
  if (flags > 3) r.fail(`flags 0x${flags.toString(16)}`, 10);
  if (rxLen > UART_FIFO) r.fail(`${rxLen} bytes in a ${UART_FIFO}-byte FIFO`, 11);
  if (![1, 4, 8, 14].includes(triggerLevel)) r.fail(`FIFO trigger level ${triggerLevel}`, 9);
  const divider = r.u16();
  r.skip(2);
  const [lo, hi] = r.u64('timeout deadline');
  const rxFifo = Array.from(r.bytesOf(rxLen, 'rx fifo'));
  r.skip((4 - (rxLen % 4)) % 4);
  r.end();
  return {
    rbr,
    ier,
    iir,
    lcr,
    mcr,
    lsr,
    msr,
    scr,
    fcr,
    divider,
    triggerLevel,
    thrPending: (flags & 1) !== 0,
    timeoutPending: (flags & 2) !== 0,
    timeoutDeadline: lo === NONE64 && hi === NONE64 ? null : hi * 0x1_0000_0000 + lo,
    rxFifo,
  };
}

/**
 * RV32_VCPU_TIMERS (0x48590014, mandatory): {u32 count, u32 reserved}, then per vCPU 32
 * bytes {u32 vcpu_id, u32 flags (bit 0 online, bit 1 set_timer_op armed, bit 2 SBI timer
 * armed), u64 mtime at the save, u64 set_timer_op deadline, u64 SBI timer deadline} (times
 * in ticks of the 10 MHz timebase). What the vCPU's own timers were, which Xen's stream
 * leaves to the guest to set again after a cooperative resume.
 */
export interface VcpuTimers {
  vcpu: number;
  online: boolean;
  mtime: number;
  xenTimer: number | null;
  sbiTimer: [number, number] | null;
}
export const VCPU_TIMERS_ENTRY = 32;

export function writeVcpuTimers(w: ByteWriter, ts: readonly VcpuTimers[]): void {
  w.u32(ts.length).u32(0);
  for (const t of ts) {
    w.u32(t.vcpu)
      .u32((t.online ? 1 : 0) | (t.xenTimer !== null ? 2 : 0) | (t.sbiTimer !== null ? 4 : 0))
      .u64(t.mtime)
      .u64(t.xenTimer ?? 0);
    w.u32(t.sbiTimer?.[0] ?? 0).u32(t.sbiTimer?.[1] ?? 0);
  }
}

export function readVcpuTimers(b: Uint8Array, base: number): VcpuTimers[] {
  const r = new ByteReader(b, base, true, 'RV32_VCPU_TIMERS');
  const n = r.u32('count');
  r.skip(4);
  r.need(n * VCPU_TIMERS_ENTRY, `${n} entries`);
  const out: VcpuTimers[] = [];
  for (let i = 0; i < n; i++) {
    const at = r.offset;
    const vcpu = r.u32(),
      flags = r.u32();
    if (flags > 7) r.fail(`vCPU ${vcpu}: unknown flags 0x${flags.toString(16)}`, at);
    const mtime = r.u53('mtime'),
      xen = r.u53('set_timer_op deadline');
    const sbi: [number, number] = [r.u32(), r.u32()];
    if (vcpu !== i) r.fail(`entry ${i} is vCPU ${vcpu}`, at);
    out.push({ vcpu, online: (flags & 1) !== 0, mtime, xenTimer: (flags & 2) !== 0 ? xen : null, sbiTimer: (flags & 4) !== 0 ? sbi : null });
  }
  r.end();
  return out;
}

/**
 * VIRTIO_MMIO, one entry per plugged slot (instance = slot): the transport's registers
 * {u32 device_id, u32 status, u32 interrupt_status, u32 driver_features[2],
 * u32 device_features_sel, u32 driver_features_sel, u32 queue_sel, u32 nr_queues,
 * u32 reserved}, then per queue 40 bytes {u32 num, u32 flags (bit 0 ready, bit 1
 * VIRTIO_F_EVENT_IDX in use, bit 2 VIRTIO_F_INDIRECT_DESC in use), u64 desc, u64 driver
 * (avail), u64 device (used), u16 last_avail_idx, u16 used_idx, u32 reserved}.
 *
 * In-flight descriptors are the chains between last_avail_idx and the driver's avail idx:
 * the device serves each notification inside the exit (mmioDevice.ts), so none is half
 * done at a save, and those not yet taken are in the rings, in the guest's memory; the
 * restored device takes them at once (restore.ts), as QEMU re-submits its inflight
 * requests after a load (virtio_blk_load_device). The values are checked again when they
 * load (devices/virtio/state.ts restoreVirtioMmio: ranges, and a ready queue must lie in the
 * restored domain's memory).
 */
export function virtioEntry(slot: number, s: VirtioMmioState): DeviceStateEntry {
  return {
    typecode: HVM_SAVE.VIRTIO_MMIO,
    instance: slot,
    data: body((w) => {
      w.u32(s.deviceId).u32(s.status).u32(s.interruptStatus).u32(s.driverFeatures[0]).u32(s.driverFeatures[1]);
      w.u32(s.deviceFeaturesSel).u32(s.driverFeaturesSel).u32(s.queueSel).u32(s.queues.length).u32(0);
      for (const q of s.queues) {
        w.u32(q.num).u32((q.ready ? 1 : 0) | (q.eventIdx ? 2 : 0) | (q.indirect ? 4 : 0));
        w.u64(q.descAddr).u64(q.driverAddr).u64(q.deviceAddr).u16(q.lastAvail).u16(q.usedIdx).u32(0);
      }
    }),
  };
}

/** Queues a virtio-mmio entry may carry (virtio-net with its control queue has 3; room to spare). */
const MAX_VIRTIO_QUEUES = 64;

export function readVirtioEntry(e: DeviceStateEntry): VirtioMmioState {
  const r = new ByteReader(e.data, 0, true, `VIRTIO_MMIO ${e.instance}`);
  const deviceId = r.u32('device_id'),
    status = r.u32('status'),
    interruptStatus = r.u32('interrupt_status');
  const driverFeatures: [number, number] = [r.u32('driver_features'), r.u32('driver_features')];
  const deviceFeaturesSel = r.u32('device_features_sel'),
    driverFeaturesSel = r.u32('driver_features_sel'),
    queueSel = r.u32('queue_sel');
  const n = r.u32('nr_queues');
  if (n > MAX_VIRTIO_QUEUES) r.fail(`${n} queues (at most ${MAX_VIRTIO_QUEUES})`, 32);
  r.skip(4);
  const queues: VirtqueueState[] = [];
  for (let i = 0; i < n; i++) {
    const num = r.u32('num');
    const at = r.offset;
    const flags = r.u32('flags');
    if ((flags & ~7) !== 0) r.fail(`queue ${i}: reserved flags 0x${flags.toString(16)}`, at);
    const descAddr = r.u53('desc'),
      driverAddr = r.u53('driver'),
      deviceAddr = r.u53('device');
    const lastAvail = r.u16('last_avail_idx'),
      usedIdx = r.u16('used_idx');
    r.skip(4);
    queues.push({
      num,
      ready: (flags & 1) !== 0,
      eventIdx: (flags & 2) !== 0,
      indirect: (flags & 4) !== 0,
      descAddr,
      driverAddr,
      deviceAddr,
      lastAvail,
      usedIdx,
    });
  }
  r.end();
  return { deviceId, status, interruptStatus, driverFeatures, deviceFeaturesSel, driverFeaturesSel, queueSel, queues };
}
