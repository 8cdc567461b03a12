/**
 * The hypervisor: machine memory, domains, event channels, grant tables, xenstored and
 * the exits of vCPU workers (hypercalls, SBI calls, the UART device model). It runs in one
 * thread (a Web Worker in the browser, Node's main thread under `hyperlab host`); each
 * vCPU runs in a worker of its own, started through a VcpuHost, and talks to it through
 * its control block (vcpuControl.ts). Which vCPU runs when is the schedule's business
 * (sched/schedule.ts: the mechanism; the policies beside it behind SchedOps).
 */
import { defaultJitMode, type JitMode } from '../../cpu/jit/engine';
import { WriteWatch } from '../../cpu/writeWatch';
import type { VcpuBoot } from '../vcpu/vcpuControl';
import * as C from '../vcpu/vcpuControl';
import { Runstate, Vcpu, type Domain, type BuiltDomain, type DomainImages, type ShutdownReason, type VcpuWorker } from './domain';
import { buildHvm } from '../hvm/builder';
import { ICOUNT_RNG_SEED } from '../../board/virt';
import { releaseFrames } from './p2m';
import { MachineMemory } from './machineMemory';
import { EventChannels, type EvtchnDomain } from './evtchn';
import { GrantTables } from './gnttab';
import { newDomain, vcpuBoot } from './domainCreate';
import type { MachineViews } from './sharedInfo';
import { EvtchnSlots } from './evtchnSlots';
import { depopulatePage, populatePage } from './memory';
import { feedUart, serveUartAccess, serveVirtioAccess } from '../hvm/ioreq';
import { VIRTIO_MMIO_QUEUE_NOTIFY } from '../../devices/virtioMmio';
import { type HypercallContext } from './hypercalls';
import { serveFirmware } from './vcpuRequests';
import { connectPvBackends, feedConsole } from '../pv/backends';
import { buildPv, type BuiltPv } from '../pv/builder';
import { Xenstored } from '../../tools/xenstore';
import * as X from '../public/xen';
import { CreditScheduler } from './sched/credit';
import { RoundRobin } from './sched/roundRobin';
import type { SliceTrace } from './sched/sliceTrace';
import { Schedule } from './sched/schedule';
import { MAX_VCPU_SLOTS } from './evtchnDirect';
import type { DomainConfig } from '../../tools/xlConfig';
import type { DomainRestore } from './domainSave';

/** How a host starts vCPU workers (node:worker_threads, Web Workers). */
export interface VcpuHost {
  start(boot: VcpuBoot, onError: (message: string) => void): VcpuWorker;
}

export interface HypervisorOptions {
  memoryMiB: number;
  pcpus: number;
  host: VcpuHost;
  scheduler?: 'credit' | 'rr';
  /** Deterministic mode: time advances 2^shift ns per instruction (QEMU -icount shift). */
  icountShift?: number;
  /**
   * How long a vCPU that blocks may wait in place on its pCPU for an event before it gives
   * the slice back, in microseconds (as KVM's halt_poll_ns; 0 = never). Real time only.
   */
  parkUs?: number;
  /** The translation tier in every vCPU (docs/jit.md); default HYPERLAB_JIT, else on. */
  jit?: JitMode;
}

/** Lines of the hypervisor log kept (`xl dmesg`), as the console keeps its last 64 KiB. */
export const MAX_LOG_LINES = 2000;
/** Xen's DOMID_FIRST_RESERVED: domain ids from here up are special (DOMID_SELF, DOMID_XEN...). */
export const DOMID_FIRST_RESERVED = 0x7ff0;

/** Default wait in place: long enough for an event-channel round trip between two domains. */
export const DEFAULT_PARK_US = 500;
/** Background scrubbing of freed frames: 1 MiB every 5 ms (about 200 MiB/s), so a 64 MiB domain's frames are clean a third of a second after it goes. */
const SCRUB_FRAMES = 256,
  SCRUB_PERIOD_MS = 5;

export interface HypervisorEvents {
  console: (domid: number, bytes: Uint8Array) => void;
  domain: (domid: number) => void;
  log: (line: string) => void;
}

