/**
 * The scheduler's mechanism (Xen's common/schedule.c; the policy is a SchedOps in sched/):
 * one async loop per pCPU asks the policy for a vCPU, grants it a slice through its
 * control block, hands the vCPU's requests to the hypervisor until it gives the slice
 * back, accounts the time and applies what the slice ended with (blocked in WFI or
 * SCHEDOP_block, shut down, crashed). Also runstates, wake-ups, and the pCPUs that vCPUs
 * hold while they wait in place for an event (vcpuControl.ts, C_PARK_US).
 */
import * as C from '../../vcpu/vcpuControl';
import { Runstate, type Domain, type ShutdownReason, type Vcpu } from '../domain';
import { NS_PER_MS, type SchedOps } from './schedOps';
import { SliceTrace } from './sliceTrace';
import type { EvtchnDirectory } from '../evtchnDirect';
import { upcallPending, type MachineViews } from '../sharedInfo';
import { hostNowMs } from '../../vcpu/vcpuRunner';
import * as X from '../../public/xen';

/** A slice in real-time mode never runs more instructions than this without a look. */
const MAX_BUDGET = 0x3fff_ffff;

/** What the mechanism needs of the hypervisor. */
export interface ScheduleHost {
  readonly domains: ReadonlyMap<number, Domain>;
  /** Machine memory (the vCPUs' shared_info). */
  readonly machine: MachineViews;
  /** Serve one request (hypercall, SBI call, MMIO exit) of a running vCPU; may throw. */
  serveRequest(v: Vcpu): void;
  /** Take and serve the vCPU's posted QueueNotify writes (C_POSTED). */
  servePosted(v: Vcpu): void;
  guestShutdown(d: Domain, reason: ShutdownReason, detail: string): void;
  dmesg(line: string): void;
  /** A domain's state or statistics changed (for listeners). */
  domainChanged(domid: number): void;
  /** A vCPU of `d` stopped polling (SCHEDOP_poll). */
  pollEnded(d: Domain): void;
}

export interface ScheduleOptions {
  pcpus: number;
  /** Deterministic mode: time advances 2^shift ns per instruction (QEMU -icount shift). */
  icountShift: number | undefined;
  /** Wait in place, microseconds (0 = never; forced to 0 in deterministic mode). */
  parkUs: number;
  /** Where vCPUs wait in place (their kick words and parked flags). */
  dir: EvtchnDirectory;
}

export class Schedule {
  /** Which vCPU ran on which pCPU when (the scheduler view). */
  readonly sliceTrace = new SliceTrace();
  readonly pcpus: number;
  private readonly icountShift: number | undefined;
  private readonly parkUs: number;
  private readonly dir: EvtchnDirectory;
  private running = false;
  private idleWaiters: (() => void)[] = [];
  /** Scheduler time in deterministic mode (ns). */
  private detNs = 0;
  private readonly startMs = hostNowMs();

  constructor(
    private readonly host: ScheduleHost,
    private readonly policy: SchedOps,
    o: ScheduleOptions,
  ) {
    this.pcpus = o.pcpus;
    this.icountShift = o.icountShift;
    this.parkUs = o.icountShift === undefined ? o.parkUs : 0;
    this.dir = o.dir;
  }

  /** Scheduler time in ns. */
  now(): number {
    return this.icountShift === undefined ? (hostNowMs() - this.startMs) * NS_PER_MS : this.detNs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (let p = 0; p < this.pcpus; p++) void this.pcpuLoop(p);
  }

  get isRunning(): boolean {
    return this.running;
  }

  stop(): void {
    this.running = false;
    this.kick();
  }

  /** The policy's name (xl info's xen_scheduler). */
  get policyName(): string {
    return this.policy.name;
  }

  /** A new vCPU joins the policy (it runs once woken). */
  addVcpu(v: Vcpu): void {
    this.policy.insert(v);
  }

  /** Take a vCPU off the runqueues (paused, shut down): it runs again only when woken. */
  sleep(v: Vcpu): void {
    this.policy.sleep(v);
  }

  /** A vCPU of a domain being destroyed leaves the policy for good. */
  removeVcpu(v: Vcpu): void {
    this.policy.sleep(v);
    this.policy.remove(v);
  }

  /** An upcall or interrupt for `v`: wake it if blocked, or make it look if it waits in place. */
  notify(v: Vcpu): void {
    if (v.runstate === Runstate.BLOCKED) this.wake(v);
    else if (v.runstate === Runstate.RUNNING && v.slot >= 0) this.dir.kick(v.slot);
  }

  /** End a running vCPU's slice at its next look. */
  preempt(v: Vcpu): void {
    Atomics.store(v.cb, C.C_PREEMPT, 1);
    if (v.slot >= 0) this.dir.kick(v.slot);
  }

  setRunstate(v: Vcpu, s: Runstate): void {
    const now = this.now();
    v.runstateNs[v.runstate] = v.runstateNs[v.runstate]! + (now - v.runstateSince);
    v.runstateSince = now;
    v.runstate = s;
  }

