/**
 * The vCPU side of the control block (vcpuControl.ts): one hart over the domain's P2M,
 * with the devices the vCPU emulates itself (CLINT, PLIC, test finisher; as Xen emulates
 * the local APIC in the hypervisor proper) and proxies for the device models that live in
 * the hypervisor worker (the UART: every register access is an exit, as QEMU in dom0
 * serves Xen's hvm guests). Host-agnostic: the worker entry (one file per host) builds a
 * VcpuRunner from a VcpuBoot and calls serve().
 */
import { setJit } from '../../cpu/jit/engine';
import { VcpuJit } from './jitControl';
import { WriteWatch } from '../../cpu/writeWatch';
import { Bus } from '../../bus/bus';
import type { Clock } from '../../bus/mmio';
import { Hart } from '../../cpu/hart';
import { captureHart, restoreHart } from '../../cpu/hartState';
import { Clint } from '../../devices/clint';
import { InstructionCountClock } from '../../devices/clocks';
import { Plic } from '../../devices/plic';
import type { FinishEvent } from '../../devices/sifiveTest';
import { hostNanosecondSource } from '../../devices/goldfishRtc';
import { attachVirtDevices } from '../../board/virtDevices';
import { mmioProxy, type ProxyHost } from './mmioProxy';
import * as M from '../../board/memoryMap';
import { IRQ_SEIP, IRQ_SSIP, IRQ_STIP } from '../../bus/mmio';
import { PRV_S } from '../../cpu/trap';
import { sbiCall } from './sbi';
import { ConsoleInRing } from './consoleIn';
import * as C from './vcpuControl';
import { HcAction } from '../common/hypercalls';
import * as X from '../public/xen';
import { EvtchnDirectory } from '../common/evtchnDirect';
import { PvHypercalls } from './pvHypercalls';
import { SbiConsole } from './sbiConsole';

/** Instructions between looks at the preempt flag: about a millisecond. */
const CHUNK = 100_000;

/** Read once: in a Chromium worker each read of performance.timeOrigin costs about 0.2 us. */
const TIME_ORIGIN = performance.timeOrigin;

/** Absolute host milliseconds, comparable between workers (performance.now() is per worker). */
export function hostNowMs(): number {
  return TIME_ORIGIN + performance.now();
}

export class VcpuRunner {
  readonly hart: Hart;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly clint: Clint;
  readonly plic: Plic;
  private readonly cb: Int32Array;
  private readonly jit: VcpuJit;
  private finished: FinishEvent | null = null;
  private irqSeen = 0;
  /** Why the slice must end after the current instruction (a hypercall asked for it). */
  private endReason: C.SliceEnd | null = null;
  /** Xen's set_timer_op, in ticks of `clock` (Infinity = off); the SBI timer is the CLINT's supervisor timer. */
  private xenTimer = Infinity;
  /** SCHEDOP_poll's timeout while the vCPU polls (ticks; Infinity = none). */
  private pollTimer = Infinity;
  private polling = false;
  /** set_timer_op's timer fired since waitInPlace last looked. */
  private timerFired = false;
  /** Time this slice spent waiting in place (not CPU time). */
  private parkedMs = 0;
  private readonly p2mGeneration: Int32Array;
  private readonly dir: EvtchnDirectory;
  /** hvm with firmware = "sbi": S-mode guest, hyperlab's SBI, the board's devices. */
  private readonly hvmSbi: boolean;
  /** The SBI console as the vCPU serves it (sbiConsole.ts). */
  private readonly console: SbiConsole;
  /** A pv vCPU's Xen hypercalls (pvHypercalls.ts). */
  private readonly pv: PvHypercalls;