export class Hypervisor implements HypercallContext {
  readonly memory: MachineMemory;
  /** Views of machine memory (HypercallContext). */
  get machine(): MachineViews {
    return this.memory.views;
  }
  readonly domains = new Map<number, Domain>();
  readonly evtchn: EventChannels;
  readonly gnttab: GrantTables;
  readonly xenstored = new Xenstored();
  /** Domain-0's event channel ports (it has no shared_info: events call handlers). */
  readonly dom0: EvtchnDomain = { domid: 0, ports: [], nrVcpus: 1, siMachine: -1 };
  private readonly dom0Handlers = new Map<number, () => void>();
  /**
   * Domain-0's CPU time (ns of host time): the work this worker does for guests as Domain-0
   * would in Xen: the backends' event handlers (console, xenstored, blkback, netback) and the
   * hvm device models' MMIO exits (QEMU's job). `xl list` shows it in Domain-0's Time column.
   */
  dom0CpuNs = 0;
  private dom0Depth = 0;
  readonly pcpus: number;
  readonly log: string[] = [];
  readonly schedule: Schedule;
  /** The direct event-channel path and the words vCPUs wait in place on (evtchnSlots.ts). */
  readonly slots: EvtchnSlots;
  private readonly host: VcpuHost;
  private readonly icountShift: number | undefined;
  /** The translation tier the vCPUs boot with (each can be switched later: vcpu/jitControl.ts). */
  readonly jit: JitMode;
  /**
   * The write watch of machine memory (cpu/writeWatch.ts), shared by every vCPU worker: the
   * translation tier's code pages and live migration's log-dirty mode (logDirty.ts).
   */
  readonly writeWatch: SharedArrayBuffer;
  /** The same, for Domain-0's writers into guest memory (`watch.noteRange`). */
  readonly watch: WriteWatch;
  private readonly listeners: { [K in keyof HypervisorEvents]: Set<HypervisorEvents[K]> } = {
    console: new Set(),
    domain: new Set(),
    log: new Set(),
  };
  private nextDomid = 1;
  private scrubTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(opts: HypervisorOptions) {
    this.memory = new MachineMemory(opts.memoryMiB * 1024 * 1024);
    this.pcpus = opts.pcpus;
    this.host = opts.host;
    this.icountShift = opts.icountShift;
    this.jit = opts.jit ?? defaultJitMode();
    // One write watch over machine memory, shared by every vCPU worker (and Domain-0's writers).
    this.writeWatch = new SharedArrayBuffer(WriteWatch.bytes(this.memory.buffer.byteLength >>> 12));
    this.watch = new WriteWatch(this.memory.buffer.byteLength >>> 12, this.writeWatch);
    const policy = opts.scheduler === 'rr' ? new RoundRobin() : new CreditScheduler(() => this.pcpus);
    this.slots = new EvtchnSlots({
      domains: this.domains,
      machine: this.memory.views,
      notify: (v: Vcpu) => this.schedule.notify(v),
      isRunning: () => this.schedule.isRunning,
    });
    this.schedule = new Schedule(
      {
        domains: this.domains,
        machine: this.memory.views,
        serveRequest: (v) => this.serveRequest(v),
        servePosted: (v) => this.servePosted(v),
        guestShutdown: (d, reason, detail) => this.guestShutdown(d, reason, detail),
        dmesg: (line) => this.dmesg(line),
        domainChanged: (domid) => this.emit('domain', domid),
        pollEnded: (d) => this.pollersChanged(d),
      },
      policy,
      { pcpus: opts.pcpus, icountShift: opts.icountShift, parkUs: opts.parkUs ?? DEFAULT_PARK_US, dir: this.slots.dir },
    );
    this.evtchn = new EventChannels(
      {
        lookup: (domid) => this.lookup(domid),
        kick: (domid, vcpu) => {
          const v = this.domains.get(domid)?.vcpus[vcpu];
          if (v) this.schedule.notify(v);
        },
        dom0Event: (port) => {
          const handler = this.dom0Handlers.get(port);
          if (handler) this.chargeDom0(handler);
        },
        interdomainChanged: (d, port) => this.slots.routePort(d, port),
        checkPollers: (domid, port) => {
          for (const v of this.domains.get(domid)?.vcpus ?? []) {
            if (!v.poll || (v.poll.port >= 0 && v.poll.port !== port)) continue;
            v.poll.woken = true;
            if (v.runstate === Runstate.BLOCKED) this.wake(v);
          }
        },
      },
      this.memory.views,
    );
    this.gnttab = new GrantTables(this.memory, (domid) => this.domains.get(domid));
    this.gnttab.setDomainSource(() => this.domains.values());
    this.gnttab.noteWrite = (at, len) => this.watch.noteRange(at, len);
  }

