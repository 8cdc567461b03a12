/** event_channel_op (public/event_channel.h): one struct per sub-operation, IN and OUT fields. */
import * as X from '../../public/xen';
import * as T from '../../public/structs';
import { ok, type Handler, type HcResult, type Hypercall, type PvCaller } from './types';

/** Write a non-negative result (a port) to the struct's OUT field, or return the error. */
function out(d: PvCaller, r: number, at: number): HcResult {
  if (r < 0) return ok(r);
  d.mem.setU32(at, r);
  return ok(0);
}

const allocUnbound: Handler = (ctx, d, _v, [, p]) => {
  const S = T.evtchn_alloc_unbound;
  const dom = d.mem.u16(p! + S.dom);
  if (dom !== X.DOMID_SELF && dom !== d.domid) return ok(-X.EPERM);
  return out(d, ctx.evtchn.allocUnbound(d, d.mem.u16(p! + S.remote_dom)), p! + S.port);
};

const status: Handler = (ctx, d, _v, [, p]) => {
  const m = d.mem;
  const S = T.evtchn_status;
  const dom = m.u16(p! + S.dom);
  if (dom !== X.DOMID_SELF && dom !== d.domid) return ok(-X.EPERM);
  const st = ctx.evtchn.status(d, m.u32(p! + S.port));
  if (typeof st === 'number') return ok(st);
  m.setU32(p! + S.status, st.status);
  m.setU32(p! + S.vcpu, st.vcpu);
  if (st.status === X.EVTCHNSTAT_interdomain) {
    m.setU16(p! + S.u_interdomain_dom, st.a);
    m.setU32(p! + S.u_interdomain_port, st.b);
  } else if (st.status === X.EVTCHNSTAT_unbound) m.setU32(p! + S.u_unbound_dom, st.a);
  else m.setU32(p! + S.u_virq, st.a); // the virq number (0 for closed and ipi)
  return ok(0);
};

export const EVENT_CHANNEL_OP: Hypercall = {
  nr: X.HYPERVISOR_event_channel_op,
  name: 'event_channel_op',
  subOps: [
    { cmd: X.EVTCHNOP_alloc_unbound, name: 'alloc_unbound', served: 'hypervisor', handler: allocUnbound },
    {
      cmd: X.EVTCHNOP_bind_interdomain,
      name: 'bind_interdomain',
      served: 'hypervisor',
      handler: (ctx, d, _v, [, p]) => {
        const S = T.evtchn_bind_interdomain;
        return out(d, ctx.evtchn.bindInterdomain(d, d.mem.u16(p! + S.remote_dom), d.mem.u32(p! + S.remote_port)), p! + S.local_port);
      },
    },
    {
      cmd: X.EVTCHNOP_bind_virq,
      name: 'bind_virq',
      served: 'hypervisor',
      handler: (ctx, d, _v, [, p]) =>
        out(d, ctx.evtchn.bindVirq(d, d.mem.u32(p! + T.evtchn_bind_virq.virq), d.mem.u32(p! + T.evtchn_bind_virq.vcpu)), p! + T.evtchn_bind_virq.port),
    },
    {
      cmd: X.EVTCHNOP_bind_ipi,
      name: 'bind_ipi',
      served: 'hypervisor',
      handler: (ctx, d, _v, [, p]) => out(d, ctx.evtchn.bindIpi(d, d.mem.u32(p! + T.evtchn_bind_ipi.vcpu)), p! + T.evtchn_bind_ipi.port),
    },
    {
      cmd: X.EVTCHNOP_close,
      name: 'close',
      served: 'hypervisor',
      handler: (ctx, d, _v, [, p]) => ok(ctx.evtchn.close(d, d.mem.u32(p! + T.evtchn_close.port))),
    },
    // The sender's worker marks an interdomain peer itself when the port is routed
    // (evtchnDirect.ts); everything else comes here.
    { cmd: X.EVTCHNOP_send, name: 'send', served: 'vcpu-first', handler: (ctx, d, _v, [, p]) => ok(ctx.evtchn.send(d, d.mem.u32(p! + T.evtchn_send.port))) },
    { cmd: X.EVTCHNOP_status, name: 'status', served: 'hypervisor', handler: status },
    {
      cmd: X.EVTCHNOP_unmask,
      name: 'unmask',
      served: 'hypervisor',
      handler: (ctx, d, _v, [, p]) => ok(ctx.evtchn.unmask(d, d.mem.u32(p! + T.evtchn_unmask.port))),
    },
  ],
};