  constructor(
    readonly boot: C.VcpuBoot,
    private readonly report: (message: string) => void = () => {},
  ) {
    this.cb = new Int32Array(boot.control);
    this.bus = new Bus({
      ramBase: boot.ramBase,
      ramSize: boot.ramSize,
      buffer: boot.machineMemory,
      p2m: new Int32Array(boot.p2m),
      p2mGeneration: new Int32Array(boot.p2mGeneration),
    });
    this.p2mGeneration = new Int32Array(boot.p2mGeneration);
    this.dir = new EvtchnDirectory(boot.evtchnDir);
    this.hvmSbi = boot.type === 'hvm' && boot.firmware === 'sbi';
    const request = (kind: C.VcpuRequest, ...a: number[]): number =>
      this.request(kind, a[0] ?? 0, a[1] ?? 0, a[2] ?? 0, a[3] ?? 0, a[4] ?? 0, a[5] ?? 0, a[6] ?? 0, a[7] ?? 0);
    this.console = new SbiConsole(this.cb, boot.consoleIn ? new ConsoleInRing(boot.consoleIn) : undefined, request);
    this.pv = new PvHypercalls({
      cb: this.cb,
      bus: this.bus,
      dir: this.dir,
      boot,
      request,
      endSlice: (r) => this.endSlice(r),
      setXenTimer: (t) => {
        this.xenTimer = t;
      },
      startPoll: (t) => {
        this.pollTimer = t;
        this.polling = true; // the ports it polls may be masked: only the hypervisor sees them fire
      },
    });
    const hart = new Hart(this.bus, boot.vcpuId);
    this.hart = hart;
    const watch = boot.writeWatch ? new WriteWatch(boot.machineMemory.byteLength >>> 12, boot.writeWatch) : undefined;
    if (boot.jit !== undefined && boot.jit !== 'off') setJit(hart, boot.jit, watch ? { writeWatch: watch } : {});
    else hart.writeWatch = watch; // live migration's log-dirty mode watches frames without the tier too
    this.jit = new VcpuJit(hart, watch, boot.saveArea, boot.jit ?? 'off');
    const ck = boot.clock;
    this.clock =
      ck.kind === 'icount'
        ? new InstructionCountClock({ instret: () => hart.retired(), shift: ck.shift })
        : { frequency: M.VIRT_TIMEBASE_FREQ, now: () => Math.floor((hostNowMs() - ck.epochMs) * (M.VIRT_TIMEBASE_FREQ / 1000)) };
    // SMP hvm: one PLIC for the domain, its registers shared with the other vCPU workers.
    const shared = boot.plicShared;
    this.plic = shared
      ? new Plic({ harts: Array.from({ length: boot.nrVcpus ?? 1 }, (_, i) => (i === boot.vcpuId ? hart : null)), shared })
      : new Plic({ harts: [hart] });
    if (boot.type === 'hvm') {
      const proxyHost: ProxyHost = { cb: this.cb, boot, request: (...a) => this.request(...a), applyIrqs: () => this.applyIrqs() };
      const devices = attachVirtDevices(
        this.bus,
        hart,
        {
          clock: this.clock,
          mtimeFromClock: true,
          uart: mmioProxy(proxyHost, 'uart0', M.VIRT_UART0_SIZE, C.MMIO_DEV_UART0),
          virtio: (slot) =>
            (boot.virtioPlugged ?? 0) & (1 << slot) ? mmioProxy(proxyHost, `virtio${slot}`, M.VIRT_VIRTIO_SIZE, C.mmioDevVirtio(slot)) : undefined,
          onFinish: (e) => {
            this.finished = e;
            hart.requestStop();
          },
          rtcSource: hostNanosecondSource(),
          boot: { startAddr: boot.entry, fdtAddr: boot.mrom?.fdtAddr ?? 0, nextAddr: boot.mrom?.nextAddr ?? boot.entry },
          tick: () => this.applyIrqs(), // after the CLINT's update, which drives STIP from the SBI timer
        },
        this.plic,
      );
      this.clint = devices.clint;
    } else {
      // pv: no devices at all; the CLINT object only keeps the time the `time` CSR reads and the SBI timer.
      this.clint = new Clint({ harts: [hart], clock: this.clock, mtimeFromClock: true });
      hart.hooks = {
        tick: () => {
          this.applyIrqs();
          this.pvTick();
        },
        readTimeLo: () => this.clint.mtimeLo(),
        readTimeHi: () => this.clint.mtimeHi(),
      };
    }
    this.enter(boot.entry, boot.args);
    if (boot.resume) this.resume(boot.resume);
  }