  /** A domain as event channels and hypercalls see it (Domain-0 included). */
  lookup(domid: number): (Domain & EvtchnDomain) | undefined {
    if (domid === 0) return this.dom0 as Domain & EvtchnDomain;
    return this.domains.get(domid);
  }

  on<K extends keyof HypervisorEvents>(event: K, fn: HypervisorEvents[K]): () => void {
    this.listeners[event].add(fn);
    return () => this.listeners[event].delete(fn);
  }

  private emit<K extends keyof HypervisorEvents>(event: K, ...args: Parameters<HypervisorEvents[K]>): void {
    for (const fn of this.listeners[event]) (fn as (...a: unknown[]) => void)(...args);
  }

  dmesg(line: string): void {
    this.log.push(line);
    // Keep the last MAX_LOG_LINES (amortised): guests can make the hypervisor log.
    if (this.log.length > 2 * MAX_LOG_LINES) this.log.splice(0, this.log.length - MAX_LOG_LINES);
    this.emit('log', line);
  }

  /** Scheduler time in ns. */
  now(): number {
    return this.schedule.now();
  }

  /** Which vCPU ran on which pCPU when (the scheduler view). */
  get sliceTrace(): SliceTrace {
    return this.schedule.sliceTrace;
  }

  /** The scheduler policy's name (xl info). */
  get schedulerName(): string {
    return this.schedule.policyName;
  }

  start(): void {
    this.schedule.start();
    void this.slots.serve();
  }

  setRunstate(v: Vcpu, s: Runstate): void {
    this.schedule.setRunstate(v, s);
  }

  /** Make a blocked vCPU runnable (timer, interrupt, unpause). */
  wake(v: Vcpu): void {
    this.schedule.wake(v);
  }

  /** Stop scheduling and end every vCPU worker. */
  shutdownHost(): void {
    for (const d of [...this.domains.values()]) this.destroyDomain(d.domid);
    this.schedule.stop();
    clearTimeout(this.scrubTimer);
    this.scrubTimer = undefined;
  }

  /** Zero freed frames a slice at a time in the background (MachineMemory.scrub), until none is left. */
  private scrubLater(): void {
    if (this.scrubTimer !== undefined || this.memory.nrDirtyFree === 0) return;
    const step = (): void => {
      this.scrubTimer = undefined;
      if (this.memory.scrub(SCRUB_FRAMES) > 0) this.scrubTimer = setTimeout(step, SCRUB_PERIOD_MS);
    };
    this.scrubTimer = setTimeout(step, SCRUB_PERIOD_MS);
  }

  // ---- domains -------------------------------------------------------------------

