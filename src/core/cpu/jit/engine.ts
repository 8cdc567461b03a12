/**
 * The translation tier's dispatcher and cache (docs/jit.md).
 *
 * `execBlock(h, budget)` replaces the interpreter's for a hart with the tier on, and stops
 * exactly where the interpreter would: after `budget` instructions, or at the instruction
 * whose slow path set `endBlock`. It runs the block as a sequence of pieces, each either a
 * translation (translate.ts) or the interpreter over a short stretch, and keeps what the
 * guest can observe identical: `instret` stays at its value from the start of the block
 * while it runs, as in one interpreter block, and CSR reads see the instructions of the
 * earlier pieces through `h.retiredBefore`.
 *
 * Translations are keyed by the RAM offset (machine address) of their entry, so they do
 * not depend on satp or the privilege level and survive context switches. Code is counted
 * per entry; at `threshold` executions (0 in `always` mode) it is translated. A frame that
 * holds translations is watched (writeWatch.ts): every write to it takes the store slow
 * path and bumps its generation, and a translation whose frame's generation moved, or which
 * predates a FENCE.I, compares its instruction words with memory before it runs again and
 * is dropped if they differ. The cache is bounded: past `maxTranslations` the less used
 * half is evicted.
 */
import type { ExecEngine, Hart } from '../hart';
import { execBlock } from '../interp';
import { DISPATCH } from '../decode';
import { TLB_MASK } from '../mmu';
import { WriteWatch } from '../writeWatch';
import { compile, translateSource, type TranslatedFn, type TranslationSource } from './translate';

export type JitMode = 'off' | 'on' | 'always';
export const JIT_MODES: readonly JitMode[] = ['off', 'on', 'always'];

/**
 * The mode when none is given: `HYPERLAB_JIT` (off, on or always) where there is a process
 * environment (Node; `npm run test:jit` runs the guest-level tests with `always` this way),
 * else on (also in the page, which has no environment). A bad value is refused rather than
 * ignored, so a typo does not run the suite untranslated.
 */
export function defaultJitMode(): JitMode {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.HYPERLAB_JIT;
  if (v === undefined || v === '') return 'on';
  if (!(JIT_MODES as readonly string[]).includes(v)) throw new Error(`HYPERLAB_JIT=${v}: expected off, on or always`);
  return v as JitMode;
}

const PAGE_W = 0xffff_f003 | 0;
// Module-local copies: an imported binding can cost a getter call per use in some hosts (tsx, vitest).
const MASK = TLB_MASK;
/** Direct-mapped table of translations by entry (RAM offset >>> 2): the dispatcher's hot path, no Map. */
const FAST_BITS = 14;
const FAST_MASK = (1 << FAST_BITS) - 1;

/** Per-hart counters (summed per domain by the runner). */
export interface JitStats {
  /** Instructions executed by this engine, and how many of them in translated code. */
  executed: number;
  translated: number;
  /** Translations made, dropped because their code changed, evicted for space. */
  translations: number;
  invalidations: number;
  evictions: number;
  /** Translations in the cache now, and the size of their generated source in bytes. */
  cached: number;
  codeBytes: number;
}

export interface Translation {
  readonly off: number; // RAM offset of the entry
  readonly frame: number;
  readonly src: TranslationSource;
  readonly fn: TranslatedFn;
  gen: number; // the frame's write generation when last known to match
  fence: number; // the FENCE.I epoch when last known to match; -1 once dropped (cuts links to it)
  uses: number;
  /** Per exit (TranslationSource.chain): the translation that followed it last, or null. */
  readonly links: (Translation | null)[];
}

interface Entry {
  count: number;
  /** Instructions up to and including the first branch, jump or untranslated one (cold runs). */
  len: number;
  translatable: boolean;
  t: Translation | null;
}

export interface JitOptions {
  mode: Exclude<JitMode, 'off'>;
  /** Executions of an entry (in a hot frame) before it is translated ('on'); default 4096. */
  threshold?: number;
  /** Bound on the cached translations; default 4096 (`on`), 32768 (`always`). */
  maxTranslations?: number;
  /** Instructions a frame runs interpreted before its entries are counted ('on'); default 100 000. */
  frameHot?: number;
  /** The domain's write watch (shared between its vCPUs); default: a new one for this hart. */
  writeWatch?: WriteWatch;
  /** Chain translations through their exits' links (default true; false to measure what chaining gains). */
  chain?: boolean;
}

