/**
 * The vCPU side of the control block (vcpuControl.ts): one hart over the domain's P2M,
 * with the devices the vCPU emulates itself (CLINT, PLIC, test finisher; as Xen emulates
 * the local APIC in the hypervisor proper) and proxies for the device models that live in
 * the hypervisor worker (the UART: every register access is an exit, as QEMU in dom0
 * serves Xen's hvm guests). Host-agnostic: the worker entry (one file per host) builds a
 * VcpuRunner from a VcpuBoot and calls serve().
 */
import { Bus } from '../bus/bus';
import type { AccessWidth, Clock, MmioDevice } from '../bus/mmio';
import { Hart } from '../cpu/hart';
import { Clint } from '../devices/clint';
import { InstructionCountClock } from '../devices/clocks';
import { Plic } from '../devices/plic';
import { SifiveTest, type FinishEvent } from '../devices/sifiveTest';
import * as M from '../board/memoryMap';
import * as C from './vcpuControl';

/** Instructions between looks at the preempt flag: about a millisecond. */
const CHUNK = 100_000;

/** Absolute host milliseconds, comparable between workers (performance.now() is per worker). */
export function hostNowMs(): number {
  return performance.timeOrigin + performance.now();
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

  constructor(readonly boot: C.VcpuBoot, private readonly report: (message: string) => void = () => {}) {
    this.cb = new Int32Array(boot.control);
    this.bus = new Bus({
      ramBase: boot.ramBase,
      ramSize: boot.ramSize,
      buffer: boot.machineMemory,
      p2m: new Int32Array(boot.p2m),
      p2mGeneration: new Int32Array(boot.p2mGeneration),
    });
    const hart = new Hart(this.bus, boot.vcpuId);
    this.hart = hart;
    const ck = boot.clock;
    this.clock =
      ck.kind === 'icount'
        ? new InstructionCountClock({ instret: () => hart.retired(), shift: ck.shift })
        : { frequency: M.VIRT_TIMEBASE_FREQ, now: () => Math.floor((hostNowMs() - ck.epochMs) * (M.VIRT_TIMEBASE_FREQ / 1000)) };
    this.clint = new Clint({ harts: [hart], clock: this.clock });
    this.plic = new Plic({ harts: [hart] });
    this.bus.attach(M.VIRT_TEST_BASE, new SifiveTest({ onFinish: (e) => { this.finished = e; hart.requestStop(); } }));
    this.bus.attach(M.VIRT_CLINT_BASE, this.clint);
    this.bus.attach(M.VIRT_PLIC_BASE, this.plic);
    this.bus.attach(M.VIRT_UART0_BASE, this.proxy('uart0', M.VIRT_UART0_SIZE));
    hart.hooks = {
      tick: () => {
        this.clint.update();
        this.applyIrqs();
      },
      readTime: () => this.clint.mtime(),
    };
    hart.reset(boot.entry);
    [hart.x[10], hart.x[11], hart.x[12]] = boot.args;
    hart.x[5] = boot.entry; // t0, as QEMU's reset vector leaves it
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
    const irq = Atomics.load(this.cb, C.C_IRQ);
    if (irq === this.irqSeen) return;
    this.irqSeen = irq;
    this.plic.setLine(M.VIRT_UART0_IRQ, (irq & C.IRQ_UART) !== 0);
  }

  /** A synchronous exit to the hypervisor; returns its answer. */
  request(kind: C.VcpuRequest, a0: number, a1: number, a2: number, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0): number {
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
      if (cmd === C.VcpuCmd.RUN) this.runSlice(cb[C.C_BUDGET]!);
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
    try {
      while (h.executed - start < budget) {
        if (Atomics.load(cb, C.C_PREEMPT) !== 0) {
          reason = C.SliceEnd.PREEMPTED;
          break;
        }
        const why = h.run(Math.min(budget - (h.executed - start), CHUNK));
        if (why === 'wfi') {
          reason = C.SliceEnd.WFI;
          wakeAt[0] = this.wakeTimeMs();
          break;
        }
        if (why === 'stop') {
          reason = C.SliceEnd.SHUTDOWN;
          break;
        }
      }
    } catch (e) {
      reason = C.SliceEnd.CRASH;
      this.report(`vCPU ${this.boot.vcpuId} of domain ${this.boot.domid} crashed at pc 0x${(h.pc >>> 0).toString(16)}: ${String(e)}`);
    }
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
    const deadline = this.clint.nextDeadline();
    if (!Number.isFinite(deadline) || deadline <= now) return Infinity;
    if (this.boot.clock.kind === 'icount') {
      (this.clock as InstructionCountClock).advanceTo(deadline);
      return hostNowMs();
    }
    return hostNowMs() + ((deadline - now) * 1000) / this.clock.frequency;
  }
}
