/**
 * The translation tier while a domain runs (docs/jit.md, "Shown to the student"): a switch
 * the hypervisor flips in each vCPU's control block, the tier's counters the vCPU reports
 * at every slice end, and a dump of its hottest translations for the inspector.
 *
 * Worker side: `VcpuJit` (one per vCPU worker), called by the runner between slices.
 * Hypervisor side: `requestJitMode`, `domainJitStats`, `requestJitDump`; everything they
 * read from the control block or the save area was written by the worker, so it is
 * checked as hostile input (bounded numbers, JSON that must parse, a timeout).
 */
import { disassemble } from '../../cpu/disasm';
import type { Hart } from '../../cpu/hart';
import { Jit, JIT_MODES, setJit, type JitMode } from '../../cpu/jit/engine';
import type { WriteWatch } from '../../cpu/writeWatch';
import type { Domain, Vcpu } from '../common/domain';
import * as C from './vcpuControl';

/** C_JIT_MODE's values: 0 = nothing asked, then 1 + the index in JIT_MODES. */
const modeCode = (m: JitMode): number => 1 + JIT_MODES.indexOf(m);

/** One translation as the inspector shows it. */
export interface JitDumpEntry {
  /** Guest-physical... here: the RAM (machine) byte offset of its entry, and the guest pc it was last entered at is not kept. */
  readonly off: number;
  readonly uses: number;
  readonly insns: number;
  /** The guest instructions: page offset and disassembly. */
  readonly guest: readonly { readonly at: number; readonly text: string }[];
  /** The generated JavaScript (the function body). */
  readonly code: string;
}

export interface JitDump {
  readonly vcpuId: number;
  readonly mode: JitMode;
  readonly hottest: readonly JitDumpEntry[];
}

/** A domain's tier counters, summed over its vCPUs. */
export interface DomainJitStats {
  /** The mode of each vCPU's tier as last asked for (or booted with). */
  readonly mode: JitMode;
  /** Instructions run by the tier's dispatcher and run translated, mod 2^32 (rates come from differences). */
  readonly executed: number;
  readonly translated: number;
  readonly translations: number;
  readonly invalidations: number;
  readonly cached: number;
  readonly codeKiB: number;
}

const DUMP_LIMIT = 12;

/** The worker's side: switch on request, count across switches, answer dumps. */
export class VcpuJit {
  /** Counters of tiers switched off earlier (a new Jit starts at zero). */
  private readonly past = { executed: 0, translated: 0, translations: 0, invalidations: 0 };
  private dumpSeen = 0;

  constructor(
    private readonly hart: Hart,
    private readonly watch: WriteWatch | undefined,
    private readonly saveArea: SharedArrayBuffer | undefined,
    private mode: JitMode,
  ) {}

  /** Between slices: take a mode the hypervisor asked for, answer a dump request. */
  poll(cb: Int32Array): void {
    const code = cb[C.C_JIT_MODE]!;
    const want = code >= 1 && code <= JIT_MODES.length ? JIT_MODES[code - 1]! : this.mode;
    if (want !== this.mode) this.switchTo(want);
    const dump = Atomics.load(cb, C.C_JIT_DUMP);
    if (dump !== this.dumpSeen) {
      this.dumpSeen = dump;
      this.writeDump();
    }
  }

  /** At a slice end: the counters into the control block. */
  report(cb: Int32Array): void {
    const s = this.hart.jit instanceof Jit ? this.hart.jit.stats : undefined;
    const p = this.past;
    cb[C.C_JIT_STATS] = ((p.executed + (s?.executed ?? 0)) % 0x1_0000_0000) | 0;
    cb[C.C_JIT_STATS + 1] = ((p.translated + (s?.translated ?? 0)) % 0x1_0000_0000) | 0;
    cb[C.C_JIT_STATS + 2] = p.translations + (s?.translations ?? 0);
    cb[C.C_JIT_STATS + 3] = p.invalidations + (s?.invalidations ?? 0);
    cb[C.C_JIT_STATS + 4] = s?.cached ?? 0;
    cb[C.C_JIT_STATS + 5] = Math.ceil((s?.codeBytes ?? 0) / 1024);
  }

  private switchTo(mode: JitMode): void {
    const old = this.hart.jit instanceof Jit ? this.hart.jit.stats : undefined;
    if (old) {
      this.past.executed += old.executed;
      this.past.translated += old.translated;
      this.past.translations += old.translations;
      this.past.invalidations += old.invalidations;
    }
    setJit(this.hart, mode, this.watch ? { writeWatch: this.watch } : {});
    // Off: live migration's log-dirty mode still needs the write watch on the hart.
    if (mode === 'off') this.hart.writeWatch = this.watch;
    this.mode = mode;
  }

