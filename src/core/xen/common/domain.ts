/**
 * Domains and vCPUs as the hypervisor keeps them (Xen's struct domain / struct vcpu).
 * The vCPU's architectural state lives in its worker; here is what scheduling, accounting
 * and the toolstack need.
 */
import type { Uart16550 } from '../../devices/uart16550';
import type { MmioDevice } from '../../bus/mmio';
import type { EvtchnPort } from './evtchn';
import type { ActiveGrant, Mapping } from './gnttab';
import type { GuestMemory } from './guestMemory';
import type { P2m } from './p2m';
import type { SchedParams, SchedVcpu } from './sched/schedOps';
import { LOCAL_HC, newControlBlock, SAVE_AREA_BYTES } from '../vcpu/vcpuControl';
import { ConsoleInRing } from '../vcpu/consoleIn';
import type { DomainConfig } from '../../tools/xlConfig';

/** What a domain builder (pv/builder.ts, hvm/builder.ts) hands the hypervisor. */
export interface BuiltDomain {
  p2m: P2m;
  ramBase: number;
  entry: number;
  args: [number, number, number];
  /** hvm: what the MROM's reset vector names (the device tree, the kernel's load address). */
  mrom?: { fdtAddr: number; nextAddr: number };
}

export interface DomainImages {
  kernel: Uint8Array;
  ramdisk?: Uint8Array;
}

/** Xen's runstates (public/vcpu.h): RUNSTATE_running 0, runnable 1, blocked 2, offline 3. */
export const enum Runstate {
  RUNNING = 0,
  RUNNABLE = 1,
  BLOCKED = 2,
  OFFLINE = 3,
}
export const RUNSTATE_NAMES = ['running', 'runnable', 'blocked', 'offline'] as const;

/** `xl list` states. */
export type DomainState = 'running' | 'blocked' | 'paused' | 'shutdown' | 'crashed' | 'dying';

export type ShutdownReason = 'poweroff' | 'reboot' | 'crash';

export interface VcpuWorker {
  terminate(): void;
}

export class Vcpu implements SchedVcpu {
  readonly cb = newControlBlock();
  worker: VcpuWorker | undefined;
  runstate = Runstate.OFFLINE;
  /** ns spent in each runstate (vcpu_runstate_info.time). */
  readonly runstateNs = [0, 0, 0, 0];
  runstateSince = 0;
  affinity = 0xffff_ffff;
  sched: unknown;
  /** pCPU it runs on, or -1. */
  pcpu = -1;
  /** Instructions retired so far, as the worker last reported. */
  instret = 0;
  /** Host ms at which a WFI sleep ends (Infinity = only an interrupt wakes it). */
  wakeAt = Infinity;
  wakeTimer: ReturnType<typeof setTimeout> | undefined;
  /** A wake-up that arrived while the domain was paused. */
  wakePending = false;
  /** VCPUOP_up / SBI hart_start: where the next slice starts (pc, a1). */
  startAt: [number, number] | undefined;
  /**
   * SCHEDOP_poll in progress: the port it waits for (-1: any of several, as Xen's
   * poll_evtchn), and whether an event has woken it already.
   */
  poll: { port: number; woken: boolean } | undefined;
  /** Its slot in the event-channel directory (kick word, parked flag). */
  slot = -1;
  /** True while it waits in place on its pCPU for an event (set up by the hypervisor). */
  isParked: () => boolean = () => false;
  /** VCPUOP_down was called: the vCPU goes offline at the end of its slice. */
  goingDown = false;
  /** The vCPU's own hypercall counters (C_LOCAL_HC) as last added to the domain's. */
  readonly localHcSeen = LOCAL_HC.map(() => 0);
  /** Where the worker writes its state on SAVE (vcpuControl.ts). */
  readonly saveArea = new SharedArrayBuffer(SAVE_AREA_BYTES);
  /** Commands sent (C_SEQ) and events seen (C_DOORBELL). */
  cmdSeq = 0;
  doorbellSeen = 0;

  constructor(
    readonly domain: Domain,
    readonly vcpuId: number,
  ) {}

  get domid(): number {
    return this.domain.domid;
  }

  /**
   * The runstate a user should see: a vCPU that waits in place holds its pCPU but is
   * blocked as far as the guest is concerned (xl, xentop and the page show it so).
   */
  get shownRunstate(): Runstate {
    return this.runstate === Runstate.RUNNING && this.isParked() ? Runstate.BLOCKED : this.runstate;
  }

  get params(): SchedParams {
    return this.domain.sched;
  }
}

/** Where a pv domain's special pages and channels are (pv/builder.ts). */
export interface PvLayout {
  startInfo: number;
  consoleGfn: number;
  consolePort: number;
  /** Domain-0's end of the console channel. */
  consoleBackPort: number;
  xenstoreGfn: number;
  xenstorePort: number;
  xenstoreBackPort: number;
  /** The xenstore ring's machine frame, referenced by xenstored while it uses it (-1: not yet). */
  xenstoreMfn: number;
  /** start_info, shared_info, the rings and the grant frames: never given back (depopulate). */
  specialGfns: ReadonlySet<number>;
}

/**
 * What every domain has. A domain is a PvDomain or an HvmDomain (Domain, below): the
 * fields only one kind has live on that kind, and `kind` (or `pv`, present on pv domains
 * only) tells them apart.
 */
