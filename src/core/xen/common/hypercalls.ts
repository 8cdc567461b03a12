/**
 * The hypercall dispatcher (Xen's hypercall table, one switch per family, arguments
 * checked before use). Called in the hypervisor thread with the calling vCPU's a0..a4 and
 * the number from a6; returns the result for a0 and, for the calls that end the vCPU's
 * slice (block, yield, shutdown, vcpu down), what the vCPU should do next. Every pointer
 * is a guest-physical address read through GuestMemory: a bad one is -EFAULT.
 */
import type { Domain, Vcpu } from './domain';
import type { EventChannels, EvtchnDomain } from './evtchn';
import type { CopyPtr, GnttabDomain, GrantTables } from './gnttab';
import { GuestFault } from './guestMemory';
import * as X from '../public/xen';

/** What the vCPU does after the call returns (C_RET1). */
/** POLL: block like BLOCK, but leave the upcall mask alone (SCHEDOP_poll). */
export const enum HcAction { NONE = 0, BLOCK = 1, YIELD = 2, STOP = 3, POLL = 4 }

export interface HcResult {
  ret: number;
  action: HcAction;
}

/** What the dispatcher needs of the hypervisor. */
export interface HypercallContext {
  /** A vCPU of `d` started or stopped polling (SCHEDOP_poll). */
  pollersChanged(d: Domain): void;
  readonly evtchn: EventChannels;
  readonly gnttab: GrantTables;
  lookup(domid: number): (Domain & EvtchnDomain & GnttabDomain) | undefined;
  consoleWrite(d: Domain, bytes: Uint8Array): void;
  consoleRead(d: Domain, max: number): Uint8Array;
  shutdown(d: Domain, reason: number): void;
  vcpuUp(d: Domain, vcpuId: number, pc: number, a1: number): number;
  vcpuDown(v: Vcpu): number;
  populate(d: Domain, gfn: number): boolean;
  depopulate(d: Domain, gfn: number): boolean;
  now(): number;
}

const ok = (ret: number, action = HcAction.NONE): HcResult => ({ ret, action });

/** Xen 4.19's ABI numbers; "-hyperlab" says whose implementation it is. */
const XEN_MAJOR = 4, XEN_MINOR = 19, XEN_EXTRA = '.0-hyperlab';

export function hypercall(ctx: HypercallContext, v: Vcpu, nr: number, a: readonly number[]): HcResult {
  const d = ctx.lookup(v.domid);
  if (!d || !d.mem) return ok(-X.ESRCH);
  // Unknown numbers share one counter: Xen keeps no state for -ENOSYS, and a key per number
  // would let a guest grow the hypervisor's memory without bound.
  d.countExit(`hypercall:${X.HYPERCALL_NAMES[nr] ?? 'unknown'}`);
  try {
    switch (nr) {
      case X.HYPERVISOR_console_io: return consoleIo(ctx, d, a);
      case X.HYPERVISOR_sched_op: return schedOp(ctx, d, v, a);
      case X.HYPERVISOR_xen_version: return xenVersion(d, a);
      case X.HYPERVISOR_event_channel_op: return evtchnOp(ctx, d, a);
      case X.HYPERVISOR_grant_table_op: return gnttabOp(ctx, d, a);
      case X.HYPERVISOR_memory_op: return memoryOp(ctx, d, a);
      case X.HYPERVISOR_vcpu_op: return vcpuOp(ctx, d, v, a);
      default: return ok(-X.ENOSYS);
    }
  } catch (e) {
    if (e instanceof GuestFault) return ok(-X.EFAULT);
    throw e;
  }
}

function consoleIo(ctx: HypercallContext, d: Domain, [cmd, count, buf]: readonly number[]): HcResult {
  const n = count! >>> 0;
  if (n > 65536) return ok(-X.EINVAL);
  if (cmd === X.CONSOLEIO_write) {
    ctx.consoleWrite(d, d.mem!.read(buf!, n));
    return ok(0);
  }
  if (cmd === X.CONSOLEIO_read) {
    const bytes = ctx.consoleRead(d, n);
    d.mem!.write(buf!, bytes);
    return ok(bytes.length);
  }
  return ok(-X.ENOSYS);
}