  /** Make a blocked vCPU runnable (timer, interrupt, unpause). */
  wake(v: Vcpu): void {
    if (v.domain.shutdownReason || v.domain.dying) return;
    if (v.domain.paused) {
      v.wakePending = true; // unpause wakes it
      return;
    }
    if (v.runstate === Runstate.RUNNING || v.runstate === Runstate.RUNNABLE) return;
    clearTimeout(v.wakeTimer);
    v.wakeTimer = undefined;
    if (v.poll) {
      v.poll = undefined;
      this.host.pollEnded(v.domain);
    }
    this.setRunstate(v, Runstate.RUNNABLE);
    this.policy.wake(v, this.now());
    if (this.idleWaiters.length === 0) this.reclaimParkedPcpu(v);
    this.kick();
  }

  /** No pCPU is idle: take back one that a vCPU holds while waiting in place, if `v` may run there. */
  private reclaimParkedPcpu(v: Vcpu): void {
    for (const d of this.host.domains.values()) {
      for (const u of d.vcpus) {
        if (u.runstate !== Runstate.RUNNING || u.pcpu < 0 || (v.affinity & (1 << u.pcpu)) === 0) continue;
        if (u.slot < 0 || !this.dir.isParked(u.slot)) continue;
        this.preempt(u);
        return;
      }
    }
  }