  /**
   * `xl create`, or with `restore` the restore of a saved domain (domainSave.ts): its memory
   * comes from the stream instead of a kernel, its vCPUs start from their saved state, and
   * it starts paused when `restore.paused`.
   */
  createDomain(cfg: DomainConfig, images: DomainImages | undefined, restore?: DomainRestore): Domain {
    // Every limit is checked before anything is built, and a failure past this point undoes
    // everything (nothing half-built stays in the table).
    for (const d of this.domains.values()) if (d.name === cfg.name) throw new Error(`a domain named "${cfg.name}" exists already`);
    // Secondary harts of an hvm domain start through SBI HSM; with firmware "none" there is
    // nobody to start them (QEMU starts every hart at the reset vector; hyperlab does not).
    if (cfg.type === 'hvm' && cfg.vcpus !== 1 && cfg.firmware !== 'sbi')
      throw new Error('an hvm domain with more than one vCPU needs firmware = "sbi" (its secondary harts start through SBI HSM)');
    const needed = (cfg.memory * 1024 * 1024) / 4096;
    if (needed - (restore?.frames ?? 0) > this.memory.nrFree)
      throw new Error(`not enough free memory: ${cfg.memory} MiB asked, ${(this.memory.nrFree * 4096) >> 20} MiB free`);
    const freeSlots = this.slots.freeVcpuSlots();
    if (cfg.vcpus > freeSlots) throw new Error(`too many vCPUs on this host: ${cfg.vcpus} asked, ${freeSlots} of ${MAX_VCPU_SLOTS} free`);
    if (restore?.domid !== undefined && this.domains.has(restore.domid)) throw new Error(`domain id ${restore.domid} is in use`);
    const domid = restore?.domid ?? this.allocDomid();
    // A fresh domain's first two ports are 1 and 2: the console and xenstore channels.
    if (!restore && !images) throw new Error('a new domain needs its kernel');
    const built: BuiltPv | BuiltDomain = restore
      ? restore.build(this.memory, domid)
      : cfg.type === 'pv'
        ? buildPv(this.memory, domid, cfg, images!, { console: 1, xenstore: 2 })
        : buildHvm(this.memory, domid, cfg, images!, this.icountShift !== undefined ? ICOUNT_RNG_SEED : undefined);
    const d = newDomain(domid, cfg, built, {
      buffer: this.memory.buffer,
      noteWrite: (at, length) => this.watch.noteRange(at, length),
      now: () => this.now(),
      uartTransmit: (h, b) => this.consoleOut(h, Uint8Array.of(b)),
      uartIrq: (h, level) => {
        for (const v of h.vcpus) this.setIrq(v, C.IRQ_UART, level);
      },
    });
    d.totPages = needed;
    d.maxPages = (cfg.maxmem * 1024 * 1024) / 4096;
    this.domains.set(domid, d);
    try {
      for (let i = 0; i < cfg.vcpus; i++) d.vcpus.push(new Vcpu(d, i)); // before ports: bind_virq checks nrVcpus
      this.slots.assign(d);
      restore?.prepare(d);
      if (d.kind === 'pv') connectPvBackends(this, d, this.dom0Handlers, restore !== undefined);
      for (const v of d.vcpus) {
        this.schedule.addVcpu(v);
        v.runstateSince = this.now();
        const boot = vcpuBoot(d, v, built, {
          buffer: this.memory.buffer,
          evtchnDir: this.slots.dir.buffer,
          icountShift: this.icountShift,
          ...(this.jit !== undefined ? { jit: this.jit } : {}),
          writeWatch: this.writeWatch,
        });
        const saved = restore?.vcpus[v.vcpuId];
        v.worker = this.host.start(saved ? { ...boot, resume: saved.state } : boot, (msg) => this.vcpuCrashed(v, msg));
      }
    } catch (e) {
      this.destroyDomain(domid, restore ? 'restore failed' : 'creation failed');
      throw e;
    }
    this.dmesg(`domain ${domid} (${cfg.name}): ${restore ? 'restored' : 'created'}, ${cfg.memory} MiB, ${cfg.vcpus} vCPU`);
    if (restore?.paused) d.paused = true;
    if (!restore) this.wake(d.vcpus[0]!);
    for (const v of d.vcpus) if (restore?.vcpus[v.vcpuId]?.online) this.wake(v);
    this.emit('domain', domid);
    return d;
  }

  /**
   * The next free domain id below DOMID_FIRST_RESERVED, going round (as Xen's domain_create
   * does with its rover): ids are reused once their domain is gone, and never reach the
   * reserved ones.
   */
  private allocDomid(): number {
    for (let i = 1; i < DOMID_FIRST_RESERVED; i++) {
      const id = this.nextDomid;
      this.nextDomid = id + 1 >= DOMID_FIRST_RESERVED ? 1 : id + 1;
      if (!this.domains.has(id)) return id;
    }
    throw new Error(`no free domain id (${DOMID_FIRST_RESERVED - 1} domains exist)`);
  }

  getDomain(domid: number): Domain {
    const d = this.domains.get(domid);
    if (!d) throw new Error(`no domain ${domid}`);
    return d;
  }

