/**
 * The control block between the hypervisor and one vCPU worker: a few Int32 words in a
 * SharedArrayBuffer, driven with Atomics.wait / notify (no postMessage on hot paths).
 *
 * Commands (hypervisor -> vCPU): the hypervisor writes C_CMD and C_BUDGET, then bumps
 * C_SEQ; the vCPU waits on C_SEQ. While running, the vCPU checks C_PREEMPT between chunks.
 *
 * Events (vCPU -> hypervisor): the vCPU writes C_EVENT and its fields, then bumps
 * C_DOORBELL; the hypervisor waits on it (Atomics.waitAsync). A REQUEST (an MMIO access
 * to a device model in the hypervisor, or a hypercall) blocks the vCPU until the
 * hypervisor writes C_RET and bumps C_RSP_SEQ. A SLICE_END gives the slice back.
 *
 * The vCPU writes only C_DOORBELL..C_ARG7 and C_INSTRET*; the hypervisor treats all of them
 * as hostile input (a crashed or buggy worker can write anything there).
 */
import type { HartState } from '../../cpu/hartState';
import type { JitMode } from '../../cpu/jit/engine';
import type { ClintState } from '../../devices/clint';
import type { PlicState } from '../../devices/plic';

export const C_SEQ = 0;
export const C_CMD = 1;
export const C_BUDGET = 2;
export const C_PREEMPT = 3;
/** Interrupt lines raised by device models in the hypervisor (bit numbers below). */
export const C_IRQ = 4;
export const C_DOORBELL = 5;
export const C_EVENT = 6;
export const C_REASON = 7;
export const C_RETIRED = 8;
export const C_REQ = 9;
export const C_ARG0 = 10; // .. C_ARG0 + 7
export const C_RSP_SEQ = 18;
export const C_RET = 19;
/** Instructions retired by this vCPU since it started, low and high 32 bits. */
export const C_INSTRET_LO = 20;
export const C_INSTRET_HI = 21;
/** Guest pc at the last event (for crash reports and xl vcpu-list). */
export const C_PC = 22;
/** Wake-up time in ms of the host clock asked for by a WFI exit (Infinity = none), as float bits. */
export const C_WAKE_AT = 24; // two words, read through a Float64Array at index C_WAKE_AT / 2
/** Milliseconds the vCPU spent running guest code in its last slice, as float bits. */
export const C_RAN_MS = 26; // two words, read through a Float64Array at index C_RAN_MS / 2
/**
 * Wait in place (as KVM's halt polling): a vCPU that blocks or sleeps in WFI may keep its
 * pCPU for up to C_PARK_US microseconds (set by the hypervisor with each slice; 0 = not
 * at all) and resume at once when an event arrives, without a round trip through the
 * scheduler. It waits on its kick word in the event-channel directory (evtchnDirect.ts),
 * which whoever gives it something to look at bumps: an event, an interrupt line, a
 * preemption.
 */
export const C_PARK_US = 28;
/**
 * Hypercalls the vCPU served itself, counted since it started (it alone writes them): the
 * hypervisor adds them to the domain's counts at each slice end. Indexed by LOCAL_HC.
 */
export const C_LOCAL_HC = 29; // .. C_LOCAL_HC + 4
/**
 * set_timer_op, SCHEDOP_block, EVTCHNOP_send on the direct path; and SBI console polls
 * answered from the console input ring (consoleIn.ts), which are not exits: a poll that
 * is one counts as `sbi:console-read`.
 */
export const LOCAL_HC = [
  'hypercall:set_timer_op',
  'hypercall:sched_op',
  'hypercall:event_channel_op',
  'sbi:console-read-local',
  'mmio:virtio-isr-local',
] as const;
/**
 * The translation tier (docs/jit.md, jitControl.ts). C_JIT_MODE: a mode the hypervisor asks
 * for (JIT_MODE_CODES; 0 = none), which the vCPU takes between slices. C_JIT_DUMP: bumped by
 * the hypervisor to ask for the hottest translations, answered in the save area from
 * JIT_DUMP_AT. C_JIT_STATS .. +5: the vCPU's counters at its last slice end (instructions
 * run by the tier and run translated, mod 2^32; translations made; invalidations; cached;
 * generated code in KiB); written by the worker, so hostile input to the hypervisor.
 */
