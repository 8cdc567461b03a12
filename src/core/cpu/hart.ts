/**
 * One RISC-V RV32IMA hart: architectural state, trap entry, interrupt selection and the
 * budgeted run loop (privileged spec 1.12, chapters 3 and 4).
 *
 * `run(budget)` executes at most `budget` instructions and returns why it stopped; the
 * instruction-level work happens in `execBlock` (interp.ts) over blocks of instructions,
 * with interrupts and the platform timer checked between blocks (as TinyEMU checks them
 * at block boundaries). Anything that can change interrupt state or address translation
 * (CSR writes, xRET, SFENCE.VMA, traps, MMIO stores) ends the current block.
 */
import type { Bus } from '../bus/bus';
import type { InterruptTarget } from '../bus/mmio';
import { execBlock } from './interp';
import { CAUSE_INTERRUPT, INTERRUPT_PRIORITY, PRV_M, PRV_S } from './trap';
import { TLB_MASK, TLB_SIZE } from './mmu';
import * as S from './status';
import type { WriteWatch } from './writeWatch';

/** Why `run` returned. */
export type StopReason =
  | 'budget' // the instruction budget is used up
  | 'wfi' // the hart waits for an interrupt (nothing pending and enabled)
  | 'stop'; // the platform asked to stop (power off, reset), see Hart.requestStop

/** Instructions per block between interrupt/timer checks. */
const BLOCK = 4096;

export interface HartHooks {
  /** Called between blocks so the platform can update timers (CLINT mtime vs mtimecmp). */
  tick(): void;
  /** The `time` and `timeh` CSRs: the low and high words of the platform's 64-bit mtime. */
  readTimeLo(): number;
  readTimeHi(): number;
}

/**
 * A translation tier (jit/engine.ts): executes the same `budget` the interpreter would, with
 * the same stopping points, so either can run any block (docs/jit.md).
 */
export interface ExecEngine {
  execBlock(h: Hart, budget: number): number;
  /** FENCE.I on this hart: translations must match memory before they run again. */
  fenceI(): void;
}

const NO_HOOKS: HartHooks = { tick: () => {}, readTimeLo: () => 0, readTimeHi: () => 0 };

export class Hart implements InterruptTarget {
  readonly x = new Int32Array(32);
  pc = 0;
  priv = PRV_M;

  // Machine-level CSRs (section 3.1).
  mstatus = 0;
  medeleg = 0;
  mideleg = 0;
  mie = 0;
  mtvec = 0;
  mcounteren = 0;
  mcountinhibit = 0;
  mscratch = 0;
  mepc = 0;
  mcause = 0;
  mtval = 0;
  menvcfg = 0;
  menvcfgh = 0;
  /** mip bits driven by devices (MSIP, MTIP, MEIP, and the external SEIP line). */
  mipHw = 0;
  /** mip bits written by software (SSIP, STIP, SEIP). */
  mipSw = 0;
  readonly pmpcfg = new Uint8Array(16);
  readonly pmpaddr = new Int32Array(16);

  // Supervisor-level CSRs (section 4.1).
  stvec = 0;
  scounteren = 0;
  senvcfg = 0;
  sscratch = 0;
  sepc = 0;
  scause = 0;
  stval = 0;
  satp = 0;

  /** Instructions retired since reset (a double: exact to 2^53). */
  instret = 0;
  /** Instructions executed since reset, including those that trapped: what budgets count. */
  executed = 0;
  /**
   * What CSR writes to mcycle and minstret add to the retired count, modulo 2^64, as
   * uint32 halves: [mcycle lo, mcycle hi, minstret lo, minstret hi] (csr.ts). While
   * mcountinhibit stops a counter, its halves hold the counter's value itself.
   */
  readonly counterOffset = new Uint32Array(4);
  /** Instructions executed so far in the current block (not yet added to `instret`). */
  blockRetired = 0;

  /** LR/SC reservation: physical address (-1 = none) and the value LR read. */
  resAddr = -1;
  resValue = 0;