abstract class DomainCommon {
  abstract readonly kind: 'pv' | 'hvm';
  readonly vcpus: Vcpu[] = [];
  /** Event channel ports (evtchn.ts). */
  readonly ports: EvtchnPort[] = [];
  /** Grants this domain has mapped, by handle (gnttab.ts). */
  readonly maptrack = new Map<number, Mapping>();
  /** This domain's grant entries in use now (pinned by a mapping or a copy), by ref. */
  readonly activeGrants = new Map<number, ActiveGrant>();
  /** Pages the domain has now, and may grow to (memory_op, ballooning). */
  totPages = 0;
  maxPages = 0;
  /** Console input waiting for the guest (CONSOLEIO_read, or the console ring's in[]). */
  readonly consoleIn: number[] = [];
  /** SBI console input the vCPUs take without an exit, once the guest reads the SBI console (vcpu/consoleIn.ts). */
  readonly sbiConsoleIn = ConsoleInRing.create();
  /** `xl pause` holds the domain off the pCPUs until `xl unpause`. */
  paused = false;
  shutdownReason: ShutdownReason | null = null;
  /**
   * Shut down with SHUTDOWN_suspend (the guest's answer to control/shutdown = "suspend"): its
   * vCPUs are stopped and nothing is freed, until the toolstack saves it or resumes it in
   * place (domainSave.ts). `suspendedBy`: the vCPU whose hypercall it was (its a0 is the
   * call's result: xc_domain_resume's modify_returncode sets it to 1).
   */
  suspended = false;
  suspendedBy = 0;
  dying = false;
  /** Finisher fail code or crash message, for `xl list -l` and the UI. */
  shutdownDetail = '';
  /** Console output kept for `xl console` and late subscribers (at least the last 64 KiB). */
  console: number[] = [];
  /** CPU time in ns over all vCPUs. */
  cpuNs = 0;
  /** Exits by reason (mmio:uart0, hypercall:console_io, wfi, ...). */
  readonly exits = new Map<string, number>();
  /** EVTCHNOP_send calls the hypervisor served, and a count of those the direct path did. */
  evtchnSlowSends = 0;
  directSends: () => number = () => 0;
  /** pv: its slot in the event-channel directory, or -1 (then every send goes through the hypervisor). */
  evtchnSlot = -1;
  readonly sched: SchedParams;
  readonly createdAt: number;
  /**
   * Host ms at which its guest time (the `time` CSR, mtime) is 0, the same for every vCPU.
   * A restored domain's is set back so that its time goes on from where it was saved.
   */
  epochMs = performance.timeOrigin + performance.now();

  constructor(
    readonly domid: number,
    readonly config: DomainConfig,
    readonly p2m: P2m,
    readonly ramBase: number,
    now: number,
  ) {
    this.sched = { weight: config.cpu_weight, cap: config.cap };
    this.createdAt = now;
  }

  get name(): string {
    return this.config.name;
  }

  get nrVcpus(): number {
    return this.vcpus.length;
  }

  get ramSize(): number {
    return this.config.memory * 1024 * 1024;
  }

  get state(): DomainState {
    if (this.dying) return 'dying';
    if (this.shutdownReason === 'crash') return 'crashed';
    if (this.shutdownReason !== null || this.suspended) return 'shutdown';
    if (this.paused) return 'paused';
    return this.vcpus.some((v) => v.shownRunstate === Runstate.RUNNING || v.runstate === Runstate.RUNNABLE) ? 'running' : 'blocked';
  }

  /** EVTCHNOP_send calls on its ports that named a valid port. */
  get evtchnSends(): number {
    return this.evtchnSlowSends + this.directSends();
  }

  countExit(reason: string, n = 1): void {
    this.exits.set(reason, (this.exits.get(reason) ?? 0) + n);
  }

  appendConsole(byte: number): void {
    this.console.push(byte);
    // Trim in batches: keep the last 64 KiB, amortised O(1) per byte.
    if (this.console.length > 2 * 65536) this.console.splice(0, this.console.length - 65536);
  }
}

/** A paravirtualized domain: its memory as the hypervisor reads it, shared_info, grant frames, special pages. */
export class PvDomain extends DomainCommon {
  readonly kind = 'pv';
  readonly uart?: undefined;
  readonly plicShared?: undefined;

  constructor(
    domid: number,
    config: DomainConfig,
    p2m: P2m,
    ramBase: number,
    now: number,
    /** The hypervisor's view of the domain's memory (hypercall arguments, rings). */
    readonly mem: GuestMemory,
    /** Where its special pages and channels are. */
    readonly pv: PvLayout,
    /** Guest-physical address of shared_info. */
    readonly sharedInfo: number,
    /** Machine byte offset of shared_info: fixed, the guest cannot give the page back. */
    readonly siMachine: number,
    /** Guest frame numbers of the grant table frames. */
    readonly grantFrames: readonly number[],
  ) {
    super(domid, config, p2m, ramBase, now);
  }
}

/** A fully virtualized domain: the device models its exits reach. */
export class HvmDomain extends DomainCommon {
  readonly kind = 'hvm';
  readonly pv?: undefined;
  /** hvm domains have no shared_info and no grant table. */
  readonly sharedInfo = 0;
  readonly siMachine = -1;
  readonly grantFrames: readonly number[] = [];
  readonly uart: Uart16550;
  /** Device models on its virtio-mmio slots, by slot (virtio-blk per disk; plugged by the toolstack, tools/vbd.ts). */
  readonly virtio: (MmioDevice | undefined)[] = [];

  constructor(
    domid: number,
    config: DomainConfig,
    p2m: P2m,
    ramBase: number,
    now: number,
    makeUart: (d: HvmDomain) => Uart16550,
    /** firmware = "sbi": the guest may hand the firmware buffers (DBCN), read through this. */
    readonly mem: GuestMemory | undefined,
    /** More than one vCPU: the PLIC registers its vCPU workers share. */
    readonly plicShared: SharedArrayBuffer | undefined,
  ) {
    super(domid, config, p2m, ramBase, now);
    this.uart = makeUart(this);
  }
}

export type Domain = PvDomain | HvmDomain;
