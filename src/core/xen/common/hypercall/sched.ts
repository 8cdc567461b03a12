/** sched_op and vcpu_op (public/sched.h, public/vcpu.h). */
import * as X from '../../public/xen';
import * as T from '../../public/structs';
import type { GuestMemory } from '../guestMemory';
import { evtchnIsPending } from '../sharedInfo';
import { HcAction, ok, type Hypercall } from './types';

/** SCHEDOP_poll takes at most this many ports (Xen: the domain's port count; 128 keeps the loop short). */
const MAX_POLL_PORTS = 128;

export const SCHED_OP: Hypercall = {
  nr: X.HYPERVISOR_sched_op,
  name: 'sched_op',
  subOps: [
    { cmd: X.SCHEDOP_yield, name: 'yield', served: 'hypervisor', handler: () => ok(0, HcAction.YIELD) },
    // Served in the vCPU: enable events, then return at once (an event is waiting) or end
    // the slice as BLOCK; the hypervisor looks at the upcall bit again when the slice ends.
    { cmd: X.SCHEDOP_block, name: 'block', served: 'vcpu' },
    {
      cmd: X.SCHEDOP_shutdown,
      name: 'shutdown',
      served: 'hypervisor',
      handler: (ctx, d, v, [, arg]) => {
        const reason = d.mem.u32(arg! + T.sched_shutdown.reason);
        if (reason > X.SHUTDOWN_watchdog) return ok(-X.EINVAL);
        // SHUTDOWN_suspend (Xen's domain_shutdown with it, public/sched.h): every vCPU stops,
        // nothing is freed, and the call returns 0 now; a saved domain restored elsewhere goes
        // on from here with that 0, one resumed in place gets 1 (domainSave.ts resumeSuspended).
        if (reason === X.SHUTDOWN_suspend) return d.kind === 'pv' ? ok(ctx.suspend(d, v), HcAction.STOP) : ok(-X.EINVAL);
        ctx.shutdown(d, reason);
        return ok(0, HcAction.STOP);
      },
    },
    {
      // struct sched_poll { evtchn_port_t *ports; unsigned nr_ports; u64 timeout; }: block until
      // one of the ports is pending, masked or not, or an upcall, or the timeout (absolute
      // system time; the vCPU keeps that timer). As Xen's do_poll: one port wakes only on
      // itself, several on any port of the domain (poll_evtchn = -1). The vCPU counts as a
      // poller before its ports are looked at, so a direct send (evtchnDirect.ts) that
      // marks one meanwhile asks the hypervisor to look again.
      cmd: X.SCHEDOP_poll,
      name: 'poll',
      served: 'hypervisor',
      handler: (ctx, d, v, [, arg]) => {
        const m = d.mem;
        const nrPorts = m.u32(arg! + T.sched_poll.nr_ports);
        if (nrPorts > MAX_POLL_PORTS) return ok(-X.EINVAL);
        const ports: number[] = [];
        for (let i = 0; i < nrPorts; i++) {
          const port = m.u32(m.u32(arg! + T.sched_poll.ports) + 4 * i);
          if (port === 0 || port >= X.NR_EVTCHN_PORTS) return ok(-X.EINVAL);
          ports.push(port);
        }
        v.poll = { port: nrPorts === 1 ? ports[0]! : -1, woken: false };
        ctx.pollersChanged(d);
        for (const port of ports) {
          if (evtchnIsPending(ctx.machine, d.siMachine, port)) {
            v.poll = undefined;
            ctx.pollersChanged(d);
            return ok(0);
          }
        }
        return ok(0, HcAction.POLL);
      },
    },
  ],
};

export const VCPU_OP: Hypercall = {
  nr: X.HYPERVISOR_vcpu_op,
  name: 'vcpu_op',
  subOps: [
    {
      cmd: X.VCPUOP_up,
      name: 'up',
      served: 'hypervisor',
      handler: (ctx, d, _v, [, vcpuid, arg]) => {
        // arg: { u32 pc; u32 a1 } (docs/abi.md)
        if (!d.vcpus[vcpuid!]) return ok(-X.ENOENT);
        return ok(ctx.vcpuUp(d, vcpuid!, d.mem.u32(arg! + T.vcpu_up_args.pc), d.mem.u32(arg! + T.vcpu_up_args.a1)));
      },
    },
    {
      cmd: X.VCPUOP_down,
      name: 'down',
      served: 'hypervisor',
      handler: (ctx, d, v, [, vcpuid]) => {
        const target = d.vcpus[vcpuid!];
        if (!target) return ok(-X.ENOENT);
        if (target !== v) return ok(-X.EINVAL); // a vCPU takes itself down
        return ok(ctx.vcpuDown(v), HcAction.STOP);
      },
    },
    {
      cmd: X.VCPUOP_is_up,
      name: 'is_up',
      served: 'hypervisor',
      handler: (_ctx, d, _v, [, vcpuid]) => {
        const target = d.vcpus[vcpuid!];
        if (!target) return ok(-X.ENOENT);
        return ok(target.runstate === 3 ? 0 : 1);
      },
    },
    {
      cmd: X.VCPUOP_get_runstate_info,
      name: 'get_runstate_info',
      served: 'hypervisor',
      handler: (ctx, d, _v, [, vcpuid, arg]) => {
        // { i32 state; u64 state_entry_time; u64 time[4]; } (48 bytes)
        const target = d.vcpus[vcpuid!];
        if (!target) return ok(-X.ENOENT);
        const now = ctx.now();
        const S = T.vcpu_runstate_info;
        d.mem.setU32(arg! + S.state, target.runstate);
        putU64(d.mem, arg! + S.state_entry_time, target.runstateSince);
        for (let i = 0; i < 4; i++) putU64(d.mem, arg! + S.time + 8 * i, target.runstateNs[i]! + (i === target.runstate ? now - target.runstateSince : 0));
        return ok(0);
      },
    },
  ],
};

function putU64(m: GuestMemory, at: number, v: number): void {
  const x = Math.max(0, Math.floor(v));
  m.setU32(at, x % 0x1_0000_0000);
  m.setU32(at + 4, Math.floor(x / 0x1_0000_0000));
}
