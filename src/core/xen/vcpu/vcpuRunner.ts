/**
 * The vCPU side of the control block (vcpuControl.ts): one hart over the domain's P2M,
 * with the devices the vCPU emulates itself (CLINT, PLIC, test finisher; as Xen emulates
 * the local APIC in the hypervisor proper) and proxies for the device models that live in
 * the hypervisor worker (the UART: every register access is an exit, as QEMU in dom0
 * serves Xen's hvm guests). Host-agnostic: the worker entry (one file per host) builds a
 * VcpuRunner from a VcpuBoot and calls serve().
 */
import { Bus } from '../../bus/bus';
import type { AccessWidth, Clock, MmioDevice } from '../../bus/mmio';
import { Hart } from '../../cpu/hart';
import { Clint } from '../../devices/clint';
import { InstructionCountClock } from '../../devices/clocks';
import { Plic } from '../../devices/plic';
import type { FinishEvent } from '../../devices/sifiveTest';
import { hostNanosecondSource } from '../../devices/goldfishRtc';
import { attachVirtDevices } from '../../board/virtDevices';
import * as M from '../../board/memoryMap';
import { IRQ_SEIP, IRQ_SSIP, IRQ_STIP } from '../../bus/mmio';
import { PRV_S } from '../../cpu/trap';
import { sbiCall } from './sbi';
import { ConsoleInRing } from './consoleIn';
import * as C from './vcpuControl';
import { HcAction, operation } from '../common/hypercalls';
import * as X from '../public/xen';
import { EvtchnDirectory } from '../common/evtchnDirect';
import { clearUpcallMask, upcallMasked, upcallPending } from '../common/sharedInfo';

/** Instructions between looks at the preempt flag: about a millisecond. */
const CHUNK = 100_000;