  private writeDump(): void {
    const area = this.saveArea;
    if (!area) return;
    const jit = this.hart.jit instanceof Jit ? this.hart.jit : undefined;
    const dump: JitDump = {
      vcpuId: this.hart.hartid,
      mode: this.mode,
      hottest: (jit?.hottest(DUMP_LIMIT) ?? []).map((t) => ({
        off: t.off,
        uses: t.uses,
        insns: t.src.offsets.length,
        guest: t.src.offsets.map((o, i) => ({ at: o, text: disassemble(t.src.words[i]!, o) })),
        code: t.src.code,
      })),
    };
    let bytes = new TextEncoder().encode(JSON.stringify(dump));
    const room = area.byteLength - C.JIT_DUMP_AT - C.SAVE_DATA;
    if (bytes.length > room)
      bytes = new TextEncoder().encode(JSON.stringify({ ...dump, hottest: dump.hottest.map((e) => ({ ...e, code: e.code.slice(0, 1500) })) }));
    const words = new Int32Array(area, C.JIT_DUMP_AT, 2);
    const fits = bytes.length <= room;
    if (fits) new Uint8Array(area, C.JIT_DUMP_AT + C.SAVE_DATA, bytes.length).set(bytes);
    Atomics.store(words, C.SAVE_LEN, fits ? bytes.length : -1);
    Atomics.add(words, C.SAVE_SEQ, 1);
    Atomics.notify(words, C.SAVE_SEQ);
  }
}

/** Ask every vCPU of `d` for `mode`; each takes it at its next slice. */
export function requestJitMode(d: Domain, mode: JitMode): void {
  for (const v of d.vcpus) Atomics.store(v.cb, C.C_JIT_MODE, modeCode(mode));
}

/** The domain's counters as its vCPUs last reported them. */
export function domainJitStats(d: Domain, booted: JitMode): DomainJitStats {
  let executed = 0,
    translated = 0,
    translations = 0,
    invalidations = 0,
    cached = 0,
    codeKiB = 0;
  let mode = booted;
  for (const v of d.vcpus) {
    const cb = v.cb;
    const code = cb[C.C_JIT_MODE]!;
    if (code >= 1 && code <= JIT_MODES.length) mode = JIT_MODES[code - 1]!;
    const word = (i: number, max: number): number => Math.min(max, Math.max(0, cb[C.C_JIT_STATS + i]! >>> 0));
    executed = (executed + (cb[C.C_JIT_STATS]! >>> 0)) % 0x1_0000_0000;
    translated = (translated + (cb[C.C_JIT_STATS + 1]! >>> 0)) % 0x1_0000_0000;
    translations += word(2, 2 ** 31);
    invalidations += word(3, 2 ** 31);
    cached += word(4, 1 << 20);
    codeKiB += word(5, 1 << 22);
  }
  return { mode, executed, translated, translations, invalidations, cached, codeKiB };
}

/**
 * Ask vCPU `v` for its hottest translations; it answers at its next slice boundary (a
 * paused or blocked vCPU does not: the promise then rejects after `timeoutMs`).
 */
export async function requestJitDump(v: Vcpu, timeoutMs = 3000): Promise<JitDump> {
  const words = new Int32Array(v.saveArea, C.JIT_DUMP_AT, 2);
  const seq = Atomics.load(words, C.SAVE_SEQ);
  Atomics.add(v.cb, C.C_JIT_DUMP, 1);
  const until = Date.now() + timeoutMs;
  while (Atomics.load(words, C.SAVE_SEQ) === seq) {
    const left = until - Date.now();
    if (left <= 0) throw new Error(`vCPU ${v.vcpuId} of domain ${v.domid} did not answer (not running?)`);
    const w = Atomics.waitAsync(words, C.SAVE_SEQ, seq, Math.min(left, 200));
    if (w.async) await w.value;
  }
  const len = Atomics.load(words, C.SAVE_LEN);
  if (len < 0 || len > v.saveArea.byteLength - C.JIT_DUMP_AT - C.SAVE_DATA) throw new Error(`vCPU ${v.vcpuId}: its translations did not fit`);
  const text = new TextDecoder().decode(new Uint8Array(v.saveArea, C.JIT_DUMP_AT + C.SAVE_DATA, len).slice());
  const d = JSON.parse(text) as JitDump; // written by the worker: shape-checked below
  if (typeof d !== 'object' || d === null || !Array.isArray(d.hottest)) throw new Error(`vCPU ${v.vcpuId}: malformed translation dump`);
  return d;
}
