/**
 * SiFive PLIC as QEMU's hw/intc/sifive_plic.c configures it for the riscv `virt`
 * machine (hw/riscv/virt.c create_plic, hart-config "MS" per hart):
 *
 *   0x000000 + 4*s        priority of source s (0..7, WARL)
 *   0x001000 + 4*w        pending bits, sources 32w..32w+31 (read-only)
 *   0x002000 + 0x80*c     enable bits of context c
 *   0x200000 + 0x1000*c   threshold of context c; +4 claim (read) / complete (write)
 *
 * Context 2h is hart h in M-mode (drives mip.MEIP, bit 11), context 2h+1 is hart h in
 * S-mode (drives mip.SEIP, bit 9). Only 32-bit accesses are valid (sifive_plic_ops
 * .valid 4..4): the bus refuses narrower ones with an access fault (minWidth).
 *
 * Gateways are level-triggered. A source's pending bit follows its line while the
 * source is not claimed (QEMU sifive_plic_irq_request); a claim clears it and marks
 * the source in service, and a line that is still high when the guest completes the
 * source makes it pending again (PLIC spec 1.0.0, "Interrupt Gateways").
 *
 * SMP domains: the vCPUs of a domain run in different workers, but the guest sees one
 * PLIC. Its registers then live in a SharedArrayBuffer (`shared`), every worker has a Plic
 * over it with only its own hart as a target (the others are null), and a claim is an
 * atomic test-and-set of the source's in-service bit, so two harts never claim the same
 * source. A generation word moves on every change; `poll()` (called between blocks)
 * recomputes this worker's outputs when another worker changed something.
 */
import type { AccessWidth, InterruptTarget, IrqLine, MmioDevice } from '../bus/mmio';
import { IRQ_MEIP, IRQ_SEIP } from '../bus/mmio';
import { VIRT_PLIC_NUM_PRIORITIES, VIRT_PLIC_NUM_SOURCES, VIRT_PLIC_SIZE } from '../board/memoryMap';

export const PLIC_PRIORITY_BASE = 0x0;
export const PLIC_PENDING_BASE = 0x1000;
export const PLIC_ENABLE_BASE = 0x2000;
export const PLIC_ENABLE_STRIDE = 0x80;
export const PLIC_CONTEXT_BASE = 0x20_0000;
export const PLIC_CONTEXT_STRIDE = 0x1000;

export interface PlicOptions {
  /** Hart h gets contexts 2h (M) and 2h+1 (S); null: a hart served by another worker (shared). */
  harts: readonly (InterruptTarget | null)[];
  /** Registers in shared memory (plicSharedBytes(harts.length) bytes), for SMP domains. */
  shared?: SharedArrayBuffer;
  /** Number of sources including the reserved source 0; default 96 (sources 1..95). */
  numSources?: number;
  /** Highest priority; default 7. */
  numPriorities?: number;
  name?: string;
  /** Window size; default VIRT_PLIC_SIZE (0x600000). */
  size?: number;
}

export interface PlicState {
  priority: number[];
  threshold: number[];
  pending: number[];
  claimed: number[];
  enable: number[];
  lines: boolean[];
}

/** Bytes of shared register state for a PLIC with `harts` harts (see PlicOptions.shared). */
export function plicSharedBytes(harts: number, numSources = VIRT_PLIC_NUM_SOURCES): number {
  const words = (numSources + 31) >> 5;
  return 4 * (1 + numSources + 2 * harts + 2 * words + words * 2 * harts);
}

export class Plic implements MmioDevice {
  readonly name: string;
  readonly size: number;
  readonly minWidth = 4;
  readonly numSources: number;
  readonly numContexts: number;
  private readonly harts: readonly (InterruptTarget | null)[];
  private readonly numPriorities: number;
  /** 32-bit words per bitmap. */
  private readonly words: number;
  private priority: Uint32Array;
  private threshold: Uint32Array;
  private pending: Uint32Array;
  /** Sources claimed and not yet completed ("in service"). */
  private claimed: Uint32Array;
  /** Context c's enables at [c*words, (c+1)*words). */
  private enable: Uint32Array;
  /** Current level of every source's input line. */
  private lines: boolean[];
  /** Last level driven on each context's output, to signal only changes. */
  private outputs: boolean[];
  /** Moves on every register change; word 0 of the shared state. */
  private readonly generation: Uint32Array;
  private seenGeneration = 0;