export const C_JIT_MODE = 36;
export const C_JIT_DUMP = 37;
export const C_JIT_STATS = 38; // .. C_JIT_STATS + 5
/**
 * Posted QueueNotify writes (KVM's ioeventfd): in real time, a vCPU that writes a virtio
 * device's QueueNotify register sets bit `slot * 4 + queue` here, rings C_DOORBELL without
 * an event and runs on; the hypervisor takes the bits (Atomics.exchange) whenever the
 * doorbell rings, before the event it carries, so a later access of the same vCPU sees the
 * notification done. Notifications of one queue not yet taken coalesce into one, as an
 * eventfd's counter does. Deterministic time keeps every access synchronous. Written by the
 * worker: hostile input (the hypervisor serves a bit only for a plugged slot).
 */
export const C_POSTED = 44;
/**
 * InterruptStatus of the virtio-mmio slots 0..7 (mmioDevice.ts `isr`), when the vCPU reads
 * and acknowledges it itself (sharesVirtioIsr): the device model sets bits (Atomics.or)
 * before raising the slot's line in C_IRQ; the vCPU answers an InterruptStatus read from
 * here and an InterruptACK with Atomics.and, and when nothing is left lowers the line and
 * reads the word again (a bit set meanwhile raises it again). Both are counted as
 * `mmio:virtio-isr-local` (LOCAL_HC). Written by the worker: hostile input.
 */
export const C_VIRTIO_ISR = 45; // .. C_VIRTIO_ISR + 7
export const C_WORDS = 53;

/**
 * Whether an hvm domain's vCPU serves its virtio InterruptStatus and InterruptACK itself
 * (C_VIRTIO_ISR) instead of two synchronous exits per interrupt: with one vCPU (each vCPU
 * has its own copy of the lines in C_IRQ, which only the hypervisor can lower for all) and
 * in real time (deterministic time keeps every access an exit served in order).
 */
export function sharesVirtioIsr(nrVcpus: number, deterministic: boolean): boolean {
  return nrVcpus === 1 && !deterministic;
}

/**
 * START: set the vCPU going at C_ARG0 (pc) with a1 = C_ARG0 + 1 (VCPUOP_up, SBI HSM), then run.
 * SAVE: between slices (the domain paused), write the vCPU's state (VcpuSavedState, as JSON)
 * into the boot record's save area and answer there (XEN_DOMCTL_getvcpucontext's job).
 */
export const enum VcpuCmd {
  RUN = 1,
  QUIT = 2,
  START = 3,
  SAVE = 4,
  /**
   * Between slices: a0 = C_ARG0, answered in the save area as SAVE is (with length 0). A
   * suspended vCPU's hypercall result, as xc_domain_resume's modify_returncode sets it.
   */
  SET_A0 = 5,
}
export const enum VcpuEvent {
  /** None since the hypervisor last took one (it clears C_EVENT): a doorbell for C_POSTED only. */
  NONE = 0,
  REQUEST = 1,
  SLICE_END = 2,
}
/** STOPPED: a hypercall already told the hypervisor (shutdown, vCPU down). */
export const enum SliceEnd {
  BUDGET = 1,
  WFI = 2,
  SHUTDOWN = 3,
  CRASH = 4,
  PREEMPTED = 5,
  BLOCK = 6,
  STOPPED = 7,
}
/**
 * Requests. HYPERCALL: C_ARG0..4 = a0..a4, C_ARG0+5 = a6; answer C_RET (a0) and C_RET1
 * (HcAction). The SBI_* requests carry the SBI call's arguments; VIRQ raises a virtual IRQ
 * on the calling vCPU.
 */
export const enum VcpuRequest {
  MMIO_READ = 1,
  MMIO_WRITE = 2,
  HYPERCALL = 3,
  SBI_CONSOLE_WRITE = 4,
  SBI_CONSOLE_WRITE_BYTE = 5,
  SBI_CONSOLE_READ = 6,
  VIRQ = 7,
  SBI_RESET = 8,
  SBI_IPI = 9,
  SBI_HART_START = 10,
  SBI_HART_STATUS = 11,
  /** Console bytes the vCPU buffered (SBI putchar): C_ARG0 = count (<= 28), C_ARG0+1.. = the bytes, 4 a word, little-endian. */
  SBI_CONSOLE_PUTS = 12,
}
export const C_RET1 = 23;

/** With SliceEnd.SHUTDOWN: C_ARG0 says what the guest wrote to the test finisher, C_ARG0+1 its code. */
export const FINISH_PASS = 1,
  FINISH_FAIL = 2,
  FINISH_RESET = 3;

/** MMIO_READ / MMIO_WRITE: C_ARG0 offset, C_ARG0 + 1 width, C_ARG0 + 2 value, C_ARG0 + 3 the device model (MMIO_DEV_*). */
export const MMIO_DEV_UART0 = 0;
/** Virtio-mmio slot `slot` (0..7). */
export function mmioDevVirtio(slot: number): number {
  return 1 + slot;
}