  kick(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async pcpuLoop(p: number): Promise<void> {
    while (this.running) {
      const now = this.now();
      if (this.policy.nextTick() <= now) this.policy.tick(now);
      const pick = this.policy.pickNext(p, now);
      if (!pick) {
        await this.idle();
        continue;
      }
      await this.runSlice(pick.vcpu as Vcpu, p, pick.sliceNs);
    }
  }

  /** Wait until something may have become runnable: a wake-up, or the policy's next tick. */
  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const tick = this.policy.nextTick();
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (Number.isFinite(tick)) {
        if (this.icountShift !== undefined) {
          if (!this.anyTimerPending()) this.detNs = Math.max(this.detNs, tick); // warp: nothing else can happen first
          timer = setTimeout(resolve, 0);
        } else {
          timer = setTimeout(resolve, Math.max(1, (tick - this.now()) / NS_PER_MS));
        }
      }
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private anyTimerPending(): boolean {
    for (const d of this.host.domains.values()) for (const v of d.vcpus) if (v.wakeTimer !== undefined) return true;
    return false;
  }

  private async runSlice(v: Vcpu, p: number, sliceNs: number): Promise<void> {
    const cb = v.cb;
    const d = v.domain;
    v.pcpu = p;
    const startNs = this.now();
    this.setRunstate(v, Runstate.RUNNING);
    const det = this.icountShift;
    Atomics.store(cb, C.C_PREEMPT, 0);
    cb[C.C_CMD] = C.VcpuCmd.RUN;
    if (v.startAt) {
      cb[C.C_CMD] = C.VcpuCmd.START;
      cb[C.C_ARG0] = v.startAt[0];
      cb[C.C_ARG0 + 1] = v.startAt[1];
      v.startAt = undefined;
    }
    cb[C.C_BUDGET] = det === undefined ? MAX_BUDGET : Math.max(1, Math.floor(sliceNs / 2 ** det));
    cb[C.C_PARK_US] = this.parkUs;
    Atomics.store(cb, C.C_EVENT, C.VcpuEvent.NONE); // a doorbell that only posts (C_POSTED) then reads NONE
    const preempt = det === undefined ? setTimeout(() => this.preempt(v), sliceNs / NS_PER_MS) : undefined;
    v.cmdSeq++;
    Atomics.store(cb, C.C_SEQ, v.cmdSeq);
    Atomics.notify(cb, C.C_SEQ);

    let reason: number;
    for (;;) {
      await this.nextEvent(v);
      if (v.worker === undefined) return; // destroyed meanwhile
      // Posted notifications first: they came before the event this doorbell may carry.
      if (Atomics.load(cb, C.C_POSTED) !== 0) this.host.servePosted(v);
      const event = Atomics.load(cb, C.C_EVENT);
      if (event === C.VcpuEvent.NONE) continue;
      if (event === C.VcpuEvent.REQUEST) {
        // Taken: the vCPU waits for the answer, so it cannot write the next event meanwhile.
        Atomics.store(cb, C.C_EVENT, C.VcpuEvent.NONE);
        try {
          this.host.serveRequest(v);
        } catch (e) {
          // A bug of ours, reached by this guest: it crashes the domain, never the host.
          this.host.dmesg(`domain ${d.domid}: request failed in the hypervisor: ${String(e)}`);
          cb[C.C_RET] = -X.EINVAL;
          Atomics.add(cb, C.C_RSP_SEQ, 1);
          Atomics.notify(cb, C.C_RSP_SEQ);
          this.host.guestShutdown(d, 'crash', `hypervisor error: ${String(e)}`);
        }
        continue;
      }
      reason = cb[C.C_REASON]!;
      break;
    }
    clearTimeout(preempt);
    const retired = cb[C.C_RETIRED]! >>> 0;
    v.instret += retired;
    for (let i = 0; i < C.LOCAL_HC.length; i++) {
      // Counters the worker alone writes: a hostile or broken one could write anything.
      const n = cb[C.C_LOCAL_HC + i]! >>> 0;
      const delta = n - v.localHcSeen[i]!;
      v.localHcSeen[i] = n;
      if (delta > 0 && delta < 1e9) d.countExit(C.LOCAL_HC[i]!, delta);
    }
    // CPU time as the vCPU measured it (guest code only), or instructions in deterministic time.
    const ranNs = det === undefined ? C.ranMsView(cb)[0]! * NS_PER_MS : retired * 2 ** det;
    if (det !== undefined) this.detNs += ranNs;
    d.cpuNs += ranNs;
    v.pcpu = -1;
    this.sliceTrace.record({ pcpu: p, domid: d.domid, vcpuId: v.vcpuId, startNs, endNs: this.now(), reason });
    this.endSlice(v, reason, ranNs);
  }

  /** Resolve when the vCPU rings its doorbell. */
  private async nextEvent(v: Vcpu): Promise<void> {
    const cb = v.cb;
    while (v.worker !== undefined && Atomics.load(cb, C.C_DOORBELL) === v.doorbellSeen) {
      const w = Atomics.waitAsync(cb, C.C_DOORBELL, v.doorbellSeen, 1000);
      if (w.async) await w.value;
    }
    v.doorbellSeen = Atomics.load(cb, C.C_DOORBELL);
  }

  private endSlice(v: Vcpu, reason: number, ranNs: number): void {
    const d = v.domain;
    const now = this.now();
    let runnable = false;
    switch (reason) {
      case C.SliceEnd.BUDGET:
      case C.SliceEnd.PREEMPTED:
        runnable = !d.paused; // a paused domain's vCPU was marked wakePending by pauseDomain
        break;
      case C.SliceEnd.WFI: {
        d.countExit('wfi');
        const wakeAt = C.wakeAtView(v.cb)[0]!;
        v.wakeAt = wakeAt;
        // An interrupt line raised meanwhile (console input) wakes it at once.
        runnable = !d.paused && (wakeAt <= hostNowMs() || Atomics.load(v.cb, C.C_IRQ) !== 0);
        if (!runnable && Number.isFinite(wakeAt)) {
          v.wakeTimer = setTimeout(
            () => {
              v.wakeTimer = undefined;
              this.wake(v);
            },
            Math.max(0, wakeAt - hostNowMs()),
          );
        }
        break;
      }
      case C.SliceEnd.BLOCK: {
        d.countExit('block');
        v.wakeAt = C.wakeAtView(v.cb)[0]!;
        // The race-free half of SCHEDOP_block (and _poll): an event sent since the vCPU looked
        // wakes it now.
        runnable = !d.paused && (this.upcallPending(v) || v.poll?.woken === true || v.wakeAt <= hostNowMs());
        if (runnable && v.poll) {
          v.poll = undefined;
          this.host.pollEnded(d);
        }
        if (!runnable && Number.isFinite(v.wakeAt)) {
          v.wakeTimer = setTimeout(
            () => {
              v.wakeTimer = undefined;
              this.wake(v);
            },
            Math.max(0, v.wakeAt - hostNowMs()),
          );
        }
        break;
      }
      case C.SliceEnd.STOPPED:
        if (v.goingDown) {
          v.goingDown = false;
          this.policy.account(v, ranNs, false, now);
          this.setRunstate(v, Runstate.OFFLINE);
          return;
        }
        break;
      case C.SliceEnd.SHUTDOWN: {
        const kind = v.cb[C.C_ARG0];
        const code = v.cb[C.C_ARG0 + 1]! >>> 0;
        if (kind === C.FINISH_RESET) this.host.guestShutdown(d, 'reboot', 'the guest asked for a reset');
        else this.host.guestShutdown(d, 'poweroff', kind === C.FINISH_FAIL ? `FAIL ${code}` : 'PASS');
        break;
      }
      case C.SliceEnd.CRASH:
      default:
        this.host.guestShutdown(d, 'crash', `vCPU ${v.vcpuId} stopped unexpectedly`);
        break;
    }
    if (d.dying) return;
    if (d.shutdownReason) runnable = false; // shut down or crashed meanwhile: every vCPU stops
    this.setRunstate(v, runnable ? Runstate.RUNNABLE : d.shutdownReason ? Runstate.OFFLINE : Runstate.BLOCKED);
    this.policy.account(v, ranNs, runnable, now);
    this.host.domainChanged(d.domid);
  }

  private upcallPending(v: Vcpu): boolean {
    const si = v.domain.siMachine;
    return si >= 0 && upcallPending(this.host.machine, si, v.vcpuId);
  }
}