  /** Restore: the saved hart and devices replace the entry point's state (restoreHart checks every register). */
  private resume(s: C.VcpuSavedState): void {
    restoreHart(this.hart, s.hart);
    // mtime is not set back: the domain's clock already goes on from the saved mtime (real
    // time: boot.clock.epochMs; icount: the retired count, warped forward to it here), so the
    // CLINT keeps mtime = the clock, as in a domain that was never saved. (With an offset
    // between the two, SMP Linux stalled after a restore: the vCPU loop compares timer
    // deadlines with the clock itself.)
    if (this.clock instanceof InstructionCountClock) this.clock.advanceTo(s.clint.mtime[1] * 0x1_0000_0000 + s.clint.mtime[0]);
    this.clint.restore({ ...s.clint, mtime: this.clint.saveState().mtime });
    if (s.plic) this.plic.restore(s.plic);
    this.xenTimer = s.xenTimer ?? Infinity;
  }

  /** SAVE: the state between slices, as JSON into the save area (vcpuControl.ts). */
  private saveState(): void {
    const area = this.boot.saveArea;
    if (!area) return;
    const words = new Int32Array(area, 0, 2);
    // An IPI or interrupt line raised since the last slice goes into the hart first (an SBI
    // IPI is a C_IRQ bit until the vCPU takes it into SSIP): it would be lost otherwise.
    this.applyIrqs();
    const state: C.VcpuSavedState = {
      hart: captureHart(this.hart),
      clint: this.clint.saveState(),
      ...(this.boot.type === 'hvm' ? { plic: this.plic.saveState() } : {}),
      xenTimer: Number.isFinite(this.xenTimer) ? this.xenTimer : null,
      ...(this.boot.mrom
        ? { board: { entry: this.boot.entry, fdtAddr: this.boot.mrom.fdtAddr, nextAddr: this.boot.mrom.nextAddr, a2: this.boot.args[2] } }
        : {}),
    };
    const bytes = new TextEncoder().encode(JSON.stringify(state));
    const fits = bytes.length <= area.byteLength - C.SAVE_DATA;
    if (fits) new Uint8Array(area, C.SAVE_DATA, bytes.length).set(bytes);
    Atomics.store(words, C.SAVE_LEN, fits ? bytes.length : -1);
    Atomics.add(words, C.SAVE_SEQ, 1);
    Atomics.notify(words, C.SAVE_SEQ);
  }

  /** SET_A0: the hart's a0 (x10), answered in the save area with length 0. */
  private setA0(value: number): void {
    this.hart.x[10] = value;
    const area = this.boot.saveArea;
    if (!area) return;
    const words = new Int32Array(area, 0, 2);
    Atomics.store(words, C.SAVE_LEN, 0);
    Atomics.add(words, C.SAVE_SEQ, 1);
    Atomics.notify(words, C.SAVE_SEQ);
  }

  /** Put the hart at its entry point: M-mode for hvm; S-mode with hyperlab as firmware for pv and hvm with firmware = "sbi". */
  private enter(pc: number, args: readonly number[]): void {
    const h = this.hart;
    h.reset(pc);
    h.x[10] = args[0]!;
    h.x[11] = args[1]!;
    h.x[12] = args[2]!;
    if (this.boot.type === 'hvm' && !this.hvmSbi) {
      h.x[5] = pc; // t0, as QEMU's reset vector leaves it
      return;
    }
    // What firmware (OpenSBI) sets up before it enters an S-mode kernel: PMP open,
    // S interrupts and every exception but ECALL from S delegated, counters readable.
    h.pmpaddr[0] = -1;
    h.pmpcfg[0] = 0x1f;
    h.mideleg = (1 << IRQ_SSIP) | (1 << IRQ_STIP) | (1 << IRQ_SEIP);
    h.medeleg = 0xb1ff;
    h.mcounteren = 7;
    h.priv = PRV_S;
    h.firmware = (cause, tval, epc) => this.firmwareTrap(cause, tval, epc);
  }

