/**
 * Event channels with Xen's 2-level ABI (xen/common/event_channel.c and event_2l.c,
 * public/event_channel.h): per-domain ports whose state is a tagged union, as Xen's
 * ECS_* states, and delivery into the guest's shared_info bitmaps.
 *
 * Delivery is evtchn_2l_set_pending in sharedInfo.ts (the one implementation, shared with
 * the direct send path of vCPU workers): this file decides which port of which domain,
 * and kicks the vCPU when an upcall was raised.
 *
 * Domain 0 is the toolstack in JavaScript: it has ports but no shared_info, and an event
 * to one of its ports calls the backend bound to it.
 */
import { evtchnClearPending, evtchnSetPending, evtchnUnmask, SetPending, type MachineViews } from './sharedInfo';
import * as X from '../public/xen';

export type EvtchnState =
  | { state: 'free' }
  | { state: 'unbound'; remoteDomid: number }
  | { state: 'interdomain'; remoteDomid: number; remotePort: number }
  | { state: 'virq'; virq: number }
  | { state: 'ipi' };

export interface EvtchnPort {
  s: EvtchnState;
  /** vCPU notified when the port fires. */
  vcpu: number;
}

/** What event channels need of a domain. */
export interface EvtchnDomain {
  readonly domid: number;
  readonly ports: EvtchnPort[];
  readonly nrVcpus: number;
  /** Machine byte offset of the domain's shared_info page; -1: none (Domain-0, hvm). */
  readonly siMachine: number;
  /** EVTCHNOP_send calls served here that named a valid port (statistics). */
  evtchnSlowSends?: number;
}

export interface EvtchnHooks {
  lookup(domid: number): EvtchnDomain | undefined;
  /** An upcall became pending for (domid, vcpu): wake it if it is blocked. */
  kick(domid: number, vcpu: number): void;
  /** A Domain-0 port fired. */
  dom0Event(port: number): void;
  /** A port became pending, masked or not: wake vCPUs in SCHEDOP_poll on it (evtchn_check_pollers). */
  checkPollers?(domid: number, port: number): void;
  /** An interdomain channel was connected or one end closed (the direct send path's routes). */
  interdomainChanged?(d: EvtchnDomain, port: number): void;
}

export function newPortTable(): EvtchnPort[] {
  return [];
}

export class EventChannels {
  constructor(
    private readonly hooks: EvtchnHooks,
    private readonly machine: MachineViews,
  ) {}

  private port(d: EvtchnDomain, port: number): EvtchnPort | undefined {
    return Number.isInteger(port) && port > 0 && port < X.NR_EVTCHN_PORTS ? d.ports[port] : undefined;
  }

  /** Lowest free port; port 0 is never used, as in Xen. */
  private alloc(d: EvtchnDomain): number {
    for (let p = 1; p < X.NR_EVTCHN_PORTS; p++) {
      const e = d.ports[p];
      if (e === undefined || e.s.state === 'free') {
        d.ports[p] = { s: { state: 'free' }, vcpu: 0 };
        return p;
      }
    }
    return -X.ENOSPC;
  }

  allocUnbound(d: EvtchnDomain, remoteDomid: number): number {
    if (remoteDomid === X.DOMID_SELF) remoteDomid = d.domid;
    if (remoteDomid !== d.domid && this.hooks.lookup(remoteDomid) === undefined) return -X.ESRCH;
    const p = this.alloc(d);
    if (p < 0) return p;
    d.ports[p]!.s = { state: 'unbound', remoteDomid };
    return p;
  }

  /** Connect to `remotePort` of `remoteDomid`, which must be unbound and waiting for `d`. */
  bindInterdomain(d: EvtchnDomain, remoteDomid: number, remotePort: number): number {
    if (remoteDomid === X.DOMID_SELF) remoteDomid = d.domid;
    const r = this.hooks.lookup(remoteDomid);
    if (r === undefined) return -X.ESRCH;
    const rp = this.port(r, remotePort);
    if (rp === undefined || rp.s.state !== 'unbound' || rp.s.remoteDomid !== d.domid) return -X.EINVAL;
    const p = this.alloc(d);
    if (p < 0) return p;
    d.ports[p]!.s = { state: 'interdomain', remoteDomid, remotePort };
    rp.s = { state: 'interdomain', remoteDomid: d.domid, remotePort: p };
    this.hooks.interdomainChanged?.(d, p);
    this.hooks.interdomainChanged?.(r, remotePort);
    // The peer may have signalled before we bound: always set the local end pending.
    this.setPending(d, p);
    return p;
  }

