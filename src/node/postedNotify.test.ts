/**
 * Posted QueueNotify (vcpuControl.ts C_POSTED, KVM's ioeventfd): in real time an hvm
 * guest's write to a virtio QueueNotify register does not wait for the device model; the
 * hypervisor serves it at the vCPU's next doorbell, before the event that doorbell carries.
 * Deterministic time keeps it a synchronous request. Either way the disk works and the
 * notification is counted as an exit; a worker's wild C_POSTED bits reach no device that
 * is not plugged.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Hypervisor } from '../core/xen/common/hypervisor';
import * as C from '../core/xen/vcpu/vcpuControl';
import { teachingOsWithDisks, typeOn } from './diskTestSupport';
import { waitForConsole } from '../testing/support';

let hv: Hypervisor | undefined;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hyperlab-posted-'));
});
afterEach(() => {
  hv?.shutdownHost();
  hv = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Boot the hvm teaching OS on one disk, write a sector and read it back; return what was served how. */
async function writeAndRead(opts: { icountShift?: number }) {
  const img = join(dir, 'disk.raw');
  writeFileSync(img, new Uint8Array(1 << 20));
  const { h, d } = teachingOsWithDisks('hvm', 'posted', [`${img},raw,xvda,rw`], opts);
  hv = h;
  const posted = vi.spyOn(h, 'servePosted');
  await waitForConsole(d, /tos\$ $/, { lf: true, ms: 60_000 });
  const notifiesBefore = d.exits.get('mmio:virtio-blk-notify') ?? 0;
  const prompt = /tos\$ $/;
  await typeOn(h, d, prompt, 'disk write 3 posted or not', 'disk: wrote', 60_000);
  const dump = await typeOn(h, d, prompt, 'disk read 3', '|posted or not', 60_000);
  await typeOn(h, d, prompt, 'disk flush', 'flushed: the backend', 60_000);
  const onFile = readFileSync(img)
    .subarray(3 * 512, 3 * 512 + 13)
    .toString();
  return { dump, onFile, notifies: (d.exits.get('mmio:virtio-blk-notify') ?? 0) - notifiesBefore, postedCalls: posted.mock.calls.length, h, d };
}

describe('posted QueueNotify', () => {
  it('in real time the notifications are posted, served, counted, and the disk works', async () => {
    const r = await writeAndRead({});
    expect(r.dump).toContain('|posted or not');
    expect(r.onFile).toBe('posted or not');
    expect(r.notifies).toBeGreaterThanOrEqual(3); // write, read, flush: one request each
    expect(r.postedCalls).toBeGreaterThanOrEqual(r.notifies);
    expect(r.d.vcpus[0]!.cb[C.C_POSTED]).toBe(0); // nothing left behind once the guest is idle
  }, 120_000);

  it('in deterministic time they stay synchronous requests', async () => {
    const r = await writeAndRead({ icountShift: 4 });
    expect(r.onFile).toBe('posted or not');
    expect(r.notifies).toBeGreaterThanOrEqual(3);
    expect(r.postedCalls).toBe(0);
  }, 120_000);

  it('bits a worker sets for slots without a device or queues a device lacks are refused and counted', async () => {
    const { h, d } = await writeAndRead({});
    const v = d.vcpus[0]!;
    const none = d.exits.get('mmio:virtio-none') ?? 0;
    const notifies = d.exits.get('mmio:virtio-blk-notify') ?? 0;
    // Slot 7 holds the disk (the first disk takes the top slot, 0x10008000); slot 0 is empty.
    // Queue 3 of the disk does not exist: the device model ignores it as it would a synchronous write.
    Atomics.store(v.cb, C.C_POSTED, (1 << (0 * 4 + 1)) | (1 << (7 * 4 + 3)));
    h.servePosted(v);
    expect(v.cb[C.C_POSTED]).toBe(0);
    expect(d.exits.get('mmio:virtio-none')).toBe(none + 1);
    expect(d.exits.get('mmio:virtio-blk-notify')).toBe(notifies + 1);
    expect(h.domains.has(d.domid)).toBe(true);
    expect(d.shutdownReason).toBeNull();
    const dump = await typeOn(h, d, /tos\$ $/, 'disk read 3', '|posted or not', 60_000);
    expect(dump).toContain('|posted or not');
  }, 120_000);
});