  /** A trap that would enter M-mode: an SBI call, or something the guest cannot recover from. */
  private firmwareTrap(cause: number, tval: number, epc: number): void {
    const h = this.hart;
    if (cause === 9) {
      // ECALL from S-mode
      h.pc = (epc + 4) | 0;
      sbiCall({
        hart: h,
        xen: this.boot.type === 'pv',
        consolePutchar: (b) => this.console.putchar(b),
        consoleGetchar: (peek) => this.console.getchar(peek),
        request: (kind, ...args) => {
          const ret = this.request(kind, args[0] ?? 0, args[1] ?? 0, args[2] ?? 0);
          if (kind === C.VcpuRequest.SBI_RESET && this.cb[C.C_RET1] === HcAction.STOP) this.endSlice(C.SliceEnd.STOPPED);
          return ret;
        },
        setSbiTimer: (lo, hi) => this.clint.setSupervisorTimer(0, lo, hi),
        xenHypercall: (nr, args) => this.pv.call(nr, args),
        flushAllTlbs: () => {
          Atomics.add(this.p2mGeneration, 0, 1);
        },
      });
      return;
    }
    this.report(
      `vCPU ${this.boot.vcpuId} of domain ${this.boot.domid}: trap cause ${cause} (tval 0x${(tval >>> 0).toString(16)}) at pc 0x${(epc >>> 0).toString(16)} reached the firmware`,
    );
    this.endReason = C.SliceEnd.CRASH;
    h.pc = epc;
    h.requestStop();
  }

  private endSlice(reason: C.SliceEnd): void {
    this.endReason = reason;
    this.hart.requestStop();
  }

  /** Between blocks: SEIP follows the upcall bit, STIP the SBI timer; Xen's timer sends VIRQ_TIMER. */
  private pvTick(): void {
    const h = this.hart;
    h.setInterruptLevel(IRQ_SEIP, this.pv.upcallDue());
    this.clint.update(); // STIP from the SBI timer
    const now = this.clock.now();
    if (now >= this.xenTimer) {
      this.xenTimer = Infinity;
      this.timerFired = true;
      this.request(C.VcpuRequest.VIRQ, X.VIRQ_TIMER, 0, 0);
    }
  }

  /** The finisher status the guest wrote, if any. */
  get finish(): FinishEvent | null {
    return this.finished;
  }

  /** Interrupt lines from the hypervisor's device models into this vCPU's PLIC. */
  private applyIrqs(): void {
    if (this.boot.plicShared) this.plic.poll();
    const irq = Atomics.load(this.cb, C.C_IRQ);
    if (irq === this.irqSeen) return;
    this.irqSeen = irq;
    this.plic.setLine(M.VIRT_UART0_IRQ, (irq & C.IRQ_UART) !== 0);
    const plugged = this.boot.virtioPlugged ?? 0;
    for (let slot = 0; plugged >>> slot !== 0; slot++) if (plugged & (1 << slot)) this.plic.setLine(M.VIRT_VIRTIO_IRQ + slot, (irq & C.irqVirtio(slot)) !== 0);
    if ((irq & C.IRQ_IPI) !== 0) {
      Atomics.and(this.cb, C.C_IRQ, ~C.IRQ_IPI);
      this.irqSeen &= ~C.IRQ_IPI;
      this.hart.mipSw |= 1 << IRQ_SSIP; // an SBI IPI sets SSIP (SBI spec, IPI extension)
    }
  }