/** The hypercall operations this runner serves itself (the table's `vcpu` and `vcpu-first` rows). */
export const VCPU_SERVED_OPS = ['set_timer_op', 'block', 'send'] as const;
export type VcpuServedOp = (typeof VCPU_SERVED_OPS)[number];
/** SBI console bytes per exit: what fits in the request's argument words (vcpuControl.ts SBI_CONSOLE_PUTS). */
const CONSOLE_BATCH = 28;

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
  /** SBI console output not yet handed to the hypervisor (see consolePutchar). */
  private readonly conOut = new Uint8Array(CONSOLE_BATCH);
  private conLen = 0;
  /** SBI console input the hypervisor fills (consoleIn.ts), if it gave one. */
  private readonly conIn: ConsoleInRing | undefined;

  constructor(readonly boot: C.VcpuBoot, private readonly report: (message: string) => void = () => {}) {
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
    this.conIn = boot.consoleIn ? new ConsoleInRing(boot.consoleIn) : undefined;
    const hart = new Hart(this.bus, boot.vcpuId);
    this.hart = hart;
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
      const devices = attachVirtDevices(this.bus, hart, {
        clock: this.clock,
        mtimeFromClock: true,
        uart: this.proxy('uart0', M.VIRT_UART0_SIZE),
        onFinish: (e) => { this.finished = e; hart.requestStop(); },
        rtcSource: hostNanosecondSource(),
        boot: { startAddr: boot.entry, fdtAddr: boot.mrom?.fdtAddr ?? 0, nextAddr: boot.mrom?.nextAddr ?? boot.entry },
        tick: () => this.applyIrqs(), // after the CLINT's update, which drives STIP from the SBI timer
      }, this.plic);
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
    if (cause === 9) { // ECALL from S-mode
      h.pc = (epc + 4) | 0;
      sbiCall({
        hart: h,
        xen: this.boot.type === 'pv',
        consolePutchar: (b) => this.consolePutchar(b),
        consoleGetchar: (peek) => this.consoleGetchar(peek),
        request: (kind, ...args) => {
          const ret = this.request(kind, args[0] ?? 0, args[1] ?? 0, args[2] ?? 0);
          if (kind === C.VcpuRequest.SBI_RESET && this.cb[C.C_RET1] === HcAction.STOP) this.endSlice(C.SliceEnd.STOPPED);
          return ret;
        },
        setSbiTimer: (lo, hi) => this.clint.setSupervisorTimer(0, lo, hi),
        xenHypercall: (nr, args) => this.xenHypercall(nr, args),
        flushAllTlbs: () => { Atomics.add(this.p2mGeneration, 0, 1); },
      });
      return;
    }
    this.report(`vCPU ${this.boot.vcpuId} of domain ${this.boot.domid}: trap cause ${cause} (tval 0x${(tval >>> 0).toString(16)}) at pc 0x${(epc >>> 0).toString(16)} reached the firmware`);
    this.endReason = C.SliceEnd.CRASH;
    h.pc = epc;
    h.requestStop();
  }

  /**
   * SBI console output (legacy putchar, one ECALL per byte in Linux's hvc_riscv_sbi) is
   * gathered here and handed to the hypervisor CONSOLE_BATCH bytes per exit, and before
   * any other exit and at the end of every slice, so nothing is reordered or held for
   * longer than a slice.
   */
  private consolePutchar(byte: number): void {
    this.conOut[this.conLen++] = byte;
    if (this.conLen === CONSOLE_BATCH) this.flushConsole();
  }

  /**
   * SBI console input without an exit once the hypervisor has seen the guest read the SBI
   * console (consoleIn.ts): a byte from the ring, or -1 when it is empty and nothing waits
   * behind it. Undefined: the hypervisor must answer (the first poll, or a backlog).
   */
  private consoleGetchar(peek = false): number | undefined {
    const ring = this.conIn;
    if (ring === undefined || !ring.reader) return undefined;
    if (peek) return ring.length === 0 && !ring.backlog ? -1 : undefined;
    const b = ring.take();
    if (b < 0 && ring.backlog) return undefined;
    const i = C.C_LOCAL_HC + 3; // LOCAL_HC 'sbi:console-read-local'
    this.cb[i] = (this.cb[i]! + 1) | 0;
    return b;
  }

  private flushConsole(): void {
    const n = this.conLen;
    if (n === 0) return;
    this.conLen = 0;
    const w = new Int32Array(7);
    for (let i = 0; i < n; i++) w[i >> 2]! |= this.conOut[i]! << (8 * (i & 3));
    this.request(C.VcpuRequest.SBI_CONSOLE_PUTS, n, w[0]!, w[1]!, w[2]!, w[3]!, w[4]!, w[5]!, w[6]!);
  }

  /**
   * A Xen hypercall. The hypercall table (common/hypercalls.ts) says which operations the
   * vCPU serves itself (its timer, SCHEDOP_block, a routed event send); the rest, and a
   * send that is not routed, go to the hypervisor thread.
   */
  private xenHypercall(nr: number, args: number[]): number {
    const op = operation(nr, args[0]!);
    if (op !== undefined && op.served !== 'hypervisor') {
      const ret = this.local[op.name as VcpuServedOp]?.(args);
      if (ret !== undefined) return ret;
    }
    const ret = this.request(C.VcpuRequest.HYPERCALL, args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, nr);
    const action = this.cb[C.C_RET1]!;
    if (action === HcAction.POLL) {
      // struct sched_poll's u64 timeout at +8: absolute system time in ns, 0 = none.
      const lo = this.bus.ramOffset((args[1]! + 8) >>> 0), hi = this.bus.ramOffset((args[1]! + 12) >>> 0);
      const ns = lo >= 0 && hi >= 0 ? (this.bus.ram.i32[hi >> 2]! >>> 0) * 0x1_0000_0000 + (this.bus.ram.i32[lo >> 2]! >>> 0) : 0;
      this.pollTimer = ns === 0 ? Infinity : Math.ceil(ns / 100);
      this.polling = true; // the ports it polls may be masked: only the hypervisor sees them fire
      this.endSlice(C.SliceEnd.BLOCK);
    } else if (action === HcAction.YIELD) this.endSlice(C.SliceEnd.PREEMPTED);
    else if (action === HcAction.STOP) this.endSlice(C.SliceEnd.STOPPED);
    return ret;
  }

  /**
   * The operations the table marks `vcpu` or `vcpu-first`, by name; each counts itself in
   * C_LOCAL_HC. `undefined`: not done here (the hypervisor thread serves it).
   */
  private readonly local: Record<VcpuServedOp, (args: number[]) => number | undefined> = {
    set_timer_op: (args) => {
      this.cb[C.C_LOCAL_HC] = (this.cb[C.C_LOCAL_HC]! + 1) | 0;
      const ns = (args[1]! >>> 0) * 0x1_0000_0000 + (args[0]! >>> 0);
      this.xenTimer = ns === 0 ? Infinity : Math.ceil(ns / 100); // ns of system time -> 10 MHz ticks
      return 0;
    },
    block: () => {
      // Enable events (Xen's SCHEDOP_block unmasks), and either return at once (an event is
      // already waiting) or end the slice as BLOCK, to wait in place or give the pCPU back;
      // the hypervisor looks at the upcall bit once more when the slice ends.
      this.cb[C.C_LOCAL_HC + 1] = (this.cb[C.C_LOCAL_HC + 1]! + 1) | 0;
      this.clearUpcallMask();
      if (!this.upcallPending()) this.endSlice(C.SliceEnd.BLOCK);
      return 0;
    },
    send: (args) => {
      if (!this.directSend(args[1]!)) return undefined;
      this.cb[C.C_LOCAL_HC + 2] = (this.cb[C.C_LOCAL_HC + 2]! + 1) | 0;
      return 0;
    },
  };

  /**
   * EVTCHNOP_send on the direct path (evtchnDirect.ts): the port is read from the guest's
   * struct evtchn_send; false when the hypervisor must serve the call.
   */
  private directSend(arg: number): boolean {
    const slot = this.boot.domainSlot;
    if (slot === undefined) return false;
    const off = this.bus.ramOffset(arg >>> 0);
    if (off < 0 || (off & 3) !== 0) return false;
    return this.dir.send(slot, this.bus.ram.i32[off >> 2]! >>> 0, this.bus.ram);
  }

  private endSlice(reason: C.SliceEnd): void {
    this.endReason = reason;
    this.hart.requestStop();
  }

  /** This vCPU's evtchn_upcall_pending (pv; shared_info is at a fixed machine offset). */
  private upcallPending(): boolean {
    const si = this.boot.sharedInfoMachine ?? -1;
    return si >= 0 && upcallPending(this.bus.ram, si, this.boot.vcpuId);
  }

  private clearUpcallMask(): void {
    const si = this.boot.sharedInfoMachine ?? -1;
    if (si >= 0) clearUpcallMask(this.bus.ram, si, this.boot.vcpuId);
  }

  /** Between blocks: SEIP follows the upcall bit, STIP the SBI timer; Xen's timer sends VIRQ_TIMER. */
  private pvTick(): void {
    const h = this.hart;
    const si = this.boot.sharedInfoMachine ?? -1;
    h.setInterruptLevel(IRQ_SEIP, si >= 0 && upcallPending(this.bus.ram, si, this.boot.vcpuId) && !upcallMasked(this.bus.ram, si, this.boot.vcpuId));
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

  /** A device whose registers live in the hypervisor: every access is a synchronous exit. */
  private proxy(name: string, size: number): MmioDevice {
    return {
      name,
      size,
      read: (offset: number, width: AccessWidth) => this.request(C.VcpuRequest.MMIO_READ, offset, width, 0),
      write: (offset: number, width: AccessWidth, value: number) => {
        this.request(C.VcpuRequest.MMIO_WRITE, offset, width, value);
      },
    };
  }

  /** Interrupt lines from the hypervisor's device models into this vCPU's PLIC. */
  private applyIrqs(): void {
    if (this.boot.plicShared) this.plic.poll();
    const irq = Atomics.load(this.cb, C.C_IRQ);
    if (irq === this.irqSeen) return;
    this.irqSeen = irq;
    this.plic.setLine(M.VIRT_UART0_IRQ, (irq & C.IRQ_UART) !== 0);
    if ((irq & C.IRQ_IPI) !== 0) {
      Atomics.and(this.cb, C.C_IRQ, ~C.IRQ_IPI);
      this.irqSeen &= ~C.IRQ_IPI;
      this.hart.mipSw |= 1 << IRQ_SSIP; // an SBI IPI sets SSIP (SBI spec, IPI extension)
    }
  }

  /** A synchronous exit to the hypervisor; returns its answer. */
  request(kind: C.VcpuRequest, a0: number, a1: number, a2: number, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0): number {
    if (this.conLen > 0 && kind !== C.VcpuRequest.SBI_CONSOLE_PUTS) this.flushConsole(); // keep the output in order
    const cb = this.cb;
    const rsp = Atomics.load(cb, C.C_RSP_SEQ);
    cb[C.C_ARG0] = a0; cb[C.C_ARG0 + 1] = a1; cb[C.C_ARG0 + 2] = a2; cb[C.C_ARG0 + 3] = a3;
    cb[C.C_ARG0 + 4] = a4; cb[C.C_ARG0 + 5] = a5; cb[C.C_ARG0 + 6] = a6; cb[C.C_ARG0 + 7] = a7;
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
      if (cmd === C.VcpuCmd.START) this.enter(cb[C.C_ARG0]!, [this.boot.vcpuId, cb[C.C_ARG0 + 1]!, 0]);
      if (cmd === C.VcpuCmd.RUN || cmd === C.VcpuCmd.START) this.runSlice(cb[C.C_BUDGET]!);
    }
  }

  /** Run up to `budget` instructions, then report why the slice ended. */
  runSlice(budget: number): void {
    const cb = this.cb;
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
    this.flushConsole(); // before the slice's results: the request uses the same words
    cb[C.C_RETIRED] = h.instret - retiredBefore;
    cb[C.C_INSTRET_LO] = h.instret % 0x1_0000_0000;
    cb[C.C_INSTRET_HI] = Math.floor(h.instret / 0x1_0000_0000);
    cb[C.C_PC] = h.pc;
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
      if ((h.mip & h.mie) !== 0 || this.timerFired || (this.boot.type === 'pv' && this.upcallPending())) {
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
    const deadline = this.boot.type === 'pv' ? Math.min(sbiTimer, this.xenTimer, this.pollTimer)
      : this.hvmSbi ? sbiTimer : this.clint.nextDeadline(); // S-mode under SBI: MTIP is the firmware's, never enabled
    if ((this.boot.type === 'pv' || this.hvmSbi) && deadline <= now) return hostNowMs(); // fires at the next tick
    if (!Number.isFinite(deadline) || deadline <= now) return Infinity;
    if (this.boot.clock.kind === 'icount') {
      (this.clock as InstructionCountClock).advanceTo(deadline);
      return hostNowMs();
    }
    return hostNowMs() + ((deadline - now) * 1000) / this.clock.frequency;
  }
}
