/**
 * Event channels with Xen's 2-level ABI (xen/common/event_channel.c and event_2l.c,
 * public/event_channel.h): per-domain ports whose state is a tagged union, as Xen's
 * ECS_* states, and delivery into the guest's shared_info bitmaps.
 *
 * Delivery (evtchn_2l_set_pending): set the port's pending bit; if it was clear and the
 * port is not masked, set bit port/32 of the bound vCPU's evtchn_pending_sel; if that was
 * clear, set evtchn_upcall_pending and kick the vCPU. A port that becomes pending while
 * masked loses its edge until unmask, which repeats the last two steps.
 *
 * Domain 0 is the toolstack in JavaScript: it has ports but no shared_info, and an event
 * to one of its ports calls the backend bound to it.
 */
import { GuestFault, type GuestMemory } from './guestMemory';
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
  /** The domain's memory and its shared_info page; undefined for Domain-0. */
  readonly mem: GuestMemory | undefined;
  readonly sharedInfo: number;
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
  constructor(private readonly hooks: EvtchnHooks) {}

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
    if (d.mem) {
      // Clear its pending bit so a future owner of the port starts clean (evtchn_2l_clear_pending).
      const w = port >>> 5;
      d.mem.andU32(d.sharedInfo + X.SI_EVTCHN_PENDING + 4 * w, ~(1 << (port & 31)));
    }
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
      case 'free': return { status: X.EVTCHNSTAT_closed, vcpu: e.vcpu, a: 0, b: 0 };
      case 'unbound': return { status: X.EVTCHNSTAT_unbound, vcpu: e.vcpu, a: e.s.remoteDomid, b: 0 };
      case 'interdomain': return { status: X.EVTCHNSTAT_interdomain, vcpu: e.vcpu, a: e.s.remoteDomid, b: e.s.remotePort };
      case 'virq': return { status: X.EVTCHNSTAT_virq, vcpu: e.vcpu, a: e.s.virq, b: 0 };
      case 'ipi': return { status: X.EVTCHNSTAT_ipi, vcpu: e.vcpu, a: 0, b: 0 };
    }
  }

  /** Unmask: clear the mask bit and redeliver if the port is pending (evtchn_2l_unmask). */
  unmask(d: EvtchnDomain, port: number): number {
    if (this.port(d, port) === undefined || !d.mem) return -X.EINVAL;
    const w = port >>> 5, bit = 1 << (port & 31);
    d.mem.andU32(d.sharedInfo + X.SI_EVTCHN_MASK + 4 * w, ~bit);
    if ((d.mem.u32(d.sharedInfo + X.SI_EVTCHN_PENDING + 4 * w) & bit) !== 0) this.markVcpu(d, port);
    return 0;
  }

  /** evtchn_2l_set_pending. */
  setPending(d: EvtchnDomain, port: number): void {
    if (!d.mem) {
      this.hooks.dom0Event(port);
      return;
    }
    const w = port >>> 5, bit = 1 << (port & 31);
    try {
      const old = d.mem.orU32(d.sharedInfo + X.SI_EVTCHN_PENDING + 4 * w, bit);
      if ((old & bit) !== 0) return;
      // Masked: no upcall, the edge is lost; a poller still sees the port pending.
      if ((d.mem.u32(d.sharedInfo + X.SI_EVTCHN_MASK + 4 * w) & bit) === 0) this.markVcpu(d, port);
      this.hooks.checkPollers?.(d.domid, port);
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e; // a guest that ballooned out its shared_info gets no events
    }
  }

  private markVcpu(d: EvtchnDomain, port: number): void {
    const vcpu = d.ports[port]?.vcpu ?? 0;
    const vi = d.sharedInfo + X.SI_VCPU_INFO + vcpu * X.VCPU_INFO_SIZE;
    const w = port >>> 5;
    const sel = d.mem!.orU32(vi + X.VI_PENDING_SEL, 1 << w);
    if ((sel & (1 << w)) !== 0) return;
    d.mem!.setU8(vi + X.VI_UPCALL_PENDING, 1);
    this.hooks.kick(d.domid, vcpu);
  }

  /** Close every port of a dying domain (peers go back to unbound). */
  closeAll(d: EvtchnDomain): void {
    for (let p = 1; p < d.ports.length; p++) if (d.ports[p] && d.ports[p]!.s.state !== 'free') this.close(d, p);
  }
}
