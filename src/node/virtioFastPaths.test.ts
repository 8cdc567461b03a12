/**
 * The two ways an hvm guest's virtio accesses avoid a synchronous round trip to the
 * hypervisor thread (vcpuControl.ts):
 * - posted QueueNotify (C_POSTED, KVM's ioeventfd): in real time the write does not wait
 *   for the device model; the hypervisor serves it at the vCPU's next doorbell, before the
 *   event that doorbell carries;
 * - InterruptStatus and InterruptACK served by the vCPU from a shared word (C_VIRTIO_ISR),
 *   with one vCPU in real time, counted as `mmio:virtio-isr-local`.
 * Deterministic time keeps every access a synchronous exit, and so does a domain with two
 * vCPUs for the interrupt registers. Either way the disk works; a worker's wild C_POSTED
 * bits reach no device that is not plugged.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { parseXlConfig } from '../core/tools/xlConfig';
import * as C from '../core/xen/vcpu/vcpuControl';
import type { Domain } from '../core/xen/common/domain';
import { VirtioMmioDevice } from '../core/devices/virtio/mmioDevice';
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

/** InterruptStatus of the disk's device (slot 7: the first disk takes the top slot, 0x10008000). */
function isrOf(d: Domain): number | undefined {
  const dev = d.kind === 'hvm' ? d.virtio[7] : undefined;
  return dev instanceof VirtioMmioDevice ? dev.interruptStatus : undefined;
}

/** Boot the hvm teaching OS on one disk, write a sector, read it back, flush; return what was served how. */
async function writeAndRead(opts: { icountShift?: number; vcpus?: number }) {
  const img = join(dir, 'disk.raw');
  writeFileSync(img, new Uint8Array(1 << 20));
  const { h, d } = teachingOsWithDisks('hvm', 'posted', [`${img},raw,xvda,rw`], opts);
  hv = h;
  const posted = vi.spyOn(h, 'servePosted');
  await waitForConsole(d, /tos\$ $/, { lf: true, ms: 60_000 });
  const count = (reason: string): number => d.exits.get(reason) ?? 0;
  const before = { notify: count('mmio:virtio-blk-notify'), regs: count('mmio:virtio-blk'), local: count('mmio:virtio-isr-local') };
  const prompt = /tos\$ $/;
  await typeOn(h, d, prompt, 'disk write 3 posted or not', 'disk: wrote', 60_000);
  const dump = await typeOn(h, d, prompt, 'disk read 3', '|posted or not', 60_000);
  await typeOn(h, d, prompt, 'disk flush', 'flushed: the backend', 60_000);
  await typeOn(h, d, prompt, 'echo settled', 'settled', 60_000); // a slice end since: the local counts are in
  const onFile = readFileSync(img)
    .subarray(3 * 512, 3 * 512 + 13)
    .toString();
  return {
    dump,
    onFile,
    notifies: count('mmio:virtio-blk-notify') - before.notify,
    registerExits: count('mmio:virtio-blk') - before.regs,
    isrLocal: count('mmio:virtio-isr-local') - before.local,
    postedCalls: posted.mock.calls.length,
    h,
    d,
  };
}

describe('virtio accesses without a synchronous round trip', () => {
  it('in real time with one vCPU: notifications are posted, interrupt registers served in the vCPU, the disk works', async () => {
    const r = await writeAndRead({});
    expect(r.dump).toContain('|posted or not');
    expect(r.onFile).toBe('posted or not');
    expect(r.notifies).toBeGreaterThanOrEqual(3); // write, read, flush: one request each
    expect(r.postedCalls).toBeGreaterThanOrEqual(r.notifies);
    // Each request's interrupt: an InterruptStatus read and an InterruptACK write, both local.
    expect(r.isrLocal).toBeGreaterThanOrEqual(2 * 3);
    expect(r.registerExits).toBe(0);
    expect(r.d.vcpus[0]!.cb[C.C_POSTED]).toBe(0); // nothing left behind once the guest is idle
    expect(isrOf(r.d)).toBe(0); // every interrupt acknowledged
  }, 120_000);

  it('in deterministic time every access stays a synchronous exit', async () => {
    const r = await writeAndRead({ icountShift: 4 });
    expect(r.onFile).toBe('posted or not');
    expect(r.notifies).toBeGreaterThanOrEqual(3);
    expect(r.postedCalls).toBe(0);
    expect(r.isrLocal).toBe(0);
    expect(r.registerExits).toBeGreaterThanOrEqual(2 * 3);
  }, 120_000);

  it('with two vCPUs, or in deterministic time, devices keep InterruptStatus to themselves (each vCPU has its own copy of the line)', () => {
    const boot = (icountShift?: number): Hypervisor =>
      new Hypervisor({ memoryMiB: 32, pcpus: 1, host: { start: () => ({ terminate: () => {} }) }, ...(icountShift !== undefined ? { icountShift } : {}) });
    const kernel = Uint8Array.of(0x6f, 0, 0, 0);
    const real = boot();
    hv = real;
    const one = real.createDomain(parseXlConfig('name = "one"\ntype = "hvm"\nmemory = 8\nkernel = "k"'), { kernel });
    const two = real.createDomain(parseXlConfig('name = "two"\ntype = "hvm"\nmemory = 8\nkernel = "k"\nvcpus = 2\nfirmware = "sbi"'), { kernel });
    expect(real.virtioIsr(one, 7)).toEqual({ cells: one.vcpus[0]!.cb, index: C.C_VIRTIO_ISR + 7 });
    expect(real.virtioIsr(two, 7)).toBeUndefined();
    real.shutdownHost();
    const det = boot(4);
    hv = det;
    const d = det.createDomain(parseXlConfig('name = "det"\ntype = "hvm"\nmemory = 8\nkernel = "k"'), { kernel });
    expect(det.virtioIsr(d, 7)).toBeUndefined();
  });

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
    // A worker writing nonsense into the shared InterruptStatus: the device reads two bits of it.
    Atomics.store(v.cb, C.C_VIRTIO_ISR + 7, -1);
    expect(isrOf(d)).toBe(3);
    Atomics.store(v.cb, C.C_VIRTIO_ISR + 7, 0);
    expect(h.domains.has(d.domid)).toBe(true);
    expect(d.shutdownReason).toBeNull();
    const dump = await typeOn(h, d, /tos\$ $/, 'disk read 3', '|posted or not', 60_000);
    expect(dump).toContain('|posted or not');
  }, 120_000);
});
