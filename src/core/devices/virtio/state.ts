/**
 * Save and restore of a virtio-mmio transport with its queues (DESIGN.md section 8: every
 * stateful component gives a typed record and takes one back). The record is plain data.
 * Restoring treats it as hostile (a save file is input): every field is range-checked and
 * a ready queue must still be a valid queue in the restored domain's memory
 * (SplitVirtqueue.validate); otherwise restore throws with one line and the transport is
 * left reset. Requests complete inside the QueueNotify exit, so nothing is in flight at a
 * save: the rings themselves travel with the guest's memory.
 */
import type { VirtioMmioDevice } from './mmioDevice';

export interface VirtqueueState {
  num: number;
  ready: boolean;
  descAddr: number;
  driverAddr: number;
  deviceAddr: number;
  lastAvail: number;
  usedIdx: number;
  eventIdx: boolean;
  indirect: boolean;
}

export interface VirtioMmioState {
  deviceId: number;
  status: number;
  interruptStatus: number;
  driverFeatures: [number, number];
  deviceFeaturesSel: number;
  driverFeaturesSel: number;
  queueSel: number;
  queues: VirtqueueState[];
}

export function saveVirtioMmio(t: VirtioMmioDevice): VirtioMmioState {
  return {
    deviceId: t.model.deviceId,
    status: t.status,
    interruptStatus: t.interruptStatus,
    driverFeatures: [t.driverFeatures[0]!, t.driverFeatures[1]!],
    deviceFeaturesSel: t.deviceFeaturesSel,
    driverFeaturesSel: t.driverFeaturesSel,
    queueSel: t.queueSel,
    queues: t.queues.map((q) => ({
      num: q.num,
      ready: q.ready,
      descAddr: q.descAddr,
      driverAddr: q.driverAddr,
      deviceAddr: q.deviceAddr,
      lastAvail: q.lastAvail,
      usedIdx: q.usedIdx,
      eventIdx: q.eventIdx,
      indirect: q.indirect,
    })),
  };
}

const u32 = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffff_ffff;
const u16 = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffff;
const addr = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/** Put `s` into `t` (same device type, same number of queues); throws on anything out of range. */
export function restoreVirtioMmio(t: VirtioMmioDevice, s: VirtioMmioState): void {
  const bad = (what: string): never => {
    t.reset();
    throw new Error(`${t.name}: saved state: ${what}`);
  };
  if (s.deviceId !== t.model.deviceId) bad(`device ${String(s.deviceId)} is not ${t.model.deviceId}`);
  if (!Number.isInteger(s.status) || s.status < 0 || s.status > 0xff) bad('bad status');
  if (!Number.isInteger(s.interruptStatus) || s.interruptStatus < 0 || s.interruptStatus > 3) bad('bad interrupt status');
  if (!Array.isArray(s.driverFeatures) || s.driverFeatures.length !== 2 || !s.driverFeatures.every(u32)) bad('bad driver features');
  if (!u32(s.deviceFeaturesSel) || !u32(s.driverFeaturesSel) || !u32(s.queueSel)) bad('bad selectors');
  if (!Array.isArray(s.queues) || s.queues.length !== t.queues.length)
    bad(`${Array.isArray(s.queues) ? s.queues.length : 'no'} queues, not ${t.queues.length}`);
  t.reset();
  s.queues.forEach((qs, i) => {
    const q = t.queues[i]!;
    if (!u32(qs.num) || !addr(qs.descAddr) || !addr(qs.driverAddr) || !addr(qs.deviceAddr) || !u16(qs.lastAvail) || !u16(qs.usedIdx))
      bad(`queue ${i}: bad field`);
    q.num = qs.num;
    q.descAddr = qs.descAddr;
    q.driverAddr = qs.driverAddr;
    q.deviceAddr = qs.deviceAddr;
    q.lastAvail = qs.lastAvail;
    q.usedIdx = qs.usedIdx;
    q.eventIdx = qs.eventIdx === true;
    q.indirect = qs.indirect === true;
    if (qs.ready === true) {
      const why = q.validate();
      if (why !== undefined) bad(why);
      q.ready = true;
    }
  });
  t.status = s.status;
  t.driverFeatures[0] = s.driverFeatures[0];
  t.driverFeatures[1] = s.driverFeatures[1];
  t.deviceFeaturesSel = s.deviceFeaturesSel;
  t.driverFeaturesSel = s.driverFeaturesSel;
  t.queueSel = s.queueSel;
  t.interruptStatus = s.interruptStatus;
  t.irqLevel();
}