/** C_IRQ bits. */
export const IRQ_UART = 1 << 0;
/** An SBI IPI from another vCPU: raise SSIP. */
export const IRQ_IPI = 1 << 1;
/** The interrupt line of virtio-mmio slot `slot` (0..7), driven by a device model in the hypervisor (PLIC source 1 + slot). */
export function irqVirtio(slot: number): number {
  return 1 << (2 + slot);
}

/**
 * The save area (VcpuBoot.saveArea): word 0 counts SAVE answers (the worker bumps it and
 * notifies), word 1 is the length of the UTF-8 JSON that follows from byte 8, or -1 when
 * the state did not fit.
 */
export const SAVE_AREA_BYTES = 64 * 1024;
export const SAVE_SEQ = 0,
  SAVE_LEN = 1,
  SAVE_DATA = 8;
/** The upper half of the save area answers C_JIT_DUMP the same way (seq, length, JSON); a vCPU's saved state is a few KiB. */
export const JIT_DUMP_AT = 32 * 1024;

/**
 * What a vCPU worker holds of a domain's state, handed over by SAVE and given back to a
 * new worker on restore (VcpuBoot.resume): the hart, the devices the worker emulates
 * itself (CLINT and PLIC for hvm; for pv the CLINT keeps the time and the SBI timer), and
 * Xen's set_timer_op deadline (pv). Plain data: it crosses threads as JSON.
 */
export interface VcpuSavedState {
  hart: HartState;
  clint: ClintState;
  plic?: PlicState;
  /** set_timer_op's deadline in ticks of the domain's clock, or null when off. */
  xenTimer: number | null;
  /** hvm: what the MROM's reset vector names (the boot the domain was built with). */
  board?: { entry: number; fdtAddr: number; nextAddr: number; a2: number };
}

export function newControlBlock(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(C_WORDS * 4));
}

export function wakeAtView(cb: Int32Array): Float64Array {
  return new Float64Array(cb.buffer, C_WAKE_AT * 4, 1);
}

export function ranMsView(cb: Int32Array): Float64Array {
  return new Float64Array(cb.buffer, C_RAN_MS * 4, 1);
}

/** What a vCPU worker needs to start (plain data: it crosses a postMessage once). */
export interface VcpuBoot {
  domid: number;
  vcpuId: number;
  type: 'hvm' | 'pv';
  machineMemory: SharedArrayBuffer;
  p2m: SharedArrayBuffer;
  p2mGeneration: SharedArrayBuffer;
  control: SharedArrayBuffer;
  ramBase: number;
  ramSize: number;
  /** Initial pc and a0..a2. */
  entry: number;
  args: [number, number, number];
  /** hvm: what the MROM holds (QEMU's reset vector for this boot). */
  mrom?: { fdtAddr: number; nextAddr: number };
  /** hvm: "sbi" starts the vCPU in S-mode with hyperlab as its SBI firmware (xl.cfg `firmware`). */
  firmware?: 'none' | 'sbi';
  /** The event-channel directory (evtchnDirect.ts), this vCPU's slot in it, and its domain's (pv). */
  evtchnDir: SharedArrayBuffer;
  vcpuSlot: number;
  domainSlot?: number;
  /** hvm with more than one vCPU: the PLIC's registers, shared by the domain's vCPU workers. */
  plicShared?: SharedArrayBuffer;
  /** vCPUs of the domain (the PLIC has contexts for each). */
  nrVcpus?: number;
  /** pv: machine byte offset of shared_info (the vCPU samples its upcall bit; sharedInfo.ts). */
  sharedInfoMachine?: number;
  /** The domain's SBI console input ring (consoleIn.ts). */
  consoleIn?: SharedArrayBuffer;
  /** hvm: the virtio-mmio slots with a device model in the hypervisor (bit i = slot i); the others stay empty slots in the vCPU. */
  virtioPlugged?: number;
  /** Where SAVE writes the vCPU's state (SAVE_AREA_BYTES). */
  saveArea?: SharedArrayBuffer;
  /** Restore: start from this state instead of the entry point. */
  resume?: VcpuSavedState;
  /** Clock: host milliseconds at which the domain's time started, or an icount shift. */
  clock: { kind: 'real'; epochMs: number } | { kind: 'icount'; shift: number };
  /** The translation tier (docs/jit.md), and the write watch of machine memory its vCPUs share (cpu/writeWatch.ts). */
  jit?: JitMode;
  writeWatch?: SharedArrayBuffer;
}
