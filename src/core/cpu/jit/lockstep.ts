/**
 * The lockstep checker: two copies of one guest, one on the interpreter alone and one with
 * the translation tier, run the same budgets side by side; after every step their whole
 * architectural state (captureHart: registers, pc, privilege, every CSR, PMP, the LR
 * reservation, instructions retired and executed) must be equal, and at the end their RAM.
 *
 * A step is one `run(step)` of each: the tier's dispatcher stops exactly where the
 * interpreter's block does (engine.ts), so with `step` at most the hart's block size every
 * step compares the state at the end of one interpreter block. Any machine works (a bare
 * hart, the virt board, a domain) through the small Side interface.
 */
import type { Hart, StopReason } from '../hart';
import { captureHart, type HartState } from '../hartState';

export interface Side {
  readonly hart: Hart;
  run(budget: number): StopReason;
}

export interface Divergence {
  /** Instructions both had executed before the step that diverged. */
  at: number;
  step: number;
  what: string;
  interp: unknown;
  jit: unknown;
}

export interface LockstepResult {
  executed: number;
  steps: number;
  divergence: Divergence | null;
}

/** The first difference between two captured states, or null. */
export function diffState(a: HartState, b: HartState): { what: string; a: unknown; b: unknown } | null {
  for (const k of ['pc', 'priv', 'wfi', 'mipHw', 'instret', 'executed'] as const) if (a[k] !== b[k]) return { what: k, a: a[k], b: b[k] };
  for (let i = 0; i < 32; i++) if (a.x[i] !== b.x[i]) return { what: `x${i}`, a: a.x[i], b: b.x[i] };
  for (const k of Object.keys(a.csr) as (keyof HartState['csr'])[]) if (a.csr[k] !== b.csr[k]) return { what: k, a: a.csr[k], b: b.csr[k] };
  if (JSON.stringify(a.reservation) !== JSON.stringify(b.reservation)) return { what: 'reservation', a: a.reservation, b: b.reservation };
  if (a.pmpaddr.join() !== b.pmpaddr.join() || a.pmpcfg.join() !== b.pmpcfg.join()) return { what: 'pmp', a: a.pmpaddr, b: b.pmpaddr };
  return null;
}

/** The first differing byte of two RAMs, or -1. */
export function diffRam(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  const wa = new Int32Array(a.buffer, a.byteOffset, n >> 2);
  const wb = new Int32Array(b.buffer, b.byteOffset, n >> 2);
  for (let i = 0; i < wa.length; i++) if (wa[i] !== wb[i]) return i * 4;
  return a.length === b.length ? -1 : n;
}

/**
 * Run `interp` and `jit` for `total` instructions in steps of `step`, comparing after each.
 * `between` runs after each step on both sides (wake a hart from WFI, feed input...).
 */
export function lockstep(interp: Side, jit: Side, total: number, step = 4096, between?: (s: Side) => void): LockstepResult {
  let steps = 0;
  let executed = 0;
  while (executed < total) {
    const before = interp.hart.executed;
    const ra = interp.run(step);
    const rb = jit.run(step);
    steps++;
    const a = captureHart(interp.hart);
    const b = captureHart(jit.hart);
    const d = ra !== rb ? { what: 'stop reason', a: ra, b: rb } : diffState(a, b);
    if (d !== null) return { executed, steps, divergence: { at: before, step: steps, what: d.what, interp: d.a, jit: d.b } };
    executed += interp.hart.executed - before;
    if (ra === 'stop') break;
    if (interp.hart.executed === before) {
      // Both wait for an interrupt and nothing advanced: let the caller wake them, or stop.
      if (between === undefined) break;
    }
    if (between) {
      between(interp);
      between(jit);
    }
  }
  const at = diffRam(interp.hart.bus.ram.u8, jit.hart.bus.ram.u8);
  if (at >= 0)
    return {
      executed,
      steps,
      divergence: { at: executed, step: steps, what: `RAM byte 0x${at.toString(16)}`, interp: interp.hart.bus.ram.u8[at], jit: jit.hart.bus.ram.u8[at] },
    };
  return { executed, steps, divergence: null };
}
