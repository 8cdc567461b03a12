/**
 * Domain-0's CPU time (Hypervisor.chargeDom0): the backends' work for a guest's I/O is
 * charged to Domain-0, so `xl list` shows its Time grow while a pv guest benchmarks its
 * disk, and stay put while the guest is idle. Lab 3 ("the Time column is deceptive",
 * src/labs/dom0-time.ts) shows the same in the browser.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { teachingOsWithDisks, typeOn } from './diskTestSupport';
import { sleep, waitForConsole } from '../testing/support';

let hv: Hypervisor | undefined;
let dir = '';
afterEach(() => {
  hv?.shutdownHost();
  hv = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("Domain-0's CPU time", () => {
  it('grows with blkback’s work for a pv guest’s disk I/O, not while the guest is idle, and shows in xl list', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hyperlab-dom0-'));
    const img = join(dir, 'disk.raw');
    writeFileSync(img, new Uint8Array(4 << 20));
    const { h, d, xl } = teachingOsWithDisks('pv', 'io', [`${img},raw,xvda,rw`]);
    hv = h;
    await waitForConsole(d, /io\$ $/, { lf: true, ms: 60_000 });
    // An idle guest (its timer only) gives Domain-0 nothing to do.
    const idle0 = h.dom0CpuNs;
    await sleep(500);
    const idle = h.dom0CpuNs - idle0;
    const before = h.dom0CpuNs;
    await typeOn(h, d, /io\$ $/, 'disk bench 4', /timing: disk bench: \d+ requests/, 120_000);
    const io = h.dom0CpuNs - before;
    // blkback read and wrote 4 MiB twice over (sequential, then random 4 KiB) through grant copies: milliseconds at least.
    expect(io).toBeGreaterThan(2e6);
    expect(io).toBeGreaterThan(10 * idle);
    const row = /^Domain-0\s+0\s+\d+\s+\d+\s+\S+\s+([\d.]+)$/m.exec(xl('list'));
    expect(row, xl('list')).not.toBeNull();
    expect(Number(row![1])).toBe(Number((h.dom0CpuNs / 1e9).toFixed(1)));
  }, 180_000);

  it('counts nested Domain-0 work once', () => {
    // chargeDom0 alone, on an object with just its two fields, against a clock the work moves.
    const fake = { dom0CpuNs: 0, dom0Depth: 0 } as unknown as Hypervisor;
    let clockMs = 1000;
    const now = vi.spyOn(performance, 'now').mockImplementation(() => clockMs);
    try {
      const charge = <T>(work: () => T): T => Hypervisor.prototype.chargeDom0.call(fake, work) as T;
      charge(() => {
        clockMs += 5;
        charge(() => (clockMs += 5));
      });
      expect(fake.dom0CpuNs).toBe(10e6);
      // A handler that throws is charged too, and the depth is back to 0 for the next one.
      expect(() =>
        charge(
          () => (
            (clockMs += 1),
            (() => {
              throw new Error('guest fault');
            })()
          ),
        ),
      ).toThrow('guest fault');
      charge(() => (clockMs += 2));
      expect(fake.dom0CpuNs).toBe(13e6);
    } finally {
      now.mockRestore();
    }
  });
});
