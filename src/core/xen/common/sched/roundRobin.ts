/**
 * Round robin: one FIFO runqueue, a fixed slice, no weights and no caps.
 *
 * Design: the simplest fair policy, kept beside credit as the baseline students compare
 * against. Every runnable vCPU gets the same slice in turn; a vCPU that blocks goes to
 * the back of the queue when it wakes. Hard affinity is honoured by skipping vCPUs that
 * may not run on the asking pCPU.
 */
import { NS_PER_MS, type SchedOps, type SchedVcpu } from './schedOps';

/** Same slice as credit's default, so the two compare on equal terms. */
const SLICE_NS = 30 * NS_PER_MS;

export class RoundRobin implements SchedOps {
  readonly name = 'rr';
  private readonly queue: SchedVcpu[] = [];

  insert(_v: SchedVcpu): void {}

  remove(v: SchedVcpu): void {
    this.sleep(v);
  }

  wake(v: SchedVcpu, _now = 0): void {
    if (!this.queue.includes(v)) this.queue.push(v);
  }

  sleep(v: SchedVcpu): void {
    const i = this.queue.indexOf(v);
    if (i >= 0) this.queue.splice(i, 1);
  }

  pickNext(pcpu: number, _now = 0): { vcpu: SchedVcpu; sliceNs: number } | undefined {
    const i = this.queue.findIndex((v) => (v.affinity >>> pcpu) & 1);
    if (i < 0) return undefined;
    const [vcpu] = this.queue.splice(i, 1);
    return { vcpu: vcpu!, sliceNs: SLICE_NS };
  }

  account(v: SchedVcpu, _ranNs: number, stillRunnable: boolean): void {
    if (stillRunnable) this.wake(v);
  }

  nextTick(): number {
    return Infinity;
  }

  tick(): void {}

  dump(): string {
    return `rr: runqueue [${this.queue.map((v) => `d${v.domid}v${v.vcpuId}`).join(' ')}]`;
  }
}