  /** A synchronous exit to the hypervisor; returns its answer. */
  request(kind: C.VcpuRequest, a0: number, a1: number, a2: number, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0): number {
    if (this.console.pending && kind !== C.VcpuRequest.SBI_CONSOLE_PUTS) this.console.flush(); // keep the output in order
    const cb = this.cb;
    const rsp = Atomics.load(cb, C.C_RSP_SEQ);
    cb[C.C_ARG0] = a0;
    cb[C.C_ARG0 + 1] = a1;
    cb[C.C_ARG0 + 2] = a2;
    cb[C.C_ARG0 + 3] = a3;
    cb[C.C_ARG0 + 4] = a4;
    cb[C.C_ARG0 + 5] = a5;
    cb[C.C_ARG0 + 6] = a6;
    cb[C.C_ARG0 + 7] = a7;
    cb[C.C_REQ] = kind;
    cb[C.C_PC] = this.hart.pc;
    this.ring(C.VcpuEvent.REQUEST);
    while (Atomics.load(cb, C.C_RSP_SEQ) === rsp) Atomics.wait(cb, C.C_RSP_SEQ, rsp);
    this.applyIrqs();
    return cb[C.C_RET]!;
  }

  private ring(event: C.VcpuEvent): void {
    Atomics.store(this.cb, C.C_EVENT, event);
    Atomics.add(this.cb, C.C_DOORBELL, 1);
    Atomics.notify(this.cb, C.C_DOORBELL);
  }

  /** Serve commands until QUIT. Blocks the calling thread: call it in a worker. */
  serve(): void {
    const cb = this.cb;
    let handled = 0;
    for (;;) {
      while (Atomics.load(cb, C.C_SEQ) === handled) Atomics.wait(cb, C.C_SEQ, handled);
      handled = Atomics.load(cb, C.C_SEQ);
      const cmd = cb[C.C_CMD];
      if (cmd === C.VcpuCmd.QUIT) return;
      if (cmd === C.VcpuCmd.SAVE) {
        this.saveState();
        continue;
      }
      if (cmd === C.VcpuCmd.SET_A0) {
        this.setA0(cb[C.C_ARG0]!);
        continue;
      }
      if (cmd === C.VcpuCmd.START) this.enter(cb[C.C_ARG0]!, [this.boot.vcpuId, cb[C.C_ARG0 + 1]!, 0]);
      if (cmd === C.VcpuCmd.RUN || cmd === C.VcpuCmd.START) this.runSlice(cb[C.C_BUDGET]!);
    }
  }

  /** Run up to `budget` instructions, then report why the slice ended. */
  runSlice(budget: number): void {
    const cb = this.cb;
    this.jit.poll(cb); // the translation tier switched or inspected from the page (jitControl.ts)
    const h = this.hart;
    const start = h.executed;
    const retiredBefore = h.instret;
    let reason = C.SliceEnd.BUDGET;
    const wakeAt = C.wakeAtView(cb);
    this.pollTimer = Infinity; // a poll that blocked the last slice is over
    this.parkedMs = 0;
    const t0 = performance.now();
    try {
      while (h.executed - start < budget) {
        if (Atomics.load(cb, C.C_PREEMPT) !== 0) {
          reason = C.SliceEnd.PREEMPTED;
          break;
        }
        const why = h.run(Math.min(budget - (h.executed - start), CHUNK));
        if (why === 'wfi') {
          if (this.waitInPlace()) continue;
          reason = C.SliceEnd.WFI;
          wakeAt[0] = this.wakeTimeMs();
          break;
        }
        if (why === 'stop') {
          reason = this.endReason ?? C.SliceEnd.SHUTDOWN;
          this.endReason = null;
          if (reason === C.SliceEnd.BLOCK && !this.polling && this.waitInPlace()) continue;
          this.polling = false;
          if (reason === C.SliceEnd.BLOCK) wakeAt[0] = this.wakeTimeMs();
          break;
        }
      }
    } catch (e) {
      reason = C.SliceEnd.CRASH;
      this.report(`vCPU ${this.boot.vcpuId} of domain ${this.boot.domid} crashed at pc 0x${(h.pc >>> 0).toString(16)}: ${String(e)}`);
    }
    // The time spent here, not the hand-over to and from the hypervisor, is this vCPU's CPU time.
    C.ranMsView(cb)[0] = performance.now() - t0 - this.parkedMs;
    this.console.flush(); // before the slice's results: the request uses the same words
    cb[C.C_RETIRED] = h.instret - retiredBefore;
    cb[C.C_INSTRET_LO] = h.instret % 0x1_0000_0000;
    cb[C.C_INSTRET_HI] = Math.floor(h.instret / 0x1_0000_0000);
    cb[C.C_PC] = h.pc;
    this.jit.report(cb);
    cb[C.C_REASON] = reason;
    const f = this.finished;
    cb[C.C_ARG0] = f === null ? 0 : f.kind === 'pass' ? C.FINISH_PASS : f.kind === 'fail' ? C.FINISH_FAIL : C.FINISH_RESET;
    cb[C.C_ARG0 + 1] = f?.code ?? 0;
    this.ring(C.VcpuEvent.SLICE_END);
  }