function schedOp(ctx: HypercallContext, d: Domain, v: Vcpu, [cmd, arg]: readonly number[]): HcResult {
  switch (cmd) {
    case X.SCHEDOP_yield: return ok(0, HcAction.YIELD);
    case X.SCHEDOP_block: return ok(0, HcAction.BLOCK); // the pending check is made at the slice end
    case X.SCHEDOP_poll: {
      // struct sched_poll { evtchn_port_t *ports; unsigned nr_ports; u64 timeout; }: block until
      // one of the ports is pending, masked or not, or an upcall, or the timeout (absolute
      // system time; the vCPU keeps that timer). As Xen's do_poll: one port wakes only on
      // itself, several on any port of the domain (poll_evtchn = -1). The vCPU counts as a
      // poller before its ports are looked at, so a direct send (evtchnDirect.ts) that
      // marks one meanwhile asks the hypervisor to look again.
      const nrPorts = d.mem!.u32(arg! + 4);
      if (nrPorts > 128) return ok(-X.EINVAL);
      const ports: number[] = [];
      for (let i = 0; i < nrPorts; i++) {
        const port = d.mem!.u32(d.mem!.u32(arg!) + 4 * i);
        if (port === 0 || port >= X.NR_EVTCHN_PORTS) return ok(-X.EINVAL);
        ports.push(port);
      }
      v.poll = { port: nrPorts === 1 ? ports[0]! : -1, woken: false };
      ctx.pollersChanged(d);
      for (const port of ports) {
        if ((d.mem!.u32(d.sharedInfo + X.SI_EVTCHN_PENDING + 4 * (port >>> 5)) & (1 << (port & 31))) !== 0) {
          v.poll = undefined;
          ctx.pollersChanged(d);
          return ok(0);
        }
      }
      return ok(0, HcAction.POLL);
    }
    case X.SCHEDOP_shutdown: {
      const reason = d.mem!.u32(arg!);
      if (reason > X.SHUTDOWN_watchdog) return ok(-X.EINVAL);
      ctx.shutdown(d, reason);
      return ok(0, HcAction.STOP);
    }
    default:
      void v;
      return ok(-X.ENOSYS);
  }
}

function xenVersion(d: Domain, [cmd, arg]: readonly number[]): HcResult {
  switch (cmd) {
    case X.XENVER_version: return ok((XEN_MAJOR << 16) | XEN_MINOR);
    case X.XENVER_extraversion: {
      const s = new Uint8Array(16);
      s.set(new TextEncoder().encode(XEN_EXTRA));
      d.mem!.write(arg!, s);
      return ok(0);
    }
    case X.XENVER_get_features: // struct xen_feature_info { u32 submap_idx; u32 submap; }
      d.mem!.setU32(arg! + 4, 0);
      return ok(0);
    case X.XENVER_pagesize: return ok(4096);
    default: return ok(-X.ENOSYS);
  }
}