  constructor(options: PlicOptions) {
    this.name = options.name ?? 'plic';
    this.size = options.size ?? VIRT_PLIC_SIZE;
    this.harts = options.harts;
    this.numSources = options.numSources ?? VIRT_PLIC_NUM_SOURCES;
    this.numPriorities = options.numPriorities ?? VIRT_PLIC_NUM_PRIORITIES;
    this.numContexts = 2 * this.harts.length;
    this.words = (this.numSources + 31) >> 5;
    const bytes = plicSharedBytes(this.harts.length, this.numSources);
    if (options.shared && options.shared.byteLength < bytes) throw new RangeError(`PLIC shared state needs ${bytes} bytes`);
    const buf = options.shared ?? new ArrayBuffer(bytes);
    let at = 0;
    const take = (n: number): Uint32Array => {
      const a = new Uint32Array(buf, at, n);
      at += 4 * n;
      return a;
    };
    this.generation = take(1);
    this.priority = take(this.numSources);
    this.threshold = take(this.numContexts);
    this.pending = take(this.words);
    this.claimed = take(this.words);
    this.enable = take(this.words * this.numContexts);
    this.lines = new Array<boolean>(this.numSources).fill(false);
    this.outputs = new Array<boolean>(this.numContexts).fill(false);
  }

  /** The input wire of interrupt source `source` (1..numSources-1). */
  irqLine(source: number): IrqLine {
    if (!Number.isInteger(source) || source < 1 || source >= this.numSources) {
      throw new RangeError(`PLIC source ${source} out of range 1..${this.numSources - 1}`);
    }
    return { set: (level: boolean) => this.setLine(source, level) };
  }

  /** Drive source `source`'s line (what `irqLine(source).set` does). */
  setLine(source: number, level: boolean): void {
    this.lines[source] = level;
    if (!level) this.setBit(this.pending, source, false);
    else if (!this.bit(this.claimed, source)) this.setBit(this.pending, source, true);
    this.changed();
  }

  /** Reset: all registers zero, all outputs low (sifive_plic_reset). Lines keep their levels. */
  reset(): void {
    this.priority.fill(0);
    this.threshold.fill(0);
    this.pending.fill(0);
    this.claimed.fill(0);
    this.enable.fill(0);
    for (let s = 1; s < this.numSources; s++) if (this.lines[s]) this.setBit(this.pending, s, true);
    this.update(true);
  }

  read(offset: number, width: AccessWidth): number {
    if (width !== 4 || (offset & 3) !== 0) return 0;
    if (offset < PLIC_PENDING_BASE) {
      const src = offset >> 2;
      return src < this.numSources ? this.priority[src]! : 0;
    }
    if (offset < PLIC_ENABLE_BASE) {
      const word = (offset - PLIC_PENDING_BASE) >> 2;
      return word < this.words ? this.pending[word]! : 0;
    }
    if (offset < PLIC_CONTEXT_BASE) {
      const ctx = Math.floor((offset - PLIC_ENABLE_BASE) / PLIC_ENABLE_STRIDE);
      const word = ((offset - PLIC_ENABLE_BASE) % PLIC_ENABLE_STRIDE) >> 2;
      return ctx < this.numContexts && word < this.words ? this.enable[ctx * this.words + word]! : 0;
    }
    const ctx = Math.floor((offset - PLIC_CONTEXT_BASE) / PLIC_CONTEXT_STRIDE);
    if (ctx >= this.numContexts) return 0;
    switch ((offset - PLIC_CONTEXT_BASE) % PLIC_CONTEXT_STRIDE) {
      case 0:
        return this.threshold[ctx]!;
      case 4:
        return this.claim(ctx);
      default:
        return 0;
    }
  }

  write(offset: number, width: AccessWidth, value: number): void {
    if (width !== 4 || (offset & 3) !== 0) return;
    value >>>= 0;
    if (offset < PLIC_PENDING_BASE) {
      const src = offset >> 2;
      // Source 0 does not exist; its priority is hardwired to 0 (PLIC spec).
      if (src === 0 || src >= this.numSources) return;
      this.priority[src] = this.legalPriority(value, this.priority[src]!);
      this.changed();
    } else if (offset < PLIC_ENABLE_BASE) {
      // Pending bits are read-only to software (QEMU logs "invalid pending write").
    } else if (offset < PLIC_CONTEXT_BASE) {
      const ctx = Math.floor((offset - PLIC_ENABLE_BASE) / PLIC_ENABLE_STRIDE);
      const word = ((offset - PLIC_ENABLE_BASE) % PLIC_ENABLE_STRIDE) >> 2;
      if (ctx >= this.numContexts || word >= this.words) return;
      this.enable[ctx * this.words + word] = (value & this.validMask(word)) >>> 0;
      this.changed();
    } else {
      const ctx = Math.floor((offset - PLIC_CONTEXT_BASE) / PLIC_CONTEXT_STRIDE);
      if (ctx >= this.numContexts) return;
      switch ((offset - PLIC_CONTEXT_BASE) % PLIC_CONTEXT_STRIDE) {
        case 0:
          this.threshold[ctx] = this.legalPriority(value, this.threshold[ctx]!);
          this.changed();
          break;
        case 4:
          this.complete(value);
          break;
        default:
          break;
      }
    }
  }