const MAX_ENTRIES = 1 << 16;

export class Jit implements ExecEngine {
  readonly threshold: number;
  readonly maxTranslations: number;
  readonly watch: WriteWatch;
  private readonly entries = new Map<number, Entry>();
  private readonly perFrame = new Map<number, number>();
  private readonly watchBit: number;
  private fenceEpoch = 0;
  private coldLen = 1;
  /**
   * Instructions interpreted per RAM frame while the frame was cold. Until a frame has run
   * `frameHot` of them its code is not profiled entry by entry: the interpreter runs it in
   * one piece until pc leaves the page, so cold code (most of a boot) costs one array
   * update per page visit instead of a Map lookup per branch.
   */
  private readonly heat: Int32Array;
  readonly frameHot: number;
  readonly chain: boolean;
  private readonly fast: (Translation | null)[] = new Array<Translation | null>(FAST_MASK + 1).fill(null);
  /** Translations entered through a link rather than the dispatcher (chaining). */
  chained = 0;
  readonly stats: JitStats = { executed: 0, translated: 0, translations: 0, invalidations: 0, evictions: 0, cached: 0, codeBytes: 0 };

  constructor(
    readonly hart: Hart,
    opts: JitOptions,
  ) {
    this.threshold = opts.mode === 'always' ? 0 : (opts.threshold ?? 4096);
    // 4 million (was 100 000): a boot runs many pages a few hundred thousand times and then
    // leaves them, and each translation costs about 1 ms of V8 work; at 100 000 the tier made
    // Linux 6.12's boot to its prompt 10-30 % slower than the interpreter in a fresh process,
    // at 4 million it is level, and cpubench and a dd | cksum workload are as fast (docs/jit.md).
    this.frameHot = opts.mode === 'always' ? 0 : (opts.frameHot ?? 4_000_000);
    // `always` (tests) translates every entry of a Linux boot (about 19 000): a cache that
    // holds them all costs memory but not the recompiling of evicted ones (11 -> 7 s of CPU).
    this.maxTranslations = opts.maxTranslations ?? (opts.mode === 'always' ? 32768 : 4096);
    this.chain = opts.chain ?? true;
    this.heat = new Int32Array(hart.bus.ram.u8.length >>> 12);
    this.watch = opts.writeWatch ?? new WriteWatch(hart.bus.ram.u8.length >>> 12);
    this.watchBit = 1 << (hart.hartid % 31);
  }

