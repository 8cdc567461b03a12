/**
 * For the backends' unit tests (blkback, netback): small guest domains over one machine
 * memory, each with 16 populated frames, 16 empty ones to map grants into and its grant
 * table in frame 15, and grants written into that table as a frontend writes them.
 */
import type { GnttabDomain } from '../../xen/common/gnttab';
import { GuestMemory } from '../../xen/common/guestMemory';
import type { MachineMemory } from '../../xen/common/machineMemory';
import { P2m } from '../../xen/common/p2m';
import * as X from '../../xen/public/xen';

export const TEST_RAM_BASE = 0x8000_0000;

/** Guest-physical address of byte `off` of the test domain's frame `gfn`. */
export const testGpa = (gfn: number, off = 0): number => TEST_RAM_BASE + gfn * 4096 + off;

export function testDomain(mem: MachineMemory, domid: number): GnttabDomain {
  const p2m = new P2m(32);
  for (let g = 0; g < 16; g++) p2m.populate(mem, g, domid);
  return {
    domid,
    mem: new GuestMemory(mem.buffer, p2m, TEST_RAM_BASE, 32 * 4096),
    p2m,
    ramBase: TEST_RAM_BASE,
    grantFrames: [15],
    maptrack: new Map(),
    activeGrants: new Map(),
  };
}

/** Grant entry `ref` of `g`: frame `gfn` to domain `to` (frame and domid first, then the flags). */
export function testGrant(g: GnttabDomain, ref: number, to: number, gfn: number, flags = X.GTF_permit_access): void {
  const at = testGpa(15, ref * 8);
  g.mem!.setU32(at + 4, TEST_RAM_BASE / 4096 + gfn);
  g.mem!.setU32(at, flags | (to << 16));
}

/** Let the backend's queued xenstore work and timers run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setTimeout(r, 0));
}