  /** `xl destroy`: stop the vCPUs at once and free everything. */
  destroyDomain(domid: number, why = 'destroyed'): void {
    const d = this.getDomain(domid);
    d.dying = true;
    for (const v of d.vcpus) {
      this.schedule.removeVcpu(v);
      clearTimeout(v.wakeTimer);
      v.worker?.terminate();
      v.worker = undefined;
      this.setRunstate(v, Runstate.OFFLINE);
    }
    this.gnttab.teardown(d);
    if (d.pv) {
      this.evtchn.closeAll(d);
      for (const port of [d.pv.consoleBackPort, d.pv.xenstoreBackPort]) {
        if (port <= 0) continue;
        this.dom0Handlers.delete(port);
        this.evtchn.close(this.dom0, port);
      }
      if (this.xenstored.isDomainIntroduced(domid)) this.xenstored.releaseDomain(domid);
      // xenstored's reference on the ring page goes after it has let go of the ring.
      if (d.pv.xenstoreMfn >= 0) this.memory.put(d.pv.xenstoreMfn);
      d.pv.xenstoreMfn = -1;
      void this.xsRm(`/local/domain/${domid}`);
    }
    this.slots.release(d);
    const freed = releaseFrames(this.memory, d.p2m);
    this.scrubLater();
    this.domains.delete(domid);
    this.dmesg(`domain ${domid} (${d.name}): ${why}, ${freed} frames freed`);
    this.emit('domain', domid);
  }

  pauseDomain(domid: number): void {
    const d = this.getDomain(domid);
    d.paused = true;
    for (const v of d.vcpus) {
      this.schedule.sleep(v);
      if (v.runstate === Runstate.RUNNING || v.runstate === Runstate.RUNNABLE) v.wakePending = true;
      if (v.runstate === Runstate.RUNNING) this.schedule.preempt(v);
      else if (v.runstate === Runstate.RUNNABLE) this.setRunstate(v, Runstate.BLOCKED);
    }
    this.emit('domain', domid);
  }

  unpauseDomain(domid: number): void {
    const d = this.getDomain(domid);
    if (!d.paused || d.suspended) return; // a suspended domain waits for the toolstack (resumeSuspended)
    d.paused = false;
    for (const v of d.vcpus) {
      if (v.wakePending) {
        v.wakePending = false;
        this.wake(v);
      }
    }
    this.emit('domain', domid);
  }

  setSchedParams(domid: number, p: { weight?: number; cap?: number }): void {
    const d = this.getDomain(domid);
    if (p.weight !== undefined) {
      if (!Number.isInteger(p.weight) || p.weight < 1 || p.weight > 65535) throw new Error('weight must be 1..65535');
      d.sched.weight = p.weight;
    }
    if (p.cap !== undefined) {
      if (!Number.isInteger(p.cap) || p.cap < 0 || p.cap > 100 * this.pcpus) throw new Error(`cap must be 0..${100 * this.pcpus}`);
      d.sched.cap = p.cap;
    }
  }

  /** `xl vcpu-pin`: hard affinity as a pCPU bitmask. */
  pinVcpu(domid: number, vcpuId: number, mask: number): void {
    const v = this.getDomain(domid).vcpus[vcpuId];
    if (!v) throw new Error(`domain ${domid} has no vCPU ${vcpuId}`);
    const valid = mask & ((1 << this.pcpus) - 1);
    if (valid === 0) throw new Error(`no pCPU in that set (the host has ${this.pcpus})`);
    v.affinity = valid;
    this.schedule.kick();
  }

  /** Bytes typed on a domain's console. Returns how many were taken. */
  consoleInput(domid: number, bytes: Uint8Array): number {
    const d = this.getDomain(domid);
    if (d.kind === 'pv') {
      d.consoleIn.push(...bytes);
      feedConsole(this, d);
      this.feedSbiConsole(d);
      return bytes.length;
    }
    // hvm: queue it, and hand it to the UART as its receive buffer empties (a guest that runs
    // the 16550A without FIFOs takes one byte at a time).
    d.consoleIn.push(...bytes);
    feedUart(d);
    this.feedSbiConsole(d);
    return bytes.length;
  }

  /** Once the guest reads the SBI console, queued input waits in its ring (vcpu/consoleIn.ts). */
  private feedSbiConsole(d: Domain): void {
    if (d.sbiConsoleIn.reader) d.sbiConsoleIn.fill(d.consoleIn);
  }

  consoleOut(d: Domain, bytes: Uint8Array): void {
    for (const b of bytes) d.appendConsole(b);
    this.emit('console', d.domid, bytes);
  }

