/** The Chromium part of the disk benchmark (bench/diskBrowser.ts): what it computes outside the page. */
import { describe, expect, it } from 'vitest';
import { BROWSER_DISK_CASES, exitDelta } from '../../bench/diskBrowser';

describe('bench:browser --only disk', () => {
  it('runs pv raw, pv qcow2 overlay and hvm raw', () => {
    expect(BROWSER_DISK_CASES).toEqual([
      { kind: 'pv', format: 'raw' },
      { kind: 'pv', format: 'qcow2' },
      { kind: 'hvm', format: 'raw' },
    ]);
  });

  it('counts the exits by reason between two snapshots of the domain statistics', () => {
    expect(
      exitDelta({ 'mmio:uart0': 10, wfi: 3, 'mmio:virtio-blk': 5 }, { 'mmio:uart0': 25, wfi: 3, 'mmio:virtio-blk': 9, 'mmio:virtio-blk-notify': 2 }),
    ).toEqual({
      'mmio:uart0': 15,
      'mmio:virtio-blk': 4,
      'mmio:virtio-blk-notify': 2,
    });
  });
});
