/**
 * Log-dirty mode on real vCPU workers: a bare hvm guest whose harts each store to a known
 * set of pages in a loop shows exactly those pages dirty at CLEAN (and nothing after a CLEAN
 * while it is paused); Domain-0's grant copies and virtio-style DMA writes mark their pages;
 * off clears the watch bit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WATCH_LOG_DIRTY } from '../../../cpu/writeWatch';
import { dmaWriteNote } from '../../../devices/virtio/guestDma';
import { P2M_MFN_MASK } from '../../../bus/bus';
import { Runstate } from '../../../xen/common/domain';
import { Hypervisor } from '../../../xen/common/hypervisor';
import { LogDirty } from '../../../xen/common/logDirty';
import { ensureBundleSync } from '../../../../node/testBundle';
import { nodeVcpuHost } from '../../../../node/vcpuHost';
import { Toolstack } from '../../toolstack';
import { until } from '../../../../testing/support';
import { dirtyProgram, PAGES } from './testing';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

function setup(vcpus: number): { hv: Hypervisor; ts: Toolstack; domid: number } {
  hv = new Hypervisor({ memoryMiB: 32, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
  hv.start();
  const prog = dirtyProgram();
  const ts = new Toolstack(hv, { readFile: () => prog });
  const d = ts.create(`name = "dirty"\ntype = "hvm"\nmemory = 4\nmaxmem = 4\nvcpus = ${vcpus}\nfirmware = "sbi"\nkernel = "dirty.bin"`);
  return { hv, ts, domid: d.domid };
}

describe('log-dirty', () => {
  it('a guest storing to a known set of pages shows exactly those pages dirty, on each vCPU worker', async () => {
    const { hv: h, domid } = setup(2);
    const d = h.domains.get(domid)!;
    const word = (pfn: number): number => h.machine.u8[(d.p2m.get(pfn) & P2M_MFN_MASK) * 4096]!;
    await until(() => word(16) !== 0 && word(24) !== 0, 30_000, 'both harts storing');
    const ld = await LogDirty.enable(h, d);
    // Every frame of the domain is watched now.
    const mfn0 = d.p2m.get(16) & P2M_MFN_MASK;
    expect(h.watch.watch[mfn0]! & WATCH_LOG_DIRTY).toBe(WATCH_LOG_DIRTY);
    ld.clean();
    const online = d.vcpus.filter((v) => v.runstate !== Runstate.OFFLINE).length;
    expect(online).toBe(2); // hart 1 started through SBI HSM: two vCPU workers write
    const want = Array.from({ length: online }, (_, hart) => PAGES.map((p) => 16 + 8 * hart + p)).flat();
    await until(() => ld.peek() >= want.length, 30_000, 'every page stored to'); // PEEK resets nothing
    const set = ld.clean();
    expect(set.dirty).toEqual(want);
    expect(set.gone).toEqual([]);
    // Paused (no vCPU on a pCPU any more): nothing more is written, so the next CLEAN is empty.
    h.pauseDomain(domid);
    await until(() => d.vcpus.every((v) => v.runstate !== Runstate.RUNNING), 30_000, 'the vCPUs off their pCPUs');
    ld.clean();
    expect(ld.clean().dirty).toEqual([]);
    h.unpauseDomain(domid);
    await until(() => ld.peek() >= want.length, 30_000, 'the pages stored to again');
    expect(ld.clean().dirty).toEqual(want);
    ld.disable();
    expect(h.watch.watch[mfn0]! & WATCH_LOG_DIRTY).toBe(0);
    expect(() => ld.clean()).toThrow(/off/);
  }, 60_000);

  it("Domain-0's writes into the guest (grant copies, virtio DMA) mark their pages", async () => {
    const { hv: h, domid } = setup(1);
    const d = h.domains.get(domid)!;
    h.pauseDomain(domid);
    const ld = await LogDirty.enable(h, d); // waits until no vCPU is on a pCPU
    ld.clean();
    // virtio-style DMA: the device models' hook, as vbd.ts passes it.
    dmaWriteNote(h, d)(40);
    // A grant copy's write (gnttab.copy / dom0Copy call noteWrite with the machine offset).
    h.gnttab.noteWrite!((d.p2m.get(41) & P2M_MFN_MASK) * 4096 + 100, 8);
    // The hypervisor's own writes into the guest (GuestMemory: hypercall results, grant entry flags, SBI buffers).
    d.mem!.setU32(d.ramBase + 42 * 4096 + 8, 0x1234);
    expect(ld.clean().dirty).toEqual([40, 41, 42]);
    // A frame Domain-0 maps writable is dirty in every round; the named always-dirty pfns too.
    const ld2 = (ld.disable(), await LogDirty.enable(h, d, [7]));
    expect(ld2.clean().dirty).toEqual([7]);
    expect(ld2.clean().dirty).toEqual([7]);
  }, 60_000);
});
