/** event_channel_op (public/event_channel.h): one struct per sub-operation, IN and OUT fields. */
import * as X from '../../public/xen';
import { ok, type Handler, type HcResult, type Hypercall, type PvCaller } from './types';

/** Write a non-negative result (a port) to the struct's OUT field, or return the error. */
function out(d: PvCaller, r: number, at: number): HcResult {
  if (r < 0) return ok(r);
  d.mem.setU32(at, r);
  return ok(0);
}

const allocUnbound: Handler = (ctx, d, _v, [, p]) => { // { domid_t dom, remote_dom; evtchn_port_t port; }
  const dom = d.mem.u16(p!);
  if (dom !== X.DOMID_SELF && dom !== d.domid) return ok(-X.EPERM);
  return out(d, ctx.evtchn.allocUnbound(d, d.mem.u16(p! + 2)), p! + 4);
};

const status: Handler = (ctx, d, _v, [, p]) => { // { domid_t dom; port port; u32 status; u32 vcpu; union { ... } u; }
  const m = d.mem;
  const dom = m.u16(p!);
  if (dom !== X.DOMID_SELF && dom !== d.domid) return ok(-X.EPERM);
  const st = ctx.evtchn.status(d, m.u32(p! + 4));
  if (typeof st === 'number') return ok(st);
  m.setU32(p! + 8, st.status);
  m.setU32(p! + 12, st.vcpu);
  if (st.status === X.EVTCHNSTAT_interdomain) {
    m.setU16(p! + 16, st.a);
    m.setU32(p! + 20, st.b);
  } else m.setU32(p! + 16, st.a);
  return ok(0);
};

export const EVENT_CHANNEL_OP: Hypercall = {
  nr: X.HYPERVISOR_event_channel_op,
  name: 'event_channel_op',
  subOps: [
    { cmd: X.EVTCHNOP_alloc_unbound, name: 'alloc_unbound', served: 'hypervisor', handler: allocUnbound },
    {
      cmd: X.EVTCHNOP_bind_interdomain, name: 'bind_interdomain', served: 'hypervisor', // { domid_t remote_dom; port remote_port; port local_port; }
      handler: (ctx, d, _v, [, p]) => out(d, ctx.evtchn.bindInterdomain(d, d.mem.u16(p!), d.mem.u32(p! + 4)), p! + 8),
    },
    {
      cmd: X.EVTCHNOP_bind_virq, name: 'bind_virq', served: 'hypervisor', // { u32 virq; u32 vcpu; port port; }
      handler: (ctx, d, _v, [, p]) => out(d, ctx.evtchn.bindVirq(d, d.mem.u32(p!), d.mem.u32(p! + 4)), p! + 8),
    },
    {
      cmd: X.EVTCHNOP_bind_ipi, name: 'bind_ipi', served: 'hypervisor', // { u32 vcpu; port port; }
      handler: (ctx, d, _v, [, p]) => out(d, ctx.evtchn.bindIpi(d, d.mem.u32(p!)), p! + 4),
    },
    { cmd: X.EVTCHNOP_close, name: 'close', served: 'hypervisor', handler: (ctx, d, _v, [, p]) => ok(ctx.evtchn.close(d, d.mem.u32(p!))) },
    // The sender's worker marks an interdomain peer itself when the port is routed
    // (evtchnDirect.ts); everything else comes here.
    { cmd: X.EVTCHNOP_send, name: 'send', served: 'vcpu-first', handler: (ctx, d, _v, [, p]) => ok(ctx.evtchn.send(d, d.mem.u32(p!))) },
    { cmd: X.EVTCHNOP_status, name: 'status', served: 'hypervisor', handler: status },
    { cmd: X.EVTCHNOP_unmask, name: 'unmask', served: 'hypervisor', handler: (ctx, d, _v, [, p]) => ok(ctx.evtchn.unmask(d, d.mem.u32(p!))) },
  ],
};
