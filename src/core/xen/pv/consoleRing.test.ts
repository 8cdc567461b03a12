/** The console backend never reads back the indices it owns (issue 11: shared memory is hostile). */
import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../common/guestMemory';
import { MachineMemory } from '../common/machineMemory';
import { P2m } from '../common/p2m';
import * as X from '../public/xen';
import { ConsoleRing } from './consoleRing';

const BASE = 0x8000_0000;
function page(): GuestMemory {
  const mem = new MachineMemory(1 << 16);
  const p2m = new P2m(1);
  p2m.populate(mem, 0, 1);
  return new GuestMemory(mem.buffer, p2m, BASE, 4096);
}

describe('console ring backend', () => {
  it('drains what the guest produced, once, even if the guest rewinds out_cons', () => {
    const m = page();
    const r = new ConsoleRing(m, BASE);
    m.write(BASE + X.XENCONS_OUT, new TextEncoder().encode('hello'));
    m.setU32(BASE + X.XENCONS_OUT_PROD, 5);
    expect(new TextDecoder().decode(r.drain())).toBe('hello');
    m.setU32(BASE + X.XENCONS_OUT_CONS, 0); // the guest writes the backend's index back
    expect(r.drain().length).toBe(0); // nothing is read twice
  });

  it('feeds input without trusting in_prod on the page; a consumer past the producer gives no room', () => {
    const m = page();
    const r = new ConsoleRing(m, BASE);
    expect(r.feed([1, 2, 3])).toBe(3);
    m.setU32(BASE + X.XENCONS_IN_PROD, 1000); // the guest moves the backend's index
    expect(r.feed([4])).toBe(1);
    expect(m.u32(BASE + X.XENCONS_IN_PROD)).toBe(4);
    expect(m.u8At(BASE + X.XENCONS_IN + 3)).toBe(4);
    m.setU32(BASE + X.XENCONS_IN_CONS, 100); // consumed more than was produced
    expect(r.feed([5])).toBe(0);
  });

  it('clamps an out_prod more than a ring ahead to one ring', () => {
    const m = page();
    const r = new ConsoleRing(m, BASE);
    m.setU32(BASE + X.XENCONS_OUT_PROD, 0x7fff_0000);
    expect(r.drain().length).toBe(X.XENCONS_OUT_SIZE);
  });
});