  bindVirq(d: EvtchnDomain, virq: number, vcpu: number): number {
    if (!Number.isInteger(virq) || virq < 0 || virq >= X.NR_VIRQS) return -X.EINVAL;
    if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= d.nrVcpus) return -X.ENOENT;
    for (const e of d.ports) if (e?.s.state === 'virq' && e.s.virq === virq && e.vcpu === vcpu) return -X.EEXIST;
    const p = this.alloc(d);
    if (p < 0) return p;
    d.ports[p] = { s: { state: 'virq', virq }, vcpu };
    return p;
  }

  bindIpi(d: EvtchnDomain, vcpu: number): number {
    if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= d.nrVcpus) return -X.ENOENT;
    const p = this.alloc(d);
    if (p < 0) return p;
    d.ports[p] = { s: { state: 'ipi' }, vcpu };
    return p;
  }

  /** Close a port; the far end of an interdomain channel goes back to unbound (waiting for us). */
  close(d: EvtchnDomain, port: number): number {
    const e = this.port(d, port);
    if (e === undefined || e.s.state === 'free') return -X.EINVAL;
    if (e.s.state === 'interdomain') {
      const r = this.hooks.lookup(e.s.remoteDomid);
      const rp = r ? this.port(r, e.s.remotePort) : undefined;
      if (rp && rp.s.state === 'interdomain' && rp.s.remoteDomid === d.domid && rp.s.remotePort === port) {
        rp.s = { state: 'unbound', remoteDomid: d.domid };
        this.hooks.interdomainChanged?.(r!, e.s.remotePort);
      }
    }
    const wasInterdomain = e.s.state === 'interdomain';
    e.s = { state: 'free' };
    e.vcpu = 0;
    if (wasInterdomain) this.hooks.interdomainChanged?.(d, port);
    // A future owner of the port starts clean (evtchn_2l_clear_pending).
    if (d.siMachine >= 0) evtchnClearPending(this.machine, d.siMachine, port);
    return 0;
  }

  send(d: EvtchnDomain, port: number): number {
    const e = this.port(d, port);
    if (e === undefined) return -X.EINVAL;
    d.evtchnSlowSends = (d.evtchnSlowSends ?? 0) + 1;
    switch (e.s.state) {
      case 'interdomain': {
        const r = this.hooks.lookup(e.s.remoteDomid);
        if (r) this.setPending(r, e.s.remotePort);
        return 0;
      }
      case 'ipi':
        this.setPending(d, port);
        return 0;
      case 'unbound':
        return 0; // nobody listening yet: dropped, as in Xen
      default:
        return -X.EINVAL;
    }
  }

  /** Raise a VIRQ on one vCPU, if the domain bound it. */
  sendVirq(d: EvtchnDomain, virq: number, vcpu: number): void {
    for (let p = 1; p < d.ports.length; p++) {
      const e = d.ports[p];
      if (e?.s.state === 'virq' && e.s.virq === virq && e.vcpu === vcpu) this.setPending(d, p);
    }
  }

  status(d: EvtchnDomain, port: number): { status: number; vcpu: number; a: number; b: number } | number {
    const e = this.port(d, port);
    if (e === undefined) return -X.EINVAL;
    switch (e.s.state) {
      case 'free':
        return { status: X.EVTCHNSTAT_closed, vcpu: e.vcpu, a: 0, b: 0 };
      case 'unbound':
        return { status: X.EVTCHNSTAT_unbound, vcpu: e.vcpu, a: e.s.remoteDomid, b: 0 };
      case 'interdomain':
        return { status: X.EVTCHNSTAT_interdomain, vcpu: e.vcpu, a: e.s.remoteDomid, b: e.s.remotePort };
      case 'virq':
        return { status: X.EVTCHNSTAT_virq, vcpu: e.vcpu, a: e.s.virq, b: 0 };
      case 'ipi':
        return { status: X.EVTCHNSTAT_ipi, vcpu: e.vcpu, a: 0, b: 0 };
    }
  }

  /** Unmask: clear the mask bit and redeliver if the port is pending (evtchn_2l_unmask). */
  unmask(d: EvtchnDomain, port: number): number {
    const e = this.port(d, port);
    if (e === undefined || d.siMachine < 0) return -X.EINVAL;
    if (evtchnUnmask(this.machine, d.siMachine, port, e.vcpu) === SetPending.UPCALL) this.hooks.kick(d.domid, e.vcpu);
    return 0;
  }

  /** Mark a port pending and notify (evtchn_2l_set_pending); Domain-0's ports call their backend. */
  setPending(d: EvtchnDomain, port: number): void {
    if (d.domid === 0) {
      this.hooks.dom0Event(port);
      return;
    }
    if (d.siMachine < 0) return; // no shared_info: nobody to tell
    const vcpu = d.ports[port]?.vcpu ?? 0;
    const r = evtchnSetPending(this.machine, d.siMachine, port, vcpu);
    if (r === SetPending.UPCALL) this.hooks.kick(d.domid, vcpu);
    // Masked or not, a SCHEDOP_poll caller sees the port fire (evtchn_check_pollers).
    if (r !== SetPending.ALREADY) this.hooks.checkPollers?.(d.domid, port);
  }

  /** Close every port of a dying domain (peers go back to unbound). */
  closeAll(d: EvtchnDomain): void {
    for (let p = 1; p < d.ports.length; p++) if (d.ports[p] && d.ports[p]!.s.state !== 'free') this.close(d, p);
  }
}