  /**
   * A Domain-0 backend binds to port `remotePort` of domain `domid` (the frontend's
   * alloc_unbound port); `handler` runs on every event the frontend sends. Returns
   * Domain-0's port, or -errno.
   */
  dom0Bind(domid: number, remotePort: number, handler: () => void): number {
    const port = this.evtchn.bindInterdomain(this.dom0, domid, remotePort);
    if (port > 0) this.dom0Handlers.set(port, handler);
    return port;
  }

  /**
   * Run Domain-0's work and charge its wall time to Domain-0 (`dom0CpuNs`). Nested calls (a
   * backend's notification that runs another backend's handler) are counted once, by the outermost.
   */
  chargeDom0<T>(work: () => T): T {
    if (this.dom0Depth > 0) return work();
    this.dom0Depth++;
    const t0 = performance.now();
    try {
      return work();
    } finally {
      this.dom0Depth--;
      this.dom0CpuNs += Math.round((performance.now() - t0) * 1e6);
    }
  }

  /** A backend closes its end of a channel (the frontend's end goes back to unbound, or is gone). */
  dom0Close(port: number): void {
    this.dom0Handlers.delete(port);
    this.evtchn.close(this.dom0, port);
  }

  private dom0Xs: ReturnType<Xenstored['connect']> | undefined;
  /** Domain-0's own connection to xenstored. */
  xsDom0(): ReturnType<Xenstored['connect']> {
    this.dom0Xs ??= this.xenstored.connect(0);
    return this.dom0Xs;
  }

  private async xsRm(path: string): Promise<void> {
    try {
      await this.xsDom0().rm(path);
    } catch {
      /* already gone */
    }
  }

  pollersChanged(d: Domain): void {
    this.slots.pollersChanged(d);
  }

  // ---- HypercallContext ------------------------------------------------------------

  consoleWrite(d: Domain, bytes: Uint8Array): void {
    this.consoleOut(d, bytes);
  }

  consoleRead(d: Domain, max: number): Uint8Array {
    return Uint8Array.from(d.consoleIn.splice(0, max));
  }

  shutdown(d: Domain, reason: number): void {
    const r: ShutdownReason = reason === X.SHUTDOWN_reboot ? 'reboot' : reason === X.SHUTDOWN_crash || reason === X.SHUTDOWN_watchdog ? 'crash' : 'poweroff';
    this.guestShutdown(d, r, `SCHEDOP_shutdown(${reason})`);
  }

  /**
   * SHUTDOWN_suspend: every vCPU stops where it is (as `xl pause` stops them, so that a
   * resume in place lets each go on), the domain shows as shut down, and nothing is freed.
   * `unpauseDomain` does not start it again: only a save (then destroy) or a resume in place
   * (domainSave.ts resumeSuspended) ends the state, as in Xen.
   */
  suspend(d: Domain, v: Vcpu): number {
    if (d.suspended || d.shutdownReason || d.dying) return 0;
    d.suspended = true;
    d.suspendedBy = v.vcpuId;
    this.pauseDomain(d.domid);
    this.dmesg(`domain ${d.domid} (${d.name}): suspended (SCHEDOP_shutdown(SHUTDOWN_suspend) from vCPU ${v.vcpuId})`);
    return 0;
  }

  vcpuUp(d: Domain, vcpuId: number, pc: number, a1: number): number {
    const v = d.vcpus[vcpuId];
    if (!v) return -X.ENOENT;
    if (v.runstate !== Runstate.OFFLINE) return -X.EINVAL;
    v.startAt = [pc, a1];
    this.setRunstate(v, Runstate.BLOCKED);
    this.wake(v);
    return 0;
  }

  vcpuDown(v: Vcpu): number {
    v.goingDown = true;
    return 0;
  }

  populate(d: Domain, gfn: number): boolean {
    return populatePage(this.memory, d, gfn);
  }

  depopulate(d: Domain, gfn: number): boolean {
    return depopulatePage(this.memory, this.gnttab, d, gfn);
  }

  // ---- exits of running vCPUs (called by the schedule) ---------------------------

  setIrq(v: Vcpu | undefined, bit: number, level: boolean): void {
    if (!v) return;
    if (level) Atomics.or(v.cb, C.C_IRQ, bit);
    else Atomics.and(v.cb, C.C_IRQ, ~bit);
    if (level) this.schedule.notify(v);
  }