function evtchnOp(ctx: HypercallContext, d: Domain & EvtchnDomain, [cmd, arg]: readonly number[]): HcResult {
  const m = d.mem!;
  const p = arg!;
  const ev = ctx.evtchn;
  const out = (r: number, at: number): HcResult => {
    if (r < 0) return ok(r);
    m.setU32(at, r);
    return ok(0);
  };
  switch (cmd) {
    case X.EVTCHNOP_alloc_unbound: { // { domid_t dom, remote_dom; evtchn_port_t port; }
      const dom = m.u16(p);
      if (dom !== X.DOMID_SELF && dom !== d.domid) return ok(-X.EPERM);
      return out(ev.allocUnbound(d, m.u16(p + 2)), p + 4);
    }
    case X.EVTCHNOP_bind_interdomain: // { domid_t remote_dom; port remote_port; port local_port; }
      return out(ev.bindInterdomain(d, m.u16(p), m.u32(p + 4)), p + 8);
    case X.EVTCHNOP_bind_virq: // { u32 virq; u32 vcpu; port port; }
      return out(ev.bindVirq(d, m.u32(p), m.u32(p + 4)), p + 8);
    case X.EVTCHNOP_bind_ipi: // { u32 vcpu; port port; }
      return out(ev.bindIpi(d, m.u32(p)), p + 4);
    case X.EVTCHNOP_close: return ok(ev.close(d, m.u32(p)));
    case X.EVTCHNOP_send: return ok(ev.send(d, m.u32(p)));
    case X.EVTCHNOP_unmask: return ok(ev.unmask(d, m.u32(p)));
    case X.EVTCHNOP_status: { // { domid_t dom; port port; u32 status; u32 vcpu; union { ... } u; }
      const dom = m.u16(p);
      const target = dom === X.DOMID_SELF || dom === d.domid ? d : undefined;
      if (!target) return ok(-X.EPERM);
      const st = ev.status(target, m.u32(p + 4));
      if (typeof st === 'number') return ok(st);
      m.setU32(p + 8, st.status);
      m.setU32(p + 12, st.vcpu);
      if (st.status === X.EVTCHNSTAT_interdomain) { m.setU16(p + 16, st.a); m.setU32(p + 20, st.b); }
      else m.setU32(p + 16, st.a);
      return ok(0);
    }
    default: return ok(-X.ENOSYS);
  }
}

function gnttabOp(ctx: HypercallContext, d: Domain & GnttabDomain, [cmd, uop, count]: readonly number[]): HcResult {
  const m = d.mem!;
  const n = count! >>> 0;
  if (n > 512) return ok(-X.EINVAL);
  switch (cmd) {
    case X.GNTTABOP_setup_table: { // { domid_t dom; u32 nr_frames; i16 status; handle frame_list; }
      for (let i = 0; i < n; i++) {
        const op = uop! + 16 * i;
        const dom = m.u16(op);
        const want = m.u32(op + 4);
        let status: number = X.GNTST_okay;
        if (dom !== X.DOMID_SELF && dom !== d.domid) status = X.GNTST_permission_denied;
        else if (want > d.grantFrames.length) status = X.GNTST_general_error;
        else for (let f = 0; f < want; f++) m.setU32(m.u32(op + 12) + 4 * f, d.ramBase / 4096 + d.grantFrames[f]!);
        m.setU16(op + 8, status & 0xffff);
      }
      return ok(0);
    }
    case X.GNTTABOP_query_size: { // { domid_t dom; u32 nr_frames; u32 max_nr_frames; i16 status; }
      for (let i = 0; i < n; i++) {
        const op = uop! + 16 * i;
        m.setU32(op + 4, d.grantFrames.length);
        m.setU32(op + 8, d.grantFrames.length);
        m.setU16(op + 12, X.GNTST_okay);
      }
      return ok(0);
    }
    case X.GNTTABOP_map_grant_ref: { // 32 bytes each, docs/abi.md
      for (let i = 0; i < n; i++) {
        const op = uop! + 32 * i;
        const [status, handle] = ctx.gnttab.map(d, m.u32(op), m.u32(op + 8), m.u32(op + 12), m.u16(op + 16));
        m.setU16(op + 18, status & 0xffff);
        m.setU32(op + 20, handle);
      }
      return ok(0);
    }
    case X.GNTTABOP_unmap_grant_ref: { // { u64 host_addr; u64 dev_bus_addr; u32 handle; i16 status; }
      for (let i = 0; i < n; i++) {
        const op = uop! + 24 * i;
        m.setU16(op + 20, ctx.gnttab.unmap(d, m.u32(op), m.u32(op + 16)) & 0xffff);
      }
      return ok(0);
    }
    case X.GNTTABOP_copy: { // { ptr source; ptr dest; u16 len; u16 flags; i16 status; } 24 bytes
      for (let i = 0; i < n; i++) {
        const op = uop! + 24 * i;
        const ptr = (at: number): CopyPtr => ({ ref: m.u32(at), domid: m.u16(at + 4), offset: m.u16(at + 6) });
        const st = ctx.gnttab.copy(d, ptr(op), ptr(op + 8), m.u16(op + 16), m.u16(op + 18));
        m.setU16(op + 20, st & 0xffff);
      }
      return ok(0);
    }
    default: return ok(-X.ENOSYS);
  }
}