  /** Waiting in WFI. */
  wfi = false;
  /** Set by a slow path when the instruction trapped (pc was redirected). */
  trapped = false;
  /** Set by a slow path when the current block must end after this instruction. */
  endBlock = false;
  private _stopRequested = false;
  /** The translation tier, or undefined for the interpreter alone. */
  jit: ExecEngine | undefined;
  /** Frames whose writes must be noticed (code pages, log-dirty); see writeWatch.ts. */
  writeWatch: WriteWatch | undefined;
  /** Set by the store slow path when it wrote a watched frame (a translation then leaves). */
  codeWritten = false;
  /** Set by a translation when it stopped before an instruction the interpreter must run, and how many. */
  jitSlow = 0;
  /** Set by a translation: the number of the exit it left by (-1: an indirect jump), for chaining. */
  jitExit = -1;
  /** Instructions executed by earlier pieces of the current block (jit/engine.ts splits blocks). */
  retiredBefore = 0;
  /** Set by the translation tier: the interpreter's block ends when pc leaves the code page it started in. */
  pageExit = false;
  private _watchEpoch = 0;
  /**
   * Firmware in place of M-mode code (pv guests, S-mode guests on hyperlab's SBI): when set,
   * every trap that would enter M-mode calls it instead, and it decides what happens next
   * (for an ECALL: do the call and set pc past it).
   */
  firmware: ((cause: number, tval: number, epc: number) => void) | undefined;

  // Software TLB: separate read, write and fetch arrays of TLB_SIZE entries. A tag is the
  // virtual page base (-1 = invalid, which no masked address can equal); the addend turns
  // a virtual address into a byte offset in RAM. Filled in mmu.ts.
  readonly tlbRTag = new Int32Array(TLB_SIZE).fill(-1);
  readonly tlbRAdd = new Int32Array(TLB_SIZE);
  readonly tlbWTag = new Int32Array(TLB_SIZE).fill(-1);
  readonly tlbWAdd = new Int32Array(TLB_SIZE);
  readonly tlbXTag = new Int32Array(TLB_SIZE).fill(-1);
  readonly tlbXAdd = new Int32Array(TLB_SIZE);

  constructor(
    readonly bus: Bus,
    readonly hartid = 0,
    public hooks: HartHooks = NO_HOOKS,
  ) {}

  /** Reset to the state the `virt` board's reset vector leaves: M-mode at `pc`. */
  reset(pc: number): void {
    this.x.fill(0);
    this.pc = pc | 0;
    this.priv = PRV_M;
    this.mstatus = 0;
    this.mie = this.mipSw = 0;
    this.medeleg = this.mideleg = 0;
    this.satp = 0;
    this.wfi = false;
    this.resAddr = -1;
    this._stopRequested = false;
    this.flushTlb();
  }

  /** Execute at most `budget` instructions. */
  run(budget: number): StopReason {
    let left = budget;
    while (left > 0) {
      if (this.bus.p2mChanged()) this.flushTlb();
      const ww = this.writeWatch;
      if (ww !== undefined && ww.epoch[0] !== this._watchEpoch) this.dropWatchedWrites(ww);
      this.hooks.tick();
      if (this.takePendingInterrupt() || this.wfi) {
        if (this.wfi) {
          if ((this.mip & this.mie) === 0) return 'wfi';
          this.wfi = false; // an enabled interrupt is pending: resume (section 3.3.3)
        }
      }
      const b = left < BLOCK ? left : BLOCK;
      const n = this.jit === undefined ? execBlock(this, b) : this.jit.execBlock(this, b);
      left -= n;
      this.executed += n;
      if (this._stopRequested) {
        this._stopRequested = false;
        return 'stop';
      }
    }
    return 'budget';
  }

  /** Ask `run` to return 'stop' at the end of the current instruction. */
  requestStop(): void {
    this._stopRequested = true;
    this.endBlock = true;
  }

  get mip(): number {
    return this.mipHw | this.mipSw;
  }

  setInterruptLevel(bit: number, level: boolean): void {
    if (level) this.mipHw |= 1 << bit;
    else this.mipHw &= ~(1 << bit);
    this.endBlock = true;
  }