  /**
   * The hart blocked (SCHEDOP_block) or sleeps in WFI. Keep the pCPU for up to C_PARK_US
   * and wait on C_KICK for something that wakes it; true: resume the guest at once, false:
   * give the slice back (nothing came, the time is up, or the hypervisor wants the pCPU).
   * Real time only: in deterministic mode C_PARK_US is 0.
   */
  private waitInPlace(): boolean {
    const cb = this.cb;
    const parkUs = Atomics.load(cb, C.C_PARK_US);
    if (parkUs <= 0) return false;
    const t0 = performance.now();
    const until = t0 + parkUs / 1000;
    const slot = this.boot.vcpuSlot;
    const kick = this.dir.kickIndex(slot);
    this.dir.setParked(slot, true);
    let resume = false;
    for (;;) {
      const seen = Atomics.load(this.dir.w, kick);
      if (Atomics.load(cb, C.C_PREEMPT) !== 0) break;
      // The vCPU's own timers first: one that is due wakes it, and the guest takes the
      // timer as it runs on (a tick here would fire it without waking anybody).
      let now = performance.now();
      if (this.wakeTimeMs() - hostNowMs() + now <= now) {
        resume = true;
        break;
      }
      this.timerFired = false;
      this.hart.hooks.tick(); // interrupt lines and the upcall bit -> mip
      const h = this.hart;
      if ((h.mip & h.mie) !== 0 || this.timerFired || (this.boot.type === 'pv' && this.pv.upcallPending())) {
        resume = true;
        break;
      }
      now = performance.now();
      const wake = this.wakeTimeMs() - hostNowMs() + now; // on this clock
      const end = Math.min(until, wake);
      if (end <= now) break;
      Atomics.wait(this.dir.w, kick, seen, end - now);
    }
    this.dir.setParked(slot, false);
    this.parkedMs += performance.now() - t0;
    if (resume) this.hart.wfi = false;
    return resume;
  }

  /**
   * Host ms at which this sleeping vCPU should run again: at once if an enabled interrupt
   * is already pending (a deadline may have passed since the hart last looked), at the
   * CLINT deadline, or Infinity when only an interrupt from outside can wake it. With the
   * instruction-count clock, time warps to the deadline instead (QEMU's icount sleep=off).
   */
  private wakeTimeMs(): number {
    // Read the time before updating the CLINT: a deadline at or before `now` has then
    // certainly raised MTIP, so if that does not wake the hart, nothing from the timer will.
    const now = this.clock.now();
    this.clint.update();
    const h = this.hart;
    if ((h.mip & h.mie) !== 0) return hostNowMs();
    const sbiTimer = this.clint.nextDeadline(0, true); // in `time` units, exact over 64 bits
    const deadline = this.boot.type === 'pv' ? Math.min(sbiTimer, this.xenTimer, this.pollTimer) : this.hvmSbi ? sbiTimer : this.clint.nextDeadline(); // S-mode under SBI: MTIP is the firmware's, never enabled
    if ((this.boot.type === 'pv' || this.hvmSbi) && deadline <= now) return hostNowMs(); // fires at the next tick
    if (!Number.isFinite(deadline) || deadline <= now) return Infinity;
    if (this.boot.clock.kind === 'icount') {
      (this.clock as InstructionCountClock).advanceTo(deadline);
      return hostNowMs();
    }
    return hostNowMs() + ((deadline - now) * 1000) / this.clock.frequency;
  }
}