function memoryOp(ctx: HypercallContext, d: Domain, [cmd, arg]: readonly number[]): HcResult {
  const m = d.mem!;
  switch (cmd) {
    case X.XENMEM_current_reservation:
    case X.XENMEM_maximum_reservation: {
      const dom = m.u16(arg!);
      if (dom !== X.DOMID_SELF && dom !== d.domid) return ok(-X.EPERM);
      return ok(cmd === X.XENMEM_current_reservation ? d.totPages : d.maxPages);
    }
    case X.XENMEM_increase_reservation:
    case X.XENMEM_populate_physmap:
    case X.XENMEM_decrease_reservation: {
      // struct xen_memory_reservation { xen_pfn_t *extent_start; u32 nr_extents; u32 extent_order; u32 mem_flags; domid_t domid; }
      const list = m.u32(arg!), nr = m.u32(arg! + 4), order = m.u32(arg! + 8), dom = m.u16(arg! + 16);
      if (order !== 0) return ok(-X.EINVAL); // single pages only
      if (dom !== X.DOMID_SELF && dom !== d.domid) return ok(-X.EPERM);
      if (nr > 65536) return ok(-X.EINVAL);
      let done = 0;
      for (; done < nr; done++) {
        const gfn = m.u32(list + 4 * done) - d.ramBase / 4096; // the ABI's frame numbers are address >> 12
        const okDone = cmd === X.XENMEM_decrease_reservation ? ctx.depopulate(d, gfn) : ctx.populate(d, gfn);
        if (!okDone) break;
      }
      return ok(done); // the number of extents done, as Xen returns
    }
    default: return ok(-X.ENOSYS);
  }
}

function vcpuOp(ctx: HypercallContext, d: Domain, v: Vcpu, [cmd, vcpuid, arg]: readonly number[]): HcResult {
  const target = d.vcpus[vcpuid!];
  if (!target) return ok(-X.ENOENT);
  switch (cmd) {
    case X.VCPUOP_up: // arg: { u32 pc; u32 a1 } (docs/abi.md)
      return ok(ctx.vcpuUp(d, vcpuid!, d.mem!.u32(arg!), d.mem!.u32(arg! + 4)));
    case X.VCPUOP_down:
      if (target !== v) return ok(-X.EINVAL); // a vCPU takes itself down
      return ok(ctx.vcpuDown(v), HcAction.STOP);
    case X.VCPUOP_is_up:
      return ok(target.runstate === 3 ? 0 : 1);
    case X.VCPUOP_get_runstate_info: { // { i32 state; u64 state_entry_time; u64 time[4]; } (48 bytes)
      const mm = d.mem!;
      const now = ctx.now();
      mm.setU32(arg!, target.runstate);
      putU64(mm, arg! + 8, target.runstateSince);
      for (let i = 0; i < 4; i++) putU64(mm, arg! + 16 + 8 * i, target.runstateNs[i]! + (i === target.runstate ? now - target.runstateSince : 0));
      return ok(0);
    }
    default: return ok(-X.ENOSYS);
  }
}

function putU64(m: NonNullable<Domain['mem']>, at: number, v: number): void {
  const x = Math.max(0, Math.floor(v));
  m.setU32(at, x % 0x1_0000_0000);
  m.setU32(at + 4, Math.floor(x / 0x1_0000_0000));
}