  execBlock(h: Hart, budget: number): number {
    const base = h.instret;
    const gens = this.watch.gen;
    const fast = this.fast;
    const heat = this.heat;
    const frameHot = this.frameHot;
    const chain = this.chain;
    const xTag = h.tlbXTag,
      xAdd = h.tlbXAdd;
    let acc = 0;
    let n = 0;
    let fromJit = 0;
    h.endBlock = false;
    h.trapped = false;
    h.codeWritten = false;
    while (n < budget) {
      const pc = h.pc;
      const left = budget - n;
      const i = (pc >>> 12) & MASK;
      let k: number;
      if (xTag[i] === (pc & PAGE_W)) {
        const off = (pc + xAdd[i]!) | 0;
        let t: Translation | null = fast[(off >>> 2) & FAST_MASK]!;
        // The hot path: a live translation of this entry, its page unwritten since it was
        // checked, no FENCE.I since, and the budget holds its first block.
        if (t === null || t.off !== off || gens[t.frame] !== t.gen || t.fence !== this.fenceEpoch || t.src.entryLength > left) {
          const f = off >>> 12;
          if (heat[f]! < frameHot) {
            // A cold page: the interpreter runs until pc leaves it, and the page's heat counts the instructions.
            h.pageExit = true;
            k = execBlock(h, left);
            h.pageExit = false;
            heat[f] = heat[f]! + k;
            t = null;
          } else {
            t = this.lookup(off, left);
            k = t === null ? execBlock(h, left < this.coldLen ? left : this.coldLen) : 0;
          }
        } else k = 0;
        if (t !== null) {
          const vpn = pc >>> 12;
          const page = off & ~0xfff;
          let rest = left;
          let tr: Translation = t;
          // Chaining (QEMU's goto_tb, v86's jumps between compiled blocks): when a translation
          // leaves by a direct branch to an entry of the same page whose translation it has
          // met before (its link for that exit), the next runs at once: no fetch TLB lookup
          // (same virtual page, and translated code changes no TLB), no table lookup, no
          // counting. Each link is checked like the table's hot path: the target's page
          // unwritten since it was checked, no FENCE.I since, not dropped (drop() sets its
          // fence to -1, so a link to a dropped or evicted translation is cut), and the budget
          // holds its first block, so interrupts still come at the block's end.
          for (;;) {
            tr.uses++;
            k = tr.fn(h, rest, vpn);
            fromJit += k;
            if (h.jitSlow !== 0) {
              if (k < rest) {
                // It stopped before an access its inline TLB check could not do (or a jump that
                // traps): the interpreter runs that instruction and the next ones up to its next
                // branch (so pieces start where translations do). Devices read time from
                // instret (icount): keep it at the block's start, as the interpreter does.
                acc += h.instret - base;
                h.instret = base;
                h.retiredBefore = acc;
                const s = rest - k;
                const at = page | (h.pc & 0xfff);
                const len = (this.entries.get(at) ?? this.newEntry(at)).len;
                k += execBlock(h, s < len ? s : len);
              }
              break;
            }
            const ex = h.jitExit;
            if (ex < 0 || k >= rest || h.endBlock || !chain) break;
            let c: Translation | null = tr.links[ex]!;
            if (c === null) {
              const to = tr.src.chain[ex]!;
              if (to < 0) break;
              c = fast[((page | to) >>> 2) & FAST_MASK]!;
              if (c === null || c.off !== (page | to)) break;
              tr.links[ex] = c;
            }
            if (gens[c.frame] !== c.gen || c.fence !== this.fenceEpoch) {
              tr.links[ex] = null; // the dispatcher rechecks or drops it; relinked when met again
              break;
            }
            if (c.src.entryLength > rest - k) break;
            // The piece ends here as in the loop's tail below.
            n += k;
            rest -= k;
            acc += h.instret - base;
            h.instret = base;
            h.retiredBefore = acc;
            h.codeWritten = false;
            this.chained++;
            tr = c;
          }
        }
      } else k = execBlock(h, 1); // the interpreter refills the fetch TLB (or traps)
      n += k;
      acc += h.instret - base;
      h.instret = base;
      h.retiredBefore = acc;
      h.codeWritten = false;
      if (h.endBlock) break;
    }
    h.instret = base + acc;
    h.retiredBefore = 0;
    this.stats.executed += n;
    this.stats.translated += fromJit;
    return n;
  }

  /**
   * The dispatcher's slow path: count the entry, translate it when hot, recheck a translation
   * whose page was written or that predates a FENCE.I. Returns the translation to run (and
   * puts it in the fast table), or null with `coldLen` set: the interpreter runs the entry's
   * cold stretch.
   */
  private lookup(off: number, left: number): Translation | null {
    const e = this.entries.get(off) ?? this.newEntry(off);
    this.coldLen = e.len;
    let t = e.t;
    if (t !== null && (this.watch.gen[t.frame] !== t.gen || t.fence !== this.fenceEpoch) && !this.recheck(t)) {
      this.drop(e, t);
      this.stats.invalidations++;
      t = null;
    }
    if (t === null && e.translatable && ++e.count > this.threshold) t = this.translate(e, off);
    if (t === null || t.src.entryLength > left) return null;
    this.fast[(off >>> 2) & FAST_MASK] = t;
    return t;
  }

  fenceI(): void {
    this.fenceEpoch++;
  }

  /** Drop every translation (tests, and the switch turning the tier off). */
  flush(): void {
    for (const e of this.entries.values()) if (e.t !== null) this.drop(e, e.t);
    this.entries.clear();
  }

  /** The cached translations, most used first (for the inspector). */
  hottest(limit = 10): Translation[] {
    const all: Translation[] = [];
    for (const e of this.entries.values()) if (e.t !== null) all.push(e.t);
    return all.sort((a, b) => b.uses - a.uses).slice(0, limit);
  }