  serveRequest(v: Vcpu): void {
    const cb = v.cb;
    const d = v.domain;
    const kind = cb[C.C_REQ];
    let ret = 0;
    cb[C.C_RET1] = 0;
    if (kind !== C.VcpuRequest.MMIO_READ && kind !== C.VcpuRequest.MMIO_WRITE && d.mem) {
      ret = serveFirmware(this, v, kind!, Array.from(cb.subarray(C.C_ARG0, C.C_ARG0 + 8)));
    } else if ((kind === C.VcpuRequest.MMIO_READ || kind === C.VcpuRequest.MMIO_WRITE) && d.uart) {
      const dev = cb[C.C_ARG0 + 3]!;
      const args = [kind === C.VcpuRequest.MMIO_WRITE, cb[C.C_ARG0]!, cb[C.C_ARG0 + 1]!, cb[C.C_ARG0 + 2]!] as const;
      ret = this.chargeDom0(() => (dev === C.MMIO_DEV_UART0 ? serveUartAccess(d, ...args) : serveVirtioAccess(d, dev - C.mmioDevVirtio(0), ...args)));
    } else {
      d.countExit('unknown');
    }
    cb[C.C_RET] = ret;
    Atomics.add(cb, C.C_RSP_SEQ, 1);
    Atomics.notify(cb, C.C_RSP_SEQ);
  }

  /**
   * Where virtio slot `slot` of hvm domain `d` keeps its InterruptStatus: in the control
   * block of the domain's one vCPU, which then serves InterruptStatus and InterruptACK
   * itself (vcpuControl.ts C_VIRTIO_ISR, sharesVirtioIsr), or undefined (the device's own).
   */
  virtioIsr(d: Domain, slot: number): { cells: Int32Array; index: number } | undefined {
    const v = d.vcpus[0];
    if (!v || !C.sharesVirtioIsr(d.vcpus.length, this.icountShift !== undefined)) return undefined;
    return { cells: v.cb, index: C.C_VIRTIO_ISR + slot };
  }

  servePosted(v: Vcpu): void {
    const bits = Atomics.exchange(v.cb, C.C_POSTED, 0);
    const d = v.domain;
    for (let b = 0; b < 32; b++) {
      if ((bits & (1 << b)) === 0) continue;
      try {
        this.chargeDom0(() => serveVirtioAccess(d, b >>> 2, true, VIRTIO_MMIO_QUEUE_NOTIFY, 4, b & 3));
      } catch (e) {
        this.dmesg(`domain ${d.domid}: posted notify failed in the hypervisor: ${String(e)}`);
        this.guestShutdown(d, 'crash', `hypervisor error: ${String(e)}`);
        return;
      }
    }
  }

  private vcpuCrashed(v: Vcpu, message: string): void {
    this.dmesg(message);
    if (!v.domain.dying && this.domains.has(v.domid)) this.guestShutdown(v.domain, 'crash', message);
  }

  /** The guest shut itself down (or crashed): apply on_poweroff / on_reboot / on_crash. */
  guestShutdown(d: Domain, reason: ShutdownReason, detail: string): void {
    if (d.shutdownReason) return;
    d.shutdownReason = reason;
    d.shutdownDetail = detail;
    // Every vCPU stops, as Xen pauses all of a domain that shuts down or crashes: one that
    // is on a pCPU now ends its slice at its next look and goes offline then (sched/schedule.ts).
    for (const v of d.vcpus) {
      this.schedule.sleep(v);
      clearTimeout(v.wakeTimer);
      v.wakeTimer = undefined;
      if (v.runstate === Runstate.RUNNING) this.schedule.preempt(v);
      else this.setRunstate(v, Runstate.OFFLINE);
    }
    this.dmesg(`domain ${d.domid} (${d.name}): ${reason} (${detail})`);
    const action = reason === 'crash' ? d.config.on_crash : reason === 'reboot' ? d.config.on_reboot : d.config.on_poweroff;
    if (action === 'destroy') queueMicrotask(() => this.domains.has(d.domid) && this.destroyDomain(d.domid));
    // 'restart' needs the images again: the toolstack (which has them) does it on the event.
    this.emit('domain', d.domid);
  }
}
