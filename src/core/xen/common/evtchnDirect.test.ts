import { describe, expect, it } from 'vitest';
import { EvtchnDirectory, newEvtchnDirectory } from './evtchnDirect';
import * as X from '../public/xen';

/** Two domains' shared_info pages in a small "machine memory", at byte offsets A and B. */
function setup() {
  const mem = new Int32Array(new SharedArrayBuffer(4 * 4096));
  const mem8 = new Uint8Array(mem.buffer);
  const dir = new EvtchnDirectory(newEvtchnDirectory());
  const A = 4096,
    B = 2 * 4096;
  dir.clearDomain(0);
  dir.clearDomain(1);
  dir.setSharedInfo(0, A);
  dir.setSharedInfo(1, B);
  dir.setVcpuSlot(1, 0, 7); // domain slot 1's vCPU 0 is vCPU slot 7
  dir.setVcpuSlot(1, 1, 8);
  // Port 5 of slot 0 <-> port 40 of slot 1, which notifies vCPU 1.
  dir.setRoute(0, 5, { dslot: 1, port: 40, vcpu: 1 });
  const bit = (base: number, off: number, port: number) => (mem[(base + off + 4 * (port >>> 5)) >> 2]! >>> (port & 31)) & 1;
  const vi = (v: number) => B + X.SI_VCPU_INFO + v * X.VCPU_INFO_SIZE;
  return { mem, mem8, dir, A, B, bit, vi };
}

describe('EvtchnDirectory.send (Xen evtchn_2l_set_pending from the vCPU)', () => {
  it('marks the peer port, its selector bit and upcall on the bound vCPU, and asks the hypervisor to wake it', () => {
    const { mem, mem8, dir, B, bit, vi } = setup();
    expect(dir.send(0, 5, { i32: mem, u8: mem8 })).toBe(true);
    expect(bit(B, X.SI_EVTCHN_PENDING, 40)).toBe(1);
    expect(mem[(vi(1) + X.VI_PENDING_SEL) >> 2]).toBe(1 << 1); // word 1 of the pending bitmap
    expect(mem8[vi(1) + X.VI_UPCALL_PENDING]).toBe(1);
    expect(mem8[vi(0) + X.VI_UPCALL_PENDING]).toBe(0);
    expect(dir.takeRequests()).toEqual({ wake: [8], poll: [] }); // vCPU slot 8 is not waiting in place
    expect(dir.sends(0)).toBe(1);
  });

  it('kicks a vCPU that waits in place instead of asking the hypervisor', () => {
    const { mem, mem8, dir } = setup();
    dir.setParked(8, true);
    const before = Atomics.load(dir.w, dir.kickIndex(8));
    dir.send(0, 5, { i32: mem, u8: mem8 });
    expect(Atomics.load(dir.w, dir.kickIndex(8))).toBe(before + 1);
    expect(dir.takeRequests().wake).toEqual([]);
  });

  it('a masked port loses the edge: pending, but no selector, upcall or wake-up', () => {
    const { mem, mem8, dir, B, bit, vi } = setup();
    mem[(B + X.SI_EVTCHN_MASK + 4) >> 2] = 1 << 8; // port 40
    dir.send(0, 5, { i32: mem, u8: mem8 });
    expect(bit(B, X.SI_EVTCHN_PENDING, 40)).toBe(1);
    expect(mem8[vi(1) + X.VI_UPCALL_PENDING]).toBe(0);
    expect(dir.takeRequests()).toEqual({ wake: [], poll: [] });
  });

  it('an already pending port changes nothing more', () => {
    const { mem, mem8, dir } = setup();
    dir.send(0, 5, { i32: mem, u8: mem8 });
    dir.takeRequests();
    dir.send(0, 5, { i32: mem, u8: mem8 });
    expect(dir.takeRequests()).toEqual({ wake: [], poll: [] });
    expect(dir.sends(0)).toBe(2);
  });

  it('pollers in the receiving domain get the hypervisor to look again, masked port or not', () => {
    const { mem, mem8, dir, B } = setup();
    mem[(B + X.SI_EVTCHN_MASK + 4) >> 2] = 1 << 8;
    dir.setPollers(1, 1);
    dir.send(0, 5, { i32: mem, u8: mem8 });
    expect(dir.takeRequests()).toEqual({ wake: [], poll: [1] });
  });

  it('leaves unrouted ports, bad port numbers and receivers without shared_info to the hypervisor', () => {
    const { mem, mem8, dir, B, bit } = setup();
    expect(dir.send(0, 6, { i32: mem, u8: mem8 })).toBe(false);
    expect(dir.send(0, 0, { i32: mem, u8: mem8 })).toBe(false);
    expect(dir.send(0, X.NR_EVTCHN_PORTS, { i32: mem, u8: mem8 })).toBe(false);
    expect(dir.send(0, -1 >>> 0, { i32: mem, u8: mem8 })).toBe(false);
    dir.setSharedInfo(1, -1);
    expect(dir.send(0, 5, { i32: mem, u8: mem8 })).toBe(false);
    expect(bit(B, X.SI_EVTCHN_PENDING, 40)).toBe(0);
    dir.setRoute(0, 5, null);
    dir.setSharedInfo(1, B);
    expect(dir.send(0, 5, { i32: mem, u8: mem8 })).toBe(false);
    expect(dir.sends(0)).toBe(0);
  });
});