  private newEntry(off: number): Entry {
    if (this.entries.size >= MAX_ENTRIES) this.dropCold();
    const i32 = this.hart.bus.ram.i32;
    let len = 0;
    let translatable = true;
    for (let o = off; ; o += 4) {
      const op = DISPATCH[dispatchKey(i32[o >> 2]!)]!;
      len++;
      const plain = (op >= 2 && op <= 39 && (op < 4 || op > 11)) || (op >= 49 && op <= 56);
      if (!plain) {
        if (len === 1 && !(op >= 4 && op <= 11)) translatable = false; // starts with an untranslated instruction
        break;
      }
      if (((o + 4) & 0xfff) === 0 || len >= 64) break;
    }
    const e: Entry = { count: 0, len, translatable, t: null };
    this.entries.set(off, e);
    return e;
  }

  private translate(e: Entry, off: number): Translation | null {
    const h = this.hart;
    const src = translateSource(h.bus.ram.i32, off & ~0xfff, off & 0xfff);
    if (src === undefined) {
      e.translatable = false;
      return null;
    }
    if (this.stats.cached >= this.maxTranslations) this.evict();
    const frame = off >>> 12;
    // Watch the frame before reading its generation: from here on every write to it is noticed.
    const before = this.watch.watch[frame]!;
    this.watch.add(frame, this.watchBit);
    if ((before & this.watchBit) === 0) h.dropWatchedWrites(this.watch);
    const t: Translation = {
      off,
      frame,
      src,
      fn: compile(h, src),
      gen: this.watch.generation(frame),
      fence: this.fenceEpoch,
      uses: 0,
      links: src.chain.map(() => null),
    };
    // Another vCPU may have changed the words between reading them and watching the frame.
    if (!sameWords(h.bus.ram.i32, t)) {
      if (!this.perFrame.has(frame)) this.watch.remove(frame, this.watchBit);
      return null;
    }
    e.t = t;
    this.perFrame.set(frame, (this.perFrame.get(frame) ?? 0) + 1);
    this.stats.translations++;
    this.stats.cached++;
    this.stats.codeBytes += src.code.length;
    return t;
  }

  /** A translation whose frame was written (or that predates a FENCE.I): still the same code? */
  private recheck(t: Translation): boolean {
    const gen = this.watch.generation(t.frame);
    if (!sameWords(this.hart.bus.ram.i32, t)) return false;
    t.gen = gen;
    t.fence = this.fenceEpoch;
    return true;
  }

  private drop(e: Entry, t: Translation): void {
    e.t = null;
    t.fence = -1; // never the epoch again: links to it fail their check and are cut
    const slot = (t.off >>> 2) & FAST_MASK;
    if (this.fast[slot] === t) this.fast[slot] = null;
    e.count = 0;
    this.stats.cached--;
    this.stats.codeBytes -= t.src.code.length;
    const left = (this.perFrame.get(t.frame) ?? 1) - 1;
    if (left > 0) this.perFrame.set(t.frame, left);
    else {
      this.perFrame.delete(t.frame);
      this.watch.remove(t.frame, this.watchBit);
    }
  }

  /** Evict the less used half of the translations, and halve the use counts of the rest. */
  private evict(): void {
    const live = [...this.entries.values()].filter((e) => e.t !== null);
    live.sort((a, b) => a.t!.uses - b.t!.uses);
    const cut = live.length >> 1;
    for (let i = 0; i < live.length; i++) {
      const e = live[i]!;
      if (i < cut) {
        this.drop(e, e.t!);
        this.stats.evictions++;
      } else e.t!.uses >>>= 1;
    }
  }

  /** Too many cold entries (a guest jumping everywhere): forget those without translations. */
  private dropCold(): void {
    for (const [off, e] of this.entries) if (e.t === null) this.entries.delete(off);
  }
}

function dispatchKey(insn: number): number {
  return (insn & 0x7f) | ((insn >>> 5) & 0x380) | ((insn >>> 15) & 0x1fc00);
}

function sameWords(i32: Int32Array, t: Translation): boolean {
  const page = (t.off & ~0xfff) >> 2;
  const { offsets, words } = t.src;
  for (let i = 0; i < offsets.length; i++) if (i32[page + (offsets[i]! >> 2)] !== words[i]) return false;
  return true;
}

/** Turn the translation tier on (or off) for a hart. */
export function setJit(h: Hart, mode: JitMode, opts: Omit<JitOptions, 'mode'> = {}): Jit | undefined {
  if (h.jit instanceof Jit) h.jit.flush();
  if (mode === 'off') {
    h.jit = undefined;
    return undefined;
  }
  const jit = new Jit(h, { ...opts, mode });
  h.writeWatch = jit.watch;
  h.jit = jit;
  return jit;
}
