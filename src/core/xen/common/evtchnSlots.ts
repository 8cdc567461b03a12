/**
 * The hypervisor's side of the direct event-channel path (evtchnDirect.ts): which vCPU and
 * which pv domain holds which slot of the directory, the routes of interdomain ports
 * between two guests, and the requests vCPU workers leave after a direct send (wake a
 * vCPU that is not on a pCPU, let SCHEDOP_poll callers look again). Hypervisor thread.
 */
import type { Domain, Vcpu } from './domain';
import { EvtchnDirectory, MAX_DOMAIN_SLOTS, MAX_VCPU_SLOTS, newEvtchnDirectory } from './evtchnDirect';
import type { EvtchnDomain } from './evtchn';
import { evtchnIsPending, type MachineViews } from './sharedInfo';

/** What the slots need of the hypervisor. */
export interface EvtchnSlotsHost {
  readonly domains: ReadonlyMap<number, Domain>;
  readonly machine: MachineViews;
  /** An event for `v`: wake it if blocked, or kick it if it waits in place. */
  notify(v: Vcpu): void;
  /** False once the host stops (ends serve()). */
  isRunning(): boolean;
}

export class EvtchnSlots {
  readonly dir = new EvtchnDirectory(newEvtchnDirectory());
  private readonly vcpuBySlot: (Vcpu | undefined)[] = new Array<Vcpu | undefined>(MAX_VCPU_SLOTS);
  private readonly domainBySlot: (Domain | undefined)[] = new Array<Domain | undefined>(MAX_DOMAIN_SLOTS);

  constructor(private readonly host: EvtchnSlotsHost) {}

  /** vCPU slots still free (each vCPU needs one: its kick word). */
  freeVcpuSlots(): number {
    let n = 0;
    for (let i = 0; i < MAX_VCPU_SLOTS; i++) if (this.vcpuBySlot[i] === undefined) n++;
    return n;
  }

  /** A directory slot for every vCPU (its kick word), and one for a pv domain's ports. */
  assign(d: Domain): void {
    for (const v of d.vcpus) {
      const s = this.vcpuBySlot.findIndex((x) => x === undefined);
      if (s < 0) throw new Error(`too many vCPUs on this host (at most ${MAX_VCPU_SLOTS})`);
      this.vcpuBySlot[s] = v;
      v.slot = s;
      v.isParked = () => this.dir.isParked(s);
    }
    if (!d.pv || d.siMachine < 0) return;
    const s = this.domainBySlot.findIndex((x) => x === undefined);
    if (s < 0) return; // no slot: every send of this domain goes through the hypervisor
    this.domainBySlot[s] = d;
    d.evtchnSlot = s;
    this.dir.clearDomain(s);
    // shared_info is one of the pv special pages, which the guest cannot give back
    // (depopulate refuses it), so its machine address stays valid for the domain's life.
    this.dir.setSharedInfo(s, d.siMachine);
    for (const v of d.vcpus) this.dir.setVcpuSlot(s, v.vcpuId, v.slot);
    d.directSends = () => this.dir.sends(s);
  }

  release(d: Domain): void {
    for (const v of d.vcpus) if (v.slot >= 0 && this.vcpuBySlot[v.slot] === v) this.vcpuBySlot[v.slot] = undefined;
    if (d.evtchnSlot < 0) return;
    this.dir.clearDomain(d.evtchnSlot);
    this.domainBySlot[d.evtchnSlot] = undefined;
  }

  /** Route a port for direct sends when both ends are guests with slots and connected. */
  routePort(ed: EvtchnDomain, port: number): void {
    const d = this.host.domains.get(ed.domid);
    if (!d || d.evtchnSlot < 0) return;
    const s = d.ports[port]?.s;
    if (s?.state !== 'interdomain') {
      this.dir.setRoute(d.evtchnSlot, port, null);
      return;
    }
    const r = this.host.domains.get(s.remoteDomid);
    const rp = r?.ports[s.remotePort];
    const back = rp?.s.state === 'interdomain' && rp.s.remoteDomid === d.domid && rp.s.remotePort === port;
    this.dir.setRoute(d.evtchnSlot, port, r && r.evtchnSlot >= 0 && back ? { dslot: r.evtchnSlot, port: s.remotePort, vcpu: rp.vcpu } : null);
  }

  /** How many of `d`'s vCPUs poll (SCHEDOP_poll): a direct send then asks the hypervisor to look. */
  pollersChanged(d: Domain): void {
    if (d.evtchnSlot >= 0) this.dir.setPollers(d.evtchnSlot, d.vcpus.filter((v) => v.poll).length);
  }

  /** Serve what vCPU workers ask of the hypervisor after a direct send: wake-ups, pollers. */
  async serve(): Promise<void> {
    const w = this.dir.w;
    const bell = this.dir.doorbellIndex;
    let seen = Atomics.load(w, bell);
    while (this.host.isRunning()) {
      const r = Atomics.waitAsync(w, bell, seen, 1000);
      if (r.async) await r.value;
      seen = Atomics.load(w, bell);
      const { wake, poll } = this.dir.takeRequests();
      for (const s of wake) {
        const v = this.vcpuBySlot[s];
        if (v) this.host.notify(v);
      }
      for (const s of poll) {
        const d = this.domainBySlot[s];
        for (const v of d?.vcpus ?? []) {
          if (!v.poll || !d || d.siMachine < 0) continue;
          const p = v.poll.port;
          if (p >= 0 && !evtchnIsPending(this.host.machine, d.siMachine, p)) continue;
          v.poll.woken = true;
          this.host.notify(v);
        }
      }
    }
  }
}
