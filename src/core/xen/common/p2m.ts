/**
 * A domain's physical-to-machine map: guest frame number -> machine frame number, in
 * shared memory so the domain's vCPU workers translate through it (bus.ts) while only
 * the hypervisor writes it. Every change bumps `generation`, which makes the vCPUs flush
 * their TLBs before they run again (Xen flushes the guest's TLBs after a P2M change too).
 */
import type { MachineMemory } from './machineMemory';

export const INVALID_MFN = -1;

export class P2m {
  /** gfn -> mfn or INVALID_MFN, over a SharedArrayBuffer. */
  readonly table: Int32Array;
  readonly generation: Int32Array;

  constructor(readonly maxFrames: number) {
    this.table = new Int32Array(new SharedArrayBuffer(maxFrames * 4)).fill(INVALID_MFN);
    this.generation = new Int32Array(new SharedArrayBuffer(4));
  }

  get(gfn: number): number {
    return gfn >= 0 && gfn < this.maxFrames ? this.table[gfn]! : INVALID_MFN;
  }

  /** Map `gfn` to `mfn`. */
  set(gfn: number, mfn: number): void {
    if (!Number.isInteger(gfn) || gfn < 0 || gfn >= this.maxFrames) throw new RangeError(`gfn ${gfn} out of range`);
    Atomics.store(this.table, gfn, mfn);
    Atomics.add(this.generation, 0, 1);
  }

  clear(gfn: number): number {
    const old = this.get(gfn);
    if (old !== INVALID_MFN) this.set(gfn, INVALID_MFN);
    return old;
  }

  /** Number of guest frames that have a machine frame. */
  populated(): number {
    let n = 0;
    for (let i = 0; i < this.maxFrames; i++) if (this.table[i]! >= 0) n++;
    return n;
  }

  /** Give `gfn` a fresh frame of `mem` owned by `domid`. */
  populate(mem: MachineMemory, gfn: number, domid: number): number {
    if (this.get(gfn) !== INVALID_MFN) throw new Error(`gfn ${gfn} is already populated`);
    const mfn = mem.alloc(domid);
    this.set(gfn, mfn);
    return mfn;
  }
}

/** Give every frame of a P2M back to the free pool. */
export function releaseFrames(mem: MachineMemory, p2m: P2m): number {
  let n = 0;
  for (let gfn = 0; gfn < p2m.maxFrames; gfn++) {
    const mfn = p2m.clear(gfn);
    if (mfn >= 0) {
      mem.free(mfn);
      n++;
    }
  }
  return n;
}
