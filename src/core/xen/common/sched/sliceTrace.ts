/**
 * The scheduler's recent history: one record per slice a vCPU ran on a pCPU, in a ring of
 * fixed size (the oldest are overwritten). What `xl`'s tools lack and a lab wants: the
 * scheduler view draws one lane per pCPU from it.
 */
export interface SliceRecord {
  readonly pcpu: number;
  readonly domid: number;
  readonly vcpuId: number;
  /** Scheduler time (ns) the slice was granted and given back. */
  readonly startNs: number;
  readonly endNs: number;
  /** Why it ended (SliceEnd in vcpuControl.ts). */
  readonly reason: number;
}

export class SliceTrace {
  private readonly ring: (SliceRecord | undefined)[];
  private next = 0;
  /** Slices recorded since the start (also the sequence number of the next one). */
  total = 0;

  constructor(readonly capacity = 4096) {
    this.ring = new Array<SliceRecord | undefined>(capacity);
  }

  record(r: SliceRecord): void {
    this.ring[this.next] = r;
    this.next = (this.next + 1) % this.capacity;
    this.total++;
  }

  /** The records that ended at or after `sinceNs`, oldest first. */
  since(sinceNs: number): SliceRecord[] {
    const out: SliceRecord[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const r = this.ring[(this.next + i) % this.capacity];
      if (r && r.endNs >= sinceNs) out.push(r);
    }
    return out;
  }
}
