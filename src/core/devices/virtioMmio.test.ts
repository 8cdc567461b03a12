import { describe, expect, it } from 'vitest';
import {
  VIRTIO_MMIO_CONFIG,
  VIRTIO_MMIO_DEVICE_ID,
  VIRTIO_MMIO_MAGIC_VALUE,
  VIRTIO_MMIO_QUEUE_NUM_MAX,
  VIRTIO_MMIO_STATUS,
  VIRTIO_MMIO_VENDOR_ID,
  VIRTIO_MMIO_VERSION,
  VirtioMmioTransport,
} from './virtioMmio';

function slot(legacy?: boolean) {
  const levels: boolean[] = [];
  const dev = new VirtioMmioTransport({ irq: { set: (l) => levels.push(l) }, ...(legacy !== undefined ? { legacy } : {}) });
  return { dev, levels };
}

describe('VirtioMmioTransport (empty slot)', () => {
  it('reads as an empty QEMU virt slot: magic, version 1, device 0, vendor QEMU', () => {
    const { dev } = slot();
    expect(dev.read(VIRTIO_MMIO_MAGIC_VALUE, 4)).toBe(0x74726976);
    expect(dev.read(VIRTIO_MMIO_VERSION, 4)).toBe(1);
    expect(dev.read(VIRTIO_MMIO_DEVICE_ID, 4)).toBe(0);
    expect(dev.read(VIRTIO_MMIO_VENDOR_ID, 4)).toBe(0x554d4551);
    expect(dev.deviceId).toBe(0);
    expect(dev.size).toBe(0x200);
  });

  it('reads 0 at every other word of the 0x200-byte window, as QEMU 7.2 did', () => {
    const { dev } = slot();
    for (let off = 0x10; off < 0x200; off += 4) expect(dev.read(off, 4)).toBe(0);
    expect(dev.read(VIRTIO_MMIO_QUEUE_NUM_MAX, 4)).toBe(0);
    expect(dev.read(VIRTIO_MMIO_CONFIG, 4)).toBe(0);
  });

  it('decodes the exact offset and keeps the low bytes for narrow loads (QEMU)', () => {
    const { dev } = slot();
    expect([0, 1, 2, 3].map((o) => dev.read(o, 1))).toEqual([0x76, 0, 0, 0]);
    expect(dev.read(0, 2)).toBe(0x6976);
    expect(dev.read(2, 2)).toBe(0);
    expect(dev.read(4, 1)).toBe(1);
    expect(dev.read(0xc, 1)).toBe(0x51);
    expect(dev.read(0xd, 1)).toBe(0);
    expect(dev.read(0xc, 2)).toBe(0x4551);
    expect(dev.read(0xe, 2)).toBe(0);
  });

  it('ignores writes and never raises its interrupt', () => {
    const { dev, levels } = slot();
    dev.write(VIRTIO_MMIO_STATUS, 4, 0xf);
    dev.write(VIRTIO_MMIO_MAGIC_VALUE, 4, 0);
    dev.write(VIRTIO_MMIO_CONFIG, 1, 1);
    expect(dev.read(VIRTIO_MMIO_STATUS, 4)).toBe(0);
    expect(dev.read(VIRTIO_MMIO_MAGIC_VALUE, 4)).toBe(0x74726976);
    expect(dev.read(VIRTIO_MMIO_CONFIG, 4)).toBe(0);
    expect(levels).toEqual([]);
  });

  it('reports Version 2 when not legacy', () => {
    expect(slot(false).dev.read(VIRTIO_MMIO_VERSION, 4)).toBe(2);
    expect(slot(true).dev.read(VIRTIO_MMIO_VERSION, 4)).toBe(1);
  });
});
