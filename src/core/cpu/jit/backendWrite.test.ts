/**
 * Cross-modifying code from Domain-0: a device model writing guest memory through the DMA
 * helper every backend uses (devices/virtio/guestDma.ts, whose `dmaWriteNote` is wired to the
 * hypervisor's write watch) invalidates a translation of the page it wrote, before the
 * guest's next instruction from that page runs; as a virtio-blk read into a code page
 * would before the guest jumps there.
 */
import { describe, expect, it } from 'vitest';
import { Bus } from '../../bus/bus';
import { GuestDma, dmaWriteNote } from '../../devices/virtio/guestDma';
import { assemble } from '../asm';
import { Hart } from '../hart';
import { load, RAM_BASE } from '../testing';
import { setJit } from './engine';

const P = RAM_BASE + 0x3000;

describe('a backend writing guest memory', () => {
  it('invalidates the translation of the code page it writes, through GuestDma and the write watch', () => {
    const machine = new SharedArrayBuffer(1 << 20);
    const bus = new Bus({ ramBase: RAM_BASE, ramSize: 1 << 20, buffer: machine });
    const h = new Hart(bus, 0);
    h.reset(P);
    h.pmpaddr[0] = -1;
    h.pmpcfg[0] = 0x1f;
    const jit = setJit(h, 'always')!;
    load(h, P, [
      ['addi', { rd: 1, rs1: 1, imm: 1 }],
      ['jal', { rd: 0, imm: -4 }],
    ]);
    h.run(101); // the loop is translated; its page is watched
    expect(h.x[1]).toBe(51);
    // The device model: guest-physical = machine address here (an identity P2M), as for a domain's frames.
    const dma = new GuestDma({
      machine,
      ramBase: RAM_BASE,
      ramSize: 1 << 20,
      p2m: (gfn) => gfn,
      onWrite: dmaWriteNote({ watch: jit.watch }, { p2m: { get: (gfn) => gfn } }),
    });
    dma.write(P, new Uint8Array(Int32Array.of(assemble('addi', { rd: 1, rs1: 1, imm: 9 })).buffer));
    h.run(100);
    expect(h.x[1]).toBe(51 + 50 * 9);
    expect(jit.stats.invalidations).toBe(1);
  });
});
