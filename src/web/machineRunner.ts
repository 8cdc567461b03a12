/**
 * Runs one machine in slices on a host event loop, the way TinyEMU's virt_machine_run
 * and v86's main_loop do: execute a budget of instructions, then give the loop back so
 * that messages (input, pause, reset) get through, and sleep while the hart waits in WFI.
 *
 * The runner knows nothing of workers, the DOM or comlink: the host hands it a clock
 * and two ways to schedule work (`RunnerHost`), and it reports through `emit`. Only
 * workers/vm.worker.ts knows it runs in a Web Worker.
 *
 * Policies:
 *  - Slices target TARGET_SLICE_MS of host time; the budget adapts to the measured speed.
 *  - Console output is batched: at most one `console` event per CONSOLE_FLUSH_MS while the
 *    guest is active, plus one final flush when it stops (pause, power-off, crash).
 *  - Stats go out every STATS_MS while the guest is active, and at once on a change of
 *    state that the user caused or must see (pause, resume, power-off, crash, reboot).
 *    running <-> waiting flips can happen thousands of times a second (a guest timer
 *    tick), so they are only sampled by the periodic report.
 */
import type { FinishEvent } from '../core/devices/sifiveTest';
import type { Clock } from '../core/bus/mmio';
import { InstructionCountClock, RealTimeClock } from '../core/devices/clocks';
import type { StopReason } from '../core/cpu/hart';
import type { MachineStats, PowerOff, RunState, VmEventSink } from './protocol';
import { ByteBatch, InputQueue } from './byteQueues';

/** The part of VirtMachine the runner drives (a fake can stand in for tests). */
export interface RunnableMachine {
  run(budget: number): StopReason;
  nextDeadline(): number;
  sendInput(byte: number): boolean;
  readonly hart: { retired(): number };
  readonly clock: Clock;
  readonly finished: FinishEvent | null;
}

export interface RunnerHost {
  /** Monotonic milliseconds. */
  now(): number;
  /** Run `task` in a new macrotask, as soon as possible (no timer clamping). */
  queueTask(task: () => void): void;
  /** Run `task` after `ms` milliseconds; returns a function that cancels it. */
  setTimer(task: () => void, ms: number): () => void;
}

export interface MachineRunnerOptions {
  /** Builds a fresh machine wired to `onConsole`: at boot and at every reboot. May throw. */
  createMachine(onConsole: (byte: number) => void): RunnableMachine;
  host: RunnerHost;
  emit: VmEventSink;
  sharedMemory: boolean;
}

/** Host time per slice: short enough for input to feel immediate, long enough to amortise the yield. */
const TARGET_SLICE_MS = 8;
const INITIAL_BUDGET = 100_000;
const MIN_BUDGET = 10_000;
const MAX_BUDGET = 8_000_000;
/** One console batch per display frame at most. */
const CONSOLE_FLUSH_MS = 16;
const STATS_MS = 100;
/**
 * The longest WFI sleep before the hart looks again. A timer that expires between the
 * hart's last look at it and the deadline query reads as "no deadline" (the board only
 * reports future ones), so an unbounded sleep could miss it; a look costs a few µs.
 */
const MAX_WFI_SLEEP_MS = 100;
/** A MIPS sample over a shorter interval is mostly noise: keep the previous one. */
const MIN_MIPS_INTERVAL_MS = 20;

export class MachineRunner {
  private machine: RunnableMachine;
  private state: RunState = 'running';
  private budget = INITIAL_BUDGET;
  private readonly input = new InputQueue();
  private readonly output = new ByteBatch();
  private stepQueued = false;
  private cancelWake: (() => void) | null = null;
  private cancelFlush: (() => void) | null = null;
  private cancelStats: (() => void) | null = null;
  private lastFlush = -Infinity;
  private lastReport = { time: 0, instret: 0, mips: 0 };
  private runMs = 0;
  private upMs = 0;
  private activeSince: number | null = null;
  private poweroff: PowerOff | null = null;
  private crash: string | null = null;
  private resets = 0;
  private seq = 0;

  constructor(private readonly opts: MachineRunnerOptions) {
    this.machine = this.build();
    this.start();
  }

  sendInput(bytes: Uint8Array): void {
    this.input.push(bytes);
    if (this.state === 'waiting') this.wake();
  }

  pause(): void {
    if (this.state !== 'running' && this.state !== 'waiting') return;
    this.cancelTimer('cancelWake');
    if (this.machine.clock instanceof RealTimeClock) this.machine.clock.pause();
    this.stopActive('paused');
  }

  resume(): void {
    if (this.state !== 'paused') return;
    if (this.machine.clock instanceof RealTimeClock) this.machine.clock.resume();
    this.start();
  }

  /** Reboot from the same image with fresh RAM; also powers an off or crashed machine on. */
  reset(reason: 'user' | 'guest' = 'user'): void {
    this.cancelTimer('cancelWake');
    this.flush();
    this.resets += 1;
    this.opts.emit({ type: 'reboot', reason, boot: this.resets });
    this.runMs = 0;
    this.upMs = 0;
    this.activeSince = null;
    this.poweroff = null;
    this.crash = null;
    this.budget = INITIAL_BUDGET;
    this.lastReport = { time: this.opts.host.now(), instret: 0, mips: 0 };
    try {
      this.machine = this.build();
    } catch (e) {
      this.fail(e);
      return;
    }
    this.start();
  }