  /** The interrupt the hart would take now (section 3.1.9), or -1. */
  pendingInterrupt(): number {
    const pending = this.mip & this.mie;
    if (pending === 0) return -1;
    const m = pending & ~this.mideleg;
    const mEnabled = this.priv < PRV_M || (this.mstatus & S.MIE) !== 0;
    const s = pending & this.mideleg;
    const sEnabled = this.priv < PRV_S || (this.priv === PRV_S && (this.mstatus & S.SIE) !== 0);
    const candidates = (mEnabled ? m : 0) | (sEnabled ? s : 0);
    if (candidates === 0) return -1;
    for (const irq of INTERRUPT_PRIORITY) if ((candidates >>> irq) & 1) return irq;
    return -1;
  }

  private takePendingInterrupt(): boolean {
    const irq = this.pendingInterrupt();
    if (irq < 0) return false;
    this.wfi = false;
    this.enterTrap(CAUSE_INTERRUPT | irq, 0, this.pc);
    return true;
  }

  /**
   * Take a synchronous exception raised by the instruction at `epc`: the instruction does
   * not retire. Sets `trapped` so the interpreter leaves its block.
   */
  raiseException(cause: number, tval: number, epc: number): void {
    this.instret -= 1; // counted by the interpreter as executed; it did not retire
    this.enterTrap(cause, tval, epc);
    this.trapped = true;
    this.endBlock = true;
  }

  /** Trap entry (sections 3.1.6.1, 3.1.7, 3.1.8, 4.1.1): to S if delegated, else to M. */
  enterTrap(cause: number, tval: number, epc: number): void {
    const interrupt = cause < 0;
    const code = cause & 0x7fff_ffff;
    const deleg = interrupt ? this.mideleg : this.medeleg;
    const prev = this.priv;
    let ms = this.mstatus;
    if (prev <= PRV_S && ((deleg >>> code) & 1) !== 0) {
      this.scause = cause;
      this.sepc = epc;
      this.stval = tval;
      ms = (ms & ~(S.SPIE | S.SPP | S.SIE)) | ((ms & S.SIE) << 4) | (prev << S.SPP_SHIFT);
      this.priv = PRV_S;
      this.pc = trapVector(this.stvec, interrupt, code);
    } else if (this.firmware !== undefined) {
      this.firmware(cause, tval, epc);
      return;
    } else {
      this.mcause = cause;
      this.mepc = epc;
      this.mtval = tval;
      ms = (ms & ~(S.MPIE | S.MPP | S.MIE)) | ((ms & S.MIE) << 4) | (prev << S.MPP_SHIFT);
      this.priv = PRV_M;
      this.pc = trapVector(this.mtvec, interrupt, code);
    }
    this.mstatus = ms;
    if (this.priv !== prev) this.flushTlb();
  }

  /** Invalidate every TLB entry (SFENCE.VMA, satp writes, privilege or MPRV/SUM/MXR changes). */
  flushTlb(): void {
    this.tlbRTag.fill(-1);
    this.tlbWTag.fill(-1);
    this.tlbXTag.fill(-1);
    this.endBlock = true;
  }

  /**
   * Drop fast write entries whose frame is watched: they may have been filled (by this
   * hart, or by another vCPU before it saw the frame become watched) before the watch.
   */
  dropWatchedWrites(ww: WriteWatch): void {
    this._watchEpoch = Atomics.load(ww.epoch, 0);
    const tags = this.tlbWTag,
      adds = this.tlbWAdd;
    for (let i = 0; i <= TLB_MASK; i++) {
      if (tags[i] !== -1 && ww.watch[((tags[i]! + adds[i]!) | 0) >>> 12] !== 0) tags[i] = -1;
    }
  }

  /** Instructions retired so far, including the block in progress. */
  retired(): number {
    return this.instret + this.blockRetired;
  }
}

/** xtvec: BASE in bits 31:2, MODE 1 = vectored (interrupts jump to BASE + 4*cause). */
function trapVector(tvec: number, interrupt: boolean, code: number): number {
  const base = tvec & ~3;
  return (tvec & 3) === 1 && interrupt ? (base + 4 * code) | 0 : base;
}