  /**
   * The source context `ctx` would get from a claim now: the highest-priority pending,
   * enabled, unclaimed source with priority above the threshold; ties go to the lowest
   * id (sifive_plic_claimed). 0 if none. Has no side effects.
   */
  bestSource(ctx: number): number {
    let best = 0;
    let bestPrio = this.threshold[ctx]!;
    const base = ctx * this.words;
    for (let w = 0; w < this.words; w++) {
      let bits = (this.pending[w]! & ~this.claimed[w]! & this.enable[base + w]!) >>> 0;
      while (bits !== 0) {
        const j = 31 - Math.clz32(bits & -bits);
        bits = (bits & (bits - 1)) >>> 0;
        const src = (w << 5) + j;
        const prio = this.priority[src]!;
        if (prio > bestPrio) {
          best = src;
          bestPrio = prio;
        }
      }
    }
    return best;
  }

  private claim(ctx: number): number {
    // Another hart may claim the same source between the look and the test-and-set; then
    // look again. Each retry follows a claim by someone else, so this ends (at most one
    // retry per source).
    for (let tries = 0; tries < this.numSources; tries++) {
      const src = this.bestSource(ctx);
      if (src === 0) break;
      const m = 1 << (src & 31);
      if ((Atomics.or(this.claimed, src >> 5, m) & m) !== 0) continue;
      this.setBit(this.pending, src, false);
      this.changed();
      return src;
    }
    this.update();
    return 0;
  }

  /**
   * Completion ends the source's service. Like QEMU, any valid source id is accepted
   * from any context; ids out of range are ignored.
   */
  private complete(src: number): void {
    if (src === 0 || src >= this.numSources) return;
    this.setBit(this.claimed, src, false);
    if (this.lines[src]) this.setBit(this.pending, src, true);
    this.changed();
  }

  /** Shared state: recompute this worker's outputs if another worker changed a register. */
  poll(): void {
    if (Atomics.load(this.generation, 0) !== this.seenGeneration) this.update();
  }

  /** A register changed: tell the other workers (shared state), then recompute. */
  private changed(): void {
    Atomics.add(this.generation, 0, 1);
    this.update();
  }

  /** Recompute the outputs of this worker's harts (sifive_plic_update); signal changes only. */
  private update(force = false): void {
    this.seenGeneration = Atomics.load(this.generation, 0);
    for (let ctx = 0; ctx < this.numContexts; ctx++) {
      const hart = this.harts[ctx >> 1];
      if (!hart) continue;
      const level = this.bestSource(ctx) !== 0;
      if (level === this.outputs[ctx] && !force) continue;
      this.outputs[ctx] = level;
      hart.setInterruptLevel((ctx & 1) === 0 ? IRQ_MEIP : IRQ_SEIP, level);
    }
  }

  /**
   * Priorities and thresholds are WARL (sifive_plic_write): with 2^n-1 levels the low
   * n bits are kept; otherwise an out-of-range value leaves the register unchanged.
   */
  private legalPriority(value: number, old: number): number {
    const n = this.numPriorities;
    if (((n + 1) & n) === 0) return value % (n + 1);
    return value <= n ? value : old;
  }

  /** Bits of bitmap word `word` that name existing sources (never source 0). */
  private validMask(word: number): number {
    let mask = 0xffff_ffff;
    const last = this.numSources - (word << 5);
    if (last < 32) mask = last <= 0 ? 0 : (1 << last) - 1;
    if (word === 0) mask &= ~1;
    return mask >>> 0;
  }

  private bit(map: Uint32Array, src: number): boolean {
    return ((map[src >> 5]! >>> (src & 31)) & 1) !== 0;
  }

  /** Atomic, so workers sharing the state never lose each other's bits. */
  private setBit(map: Uint32Array, src: number, on: boolean): void {
    const w = src >> 5;
    const m = 1 << (src & 31);
    if (on) Atomics.or(map, w, m);
    else Atomics.and(map, w, ~m);
  }

  saveState(): PlicState {
    return {
      priority: [...this.priority],
      threshold: [...this.threshold],
      pending: [...this.pending],
      claimed: [...this.claimed],
      enable: [...this.enable],
      lines: [...this.lines],
    };
  }

  restore(s: PlicState): void {
    this.priority.set(s.priority.slice(0, this.numSources));
    this.threshold.set(s.threshold.slice(0, this.numContexts));
    this.pending.set(s.pending.slice(0, this.words));
    this.claimed.set(s.claimed.slice(0, this.words));
    this.enable.set(s.enable.slice(0, this.enable.length));
    this.lines = Array.from({ length: this.numSources }, (_, i) => s.lines[i] ?? false);
    this.update(true);
  }
}