  stats(): MachineStats {
    const now = this.opts.host.now();
    const instret = this.machine.hart.retired();
    const active = this.state === 'running' || this.state === 'waiting';
    return {
      seq: ++this.seq,
      state: this.state,
      instret,
      mips: active ? this.lastReport.mips : 0,
      avgMips: this.runMs > 0 ? instret / this.runMs / 1000 : 0,
      runMs: this.runMs,
      uptimeMs: this.upMs + (this.activeSince !== null ? now - this.activeSince : 0),
      poweroff: this.poweroff,
      crash: this.crash,
      resets: this.resets,
      sharedMemory: this.opts.sharedMemory,
    };
  }

  private build(): RunnableMachine {
    return this.opts.createMachine((byte) => this.output.push(byte));
  }

  private start(): void {
    this.state = 'running';
    this.activeSince = this.opts.host.now();
    this.report();
    this.armStatsTimer();
    this.queueStep();
  }

  /** Leave the active states for `state`: stop the clocks, flush, report at once. */
  private stopActive(state: 'paused' | 'off' | 'crashed'): void {
    this.state = state;
    if (this.activeSince !== null) this.upMs += this.opts.host.now() - this.activeSince;
    this.activeSince = null;
    this.cancelTimer('cancelStats');
    this.flush();
    this.report();
  }

  private queueStep(): void {
    if (this.stepQueued) return;
    this.stepQueued = true;
    this.opts.host.queueTask(this.step);
  }

  private readonly step = (): void => {
    this.stepQueued = false;
    if (this.state !== 'running') return;
    const m = this.machine;
    const { host } = this.opts;
    this.input.feed((b) => m.sendInput(b));
    const t0 = host.now();
    let why: StopReason;
    try {
      why = m.run(this.budget);
    } catch (e) {
      this.fail(e);
      return;
    }
    const dt = host.now() - t0;
    this.runMs += dt;
    if (why === 'budget') this.adaptBudget(dt);
    if (why === 'stop') {
      this.finish();
      return;
    }
    if (why === 'wfi') this.sleep(); // first: the deadline is measured against the clock now
    else this.queueStep();
    this.flushSoon();
    if (host.now() - this.lastReport.time >= STATS_MS) this.report();
  };

  private adaptBudget(ms: number): void {
    const factor = ms > 0.1 ? Math.min(2, Math.max(0.5, TARGET_SLICE_MS / ms)) : 2;
    this.budget = Math.round(Math.min(MAX_BUDGET, Math.max(MIN_BUDGET, this.budget * factor)));
  }

  /** The hart waits for an interrupt: sleep until its next deadline or until input comes. */
  private sleep(): void {
    const m = this.machine;
    const deadline = m.nextDeadline();
    if (m.clock instanceof InstructionCountClock && Number.isFinite(deadline)) {
      m.clock.advanceTo(deadline); // icount "warp": virtual time jumps to the deadline
      this.queueStep();
      return;
    }
    this.state = 'waiting';
    if (this.input.length > 0) {
      this.wake();
      return;
    }
    const ms = Number.isFinite(deadline) ? Math.max(0, ((deadline - m.clock.now()) * 1000) / m.clock.frequency) : Infinity;
    this.cancelWake = this.opts.host.setTimer(() => this.wake(), Math.min(Math.ceil(ms), MAX_WFI_SLEEP_MS));
  }

  private wake(): void {
    this.cancelTimer('cancelWake');
    if (this.state !== 'waiting') return;
    this.state = 'running';
    this.queueStep();
  }

  private finish(): void {
    const f = this.machine.finished;
    if (f?.kind === 'reset') {
      this.reset('guest'); // 0x7777: the board resets, as QEMU's does
      return;
    }
    this.poweroff = f ? { kind: f.kind, code: f.code } : { kind: 'fail', code: -1 };
    this.stopActive('off');
  }

  private fail(e: unknown): void {
    this.crash = e instanceof Error ? e.message : String(e);
    this.stopActive('crashed');
  }

  /** Flush now if the last batch is old enough, else make sure a timer will. */
  private flushSoon(): void {
    if (this.output.length === 0 || this.cancelFlush) return;
    const wait = this.lastFlush + CONSOLE_FLUSH_MS - this.opts.host.now();
    if (wait <= 0) this.flush();
    else this.cancelFlush = this.opts.host.setTimer(() => this.flush(), wait);
  }

  private flush(): void {
    this.cancelTimer('cancelFlush');
    if (this.output.length === 0) return;
    this.lastFlush = this.opts.host.now();
    this.opts.emit({ type: 'console', bytes: this.output.take(), boot: this.resets });
  }

  private armStatsTimer(): void {
    this.cancelTimer('cancelStats');
    this.cancelStats = this.opts.host.setTimer(() => {
      this.cancelStats = null;
      if (this.state !== 'running' && this.state !== 'waiting') return;
      if (this.opts.host.now() - this.lastReport.time >= STATS_MS / 2) this.report();
      this.armStatsTimer();
    }, STATS_MS);
  }

  private report(): void {
    const now = this.opts.host.now();
    const instret = this.machine.hart.retired();
    const dt = now - this.lastReport.time;
    const mips = dt >= MIN_MIPS_INTERVAL_MS ? (instret - this.lastReport.instret) / dt / 1000 : this.lastReport.mips;
    this.lastReport = { time: now, instret, mips };
    this.opts.emit({ type: 'stats', stats: this.stats() });
  }

  private cancelTimer(which: 'cancelWake' | 'cancelFlush' | 'cancelStats'): void {
    const cancel = this[which];
    this[which] = null;
    cancel?.();
  }
}
