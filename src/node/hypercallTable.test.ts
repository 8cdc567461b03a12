/**
 * The hypercall table, row by row (issue 11): every hypercall and sub-operation is called
 * with valid and with invalid arguments and answers with Xen's result or error code. The
 * arguments are laid out in the guest's memory as a guest would; the domains' vCPUs are
 * never started (the host starts nothing), so the test alone writes their memory. A last
 * test checks that every row of the table has a case here, and that the operations the
 * table gives to the vCPU are the ones the vCPU runner serves.
 */
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { Runstate, type Domain } from '../core/xen/common/domain';
import { HcAction, HYPERCALLS, hypercall, operation } from '../core/xen/common/hypercalls';
import { Hypervisor, type VcpuHost } from '../core/xen/common/hypervisor';
import { VCPU_SERVED_OPS } from '../core/xen/vcpu/pvHypercalls';
import * as X from '../core/xen/public/xen';
import { parseXlConfig } from '../core/tools/xlConfig';
import { guestImage } from './paths';

const idleHost: VcpuHost = { start: () => ({ terminate: () => {} }) };
const kernel = readFileSync(guestImage('teaching-os-pv'));
let hv: Hypervisor;
let a: Domain, b: Domain;
/** A scratch page in a's RAM for argument structs, and an address with no frame behind it. */
let S: number;
const BAD = 0x1000;

beforeEach(() => {
  hv?.shutdownHost();
  hv = new Hypervisor({ memoryMiB: 64, pcpus: 1, host: idleHost });
  const cfg = (name: string): ReturnType<typeof parseXlConfig> =>
    parseXlConfig(`name = "${name}"\ntype = "pv"\nmemory = 8\nmaxmem = 12\nvcpus = 2\nkernel = "k"\non_poweroff = "preserve"`);
  a = hv.createDomain(cfg('a'), { kernel });
  b = hv.createDomain(cfg('b'), { kernel });
  S = a.ramBase + 4 * 1024 * 1024;
});

const m = (d: Domain = a): NonNullable<Domain['mem']> => d.mem!;
const call = (nr: number, args: number[], d: Domain = a, vcpu = 0): { ret: number; action: number } =>
  hypercall(hv, d.vcpus[vcpu]!, nr, [...args, 0, 0, 0, 0, 0].slice(0, 5));
/** Write u32 words at S (and return S). */
function words(...w: number[]): number {
  w.forEach((x, i) => m().setU32(S + 4 * i, x));
  return S;
}

interface Row {
  nr: number;
  cmd?: number;
  name: string;
  run: () => void;
}

const H = {
  console: X.HYPERVISOR_console_io,
  version: X.HYPERVISOR_xen_version,
  sched: X.HYPERVISOR_sched_op,
  vcpu: X.HYPERVISOR_vcpu_op,
  evtchn: X.HYPERVISOR_event_channel_op,
  gnttab: X.HYPERVISOR_grant_table_op,
  memory: X.HYPERVISOR_memory_op,
};

const rows: Row[] = [
  // ---- console_io ----
  {
    nr: H.console,
    cmd: X.CONSOLEIO_write,
    name: 'write: the bytes reach the console; too long EINVAL; bad buffer EFAULT',
    run: () => {
      m().write(S, new TextEncoder().encode('hi!'));
      expect(call(H.console, [X.CONSOLEIO_write, 3, S]).ret).toBe(0);
      expect(String.fromCharCode(...a.console)).toContain('hi!');
      expect(call(H.console, [X.CONSOLEIO_write, 65537, S]).ret).toBe(-X.EINVAL);
      expect(call(H.console, [X.CONSOLEIO_write, 3, BAD]).ret).toBe(-X.EFAULT);
    },
  },
  {
    nr: H.console,
    cmd: X.CONSOLEIO_read,
    name: 'read: returns queued input; a bad buffer is EFAULT and loses no input',
    run: () => {
      a.consoleIn.push(65, 66);
      expect(call(H.console, [X.CONSOLEIO_read, 16, BAD]).ret).toBe(-X.EFAULT);
      expect(a.consoleIn).toEqual([65, 66]);
      expect(call(H.console, [X.CONSOLEIO_read, 16, S]).ret).toBe(2);
      expect([m().u8At(S), m().u8At(S + 1)]).toEqual([65, 66]);
      expect(call(H.console, [X.CONSOLEIO_read, 65537, S]).ret).toBe(-X.EINVAL);
    },
  },
  // ---- xen_version ----
  { nr: H.version, cmd: X.XENVER_version, name: 'version: 4.19', run: () => expect(call(H.version, [X.XENVER_version]).ret).toBe((4 << 16) | 19) },
  {
    nr: H.version,
    cmd: X.XENVER_extraversion,
    name: 'extraversion: the string; bad pointer EFAULT',
    run: () => {
      expect(call(H.version, [X.XENVER_extraversion, S]).ret).toBe(0);
      expect(new TextDecoder().decode(m().read(S, 11))).toBe('.0-hyperlab');
      expect(call(H.version, [X.XENVER_extraversion, BAD]).ret).toBe(-X.EFAULT);
    },
  },
  {
    nr: H.version,
    cmd: X.XENVER_get_features,
    name: 'get_features: no features; bad pointer EFAULT',
    run: () => {
      words(0, 0xffff_ffff);
      expect(call(H.version, [X.XENVER_get_features, S]).ret).toBe(0);
      expect(m().u32(S + 4)).toBe(0);
      expect(call(H.version, [X.XENVER_get_features, BAD]).ret).toBe(-X.EFAULT);
    },
  },
  { nr: H.version, cmd: X.XENVER_pagesize, name: 'pagesize: 4096', run: () => expect(call(H.version, [X.XENVER_pagesize]).ret).toBe(4096) },
  // ---- set_timer_op: the vCPU's ----
  {
    nr: X.HYPERVISOR_set_timer_op,
    name: 'served in the vCPU: the hypervisor thread answers ENOSYS',
    run: () => {
      expect(call(X.HYPERVISOR_set_timer_op, [1000, 0]).ret).toBe(-X.ENOSYS);
    },
  },
  // ---- sched_op ----
  {
    nr: H.sched,
    cmd: X.SCHEDOP_yield,
    name: 'yield: 0, and the slice ends',
    run: () => expect(call(H.sched, [X.SCHEDOP_yield])).toEqual({ ret: 0, action: HcAction.YIELD }),
  },
  {
    nr: H.sched,
    cmd: X.SCHEDOP_block,
    name: 'block: served in the vCPU (ENOSYS here)',
    run: () => expect(call(H.sched, [X.SCHEDOP_block]).ret).toBe(-X.ENOSYS),
  },
  {
    nr: H.sched,
    cmd: X.SCHEDOP_shutdown,
    name: 'shutdown: a bad reason EINVAL, a bad pointer EFAULT, poweroff stops the domain',
    run: () => {
      expect(call(H.sched, [X.SCHEDOP_shutdown, words(9)]).ret).toBe(-X.EINVAL);
      expect(call(H.sched, [X.SCHEDOP_shutdown, BAD]).ret).toBe(-X.EFAULT);
      expect(a.shutdownReason).toBeNull();
      expect(call(H.sched, [X.SCHEDOP_shutdown, words(X.SHUTDOWN_poweroff)])).toEqual({ ret: 0, action: HcAction.STOP });
      expect(a.shutdownReason).toBe('poweroff');
    },
  },
  {
    nr: H.sched,
    cmd: X.SCHEDOP_poll,
    name: 'poll: too many ports or port 0 EINVAL; a pending port returns at once; otherwise the vCPU polls',
    run: () => {
      const ports = S + 64;
      m().setU32(ports, 5);
      expect(call(H.sched, [X.SCHEDOP_poll, words(ports, 129)]).ret).toBe(-X.EINVAL);
      m().setU32(ports, 0);
      expect(call(H.sched, [X.SCHEDOP_poll, words(ports, 1)]).ret).toBe(-X.EINVAL);
      m().setU32(ports, 5);
      expect(call(H.sched, [X.SCHEDOP_poll, words(ports, 1, 0, 0)])).toEqual({ ret: 0, action: HcAction.POLL });
      expect(a.vcpus[0]!.poll).toEqual({ port: 5, woken: false });
      m().orU32(a.sharedInfo + X.SI_EVTCHN_PENDING, 1 << 5);
      expect(call(H.sched, [X.SCHEDOP_poll, words(ports, 1, 0, 0)])).toEqual({ ret: 0, action: HcAction.NONE });
      expect(call(H.sched, [X.SCHEDOP_poll, BAD]).ret).toBe(-X.EFAULT);
    },
  },
  // ---- vcpu_op ----
  {
    nr: H.vcpu,
    cmd: X.VCPUOP_up,
    name: 'up: an unknown vCPU ENOENT, a running one EINVAL, an offline one starts',
    run: () => {
      expect(call(H.vcpu, [X.VCPUOP_up, 7, words(0x8000_0000, 0)]).ret).toBe(-X.ENOENT);
      expect(call(H.vcpu, [X.VCPUOP_up, 0, words(0x8000_0000, 0)]).ret).toBe(-X.EINVAL);
      expect(a.vcpus[1]!.runstate).toBe(Runstate.OFFLINE);
      expect(call(H.vcpu, [X.VCPUOP_up, 1, BAD]).ret).toBe(-X.EFAULT);
      expect(call(H.vcpu, [X.VCPUOP_up, 1, words(0x8000_0000, 0)]).ret).toBe(0);
      expect(a.vcpus[1]!.startAt).toEqual([0x8000_0000, 0]);
      expect(call(H.vcpu, [X.VCPUOP_up, 1, words(0x8000_0000, 0)]).ret).toBe(-X.EINVAL); // up already
    },
  },
  {
    nr: H.vcpu,
    cmd: X.VCPUOP_down,
    name: 'down: only the calling vCPU itself',
    run: () => {
      expect(call(H.vcpu, [X.VCPUOP_down, 1], a, 0).ret).toBe(-X.EINVAL);
      expect(call(H.vcpu, [X.VCPUOP_down, 9], a, 0).ret).toBe(-X.ENOENT);
      expect(call(H.vcpu, [X.VCPUOP_down, 0], a, 0)).toEqual({ ret: 0, action: HcAction.STOP });
    },
  },
  {
    nr: H.vcpu,
    cmd: X.VCPUOP_is_up,
    name: 'is_up: 1 for a vCPU that is up, 0 for an offline one',
    run: () => {
      expect(call(H.vcpu, [X.VCPUOP_is_up, 0]).ret).toBe(1);
      expect(call(H.vcpu, [X.VCPUOP_is_up, 1]).ret).toBe(0);
      expect(call(H.vcpu, [X.VCPUOP_is_up, 8]).ret).toBe(-X.ENOENT);
    },
  },
  {
    nr: H.vcpu,
    cmd: X.VCPUOP_get_runstate_info,
    name: 'get_runstate_info: the runstate; bad pointer EFAULT',
    run: () => {
      expect(call(H.vcpu, [X.VCPUOP_get_runstate_info, 1, S]).ret).toBe(0);
      expect(m().u32(S)).toBe(Runstate.OFFLINE);
      expect(call(H.vcpu, [X.VCPUOP_get_runstate_info, 1, BAD]).ret).toBe(-X.EFAULT);
    },
  },
  // ---- event_channel_op ----
  {
    nr: H.evtchn,
    cmd: X.EVTCHNOP_alloc_unbound,
    name: 'alloc_unbound: a port for a peer; another dom EPERM; no such peer ESRCH',
    run: () => {
      expect(call(H.evtchn, [X.EVTCHNOP_alloc_unbound, words(X.DOMID_SELF | (b.domid << 16), 0)]).ret).toBe(0);
      expect(a.ports[m().u32(S + 4)]?.s).toEqual({ state: 'unbound', remoteDomid: b.domid });
      expect(call(H.evtchn, [X.EVTCHNOP_alloc_unbound, words(b.domid | (b.domid << 16), 0)]).ret).toBe(-X.EPERM);
      expect(call(H.evtchn, [X.EVTCHNOP_alloc_unbound, words(X.DOMID_SELF | (999 << 16), 0)]).ret).toBe(-X.ESRCH);
    },
  },
  {
    nr: H.evtchn,
    cmd: X.EVTCHNOP_bind_interdomain,
    name: "bind_interdomain: to a peer's unbound port; a wrong port EINVAL; no such domain ESRCH",
    run: () => {
      const rp = hv.evtchn.allocUnbound(b, a.domid);
      expect(call(H.evtchn, [X.EVTCHNOP_bind_interdomain, words(b.domid, rp, 0)]).ret).toBe(0);
      expect(a.ports[m().u32(S + 8)]?.s).toEqual({ state: 'interdomain', remoteDomid: b.domid, remotePort: rp });
      expect(call(H.evtchn, [X.EVTCHNOP_bind_interdomain, words(b.domid, 900, 0)]).ret).toBe(-X.EINVAL);
      expect(call(H.evtchn, [X.EVTCHNOP_bind_interdomain, words(999, rp, 0)]).ret).toBe(-X.ESRCH);
    },
  },
  {
    nr: H.evtchn,
    cmd: X.EVTCHNOP_bind_virq,
    name: 'bind_virq: once per vCPU (EEXIST after); bad virq EINVAL; bad vCPU ENOENT',
    run: () => {
      expect(call(H.evtchn, [X.EVTCHNOP_bind_virq, words(X.VIRQ_CONSOLE, 0, 0)]).ret).toBe(0);
      expect(call(H.evtchn, [X.EVTCHNOP_bind_virq, words(X.VIRQ_CONSOLE, 0, 0)]).ret).toBe(-X.EEXIST);
      expect(call(H.evtchn, [X.EVTCHNOP_bind_virq, words(99, 0, 0)]).ret).toBe(-X.EINVAL);
      expect(call(H.evtchn, [X.EVTCHNOP_bind_virq, words(X.VIRQ_CONSOLE, 5, 0)]).ret).toBe(-X.ENOENT);
    },
  },
  {
    nr: H.evtchn,
    cmd: X.EVTCHNOP_bind_ipi,
    name: 'bind_ipi: a port; bad vCPU ENOENT',
    run: () => {
      expect(call(H.evtchn, [X.EVTCHNOP_bind_ipi, words(1, 0)]).ret).toBe(0);
      expect(a.ports[m().u32(S + 4)]).toEqual({ s: { state: 'ipi' }, vcpu: 1 });
      expect(call(H.evtchn, [X.EVTCHNOP_bind_ipi, words(2, 0)]).ret).toBe(-X.ENOENT);
    },
  },
  {
    nr: H.evtchn,
    cmd: X.EVTCHNOP_close,
    name: 'close: a bound port; a free or wild one EINVAL',
    run: () => {
      const p = hv.evtchn.bindIpi(a, 0);
      expect(call(H.evtchn, [X.EVTCHNOP_close, words(p)]).ret).toBe(0);
      expect(call(H.evtchn, [X.EVTCHNOP_close, words(p)]).ret).toBe(-X.EINVAL);
      expect(call(H.evtchn, [X.EVTCHNOP_close, words(0xffff_ffff)]).ret).toBe(-X.EINVAL);
    },
  },
  {
    nr: H.evtchn,
    cmd: X.EVTCHNOP_send,
    name: 'send (when not on the direct path): an IPI port becomes pending; a wild port EINVAL',
    run: () => {
      const p = hv.evtchn.bindIpi(a, 0);
      expect(call(H.evtchn, [X.EVTCHNOP_send, words(p)]).ret).toBe(0);
      expect(m().u32(a.sharedInfo + X.SI_EVTCHN_PENDING) & (1 << p)).not.toBe(0);
      expect(call(H.evtchn, [X.EVTCHNOP_send, words(5000)]).ret).toBe(-X.EINVAL);
      expect(call(H.evtchn, [X.EVTCHNOP_send, BAD]).ret).toBe(-X.EFAULT);
    },
  },
  {
    nr: H.evtchn,
    cmd: X.EVTCHNOP_status,
    name: "status: its own port's state; another domain's EPERM; a wild port EINVAL",
    run: () => {
      const p = hv.evtchn.bindIpi(a, 1);
      expect(call(H.evtchn, [X.EVTCHNOP_status, words(X.DOMID_SELF, p, 0, 0)]).ret).toBe(0);
      expect([m().u32(S + 8), m().u32(S + 12)]).toEqual([X.EVTCHNSTAT_ipi, 1]);
      expect(call(H.evtchn, [X.EVTCHNOP_status, words(b.domid, p, 0, 0)]).ret).toBe(-X.EPERM);
      expect(call(H.evtchn, [X.EVTCHNOP_status, words(X.DOMID_SELF, 4096, 0, 0)]).ret).toBe(-X.EINVAL);
    },
  },
  {
    nr: H.evtchn,
    cmd: X.EVTCHNOP_unmask,
    name: 'unmask: clears the mask bit; a wild port EINVAL',
    run: () => {
      const p = hv.evtchn.bindIpi(a, 0);
      m().orU32(a.sharedInfo + X.SI_EVTCHN_MASK, 1 << p);
      expect(call(H.evtchn, [X.EVTCHNOP_unmask, words(p)]).ret).toBe(0);
      expect(m().u32(a.sharedInfo + X.SI_EVTCHN_MASK) & (1 << p)).toBe(0);
      expect(call(H.evtchn, [X.EVTCHNOP_unmask, words(0)]).ret).toBe(-X.EINVAL);
    },
  },
  // ---- grant_table_op ----
  {
    nr: H.gnttab,
    cmd: X.GNTTABOP_setup_table,
    name: "setup_table: the frames' numbers; another domain permission_denied; more frames than there are general_error",
    run: () => {
      const list = S + 256;
      expect(call(H.gnttab, [X.GNTTABOP_setup_table, words(X.DOMID_SELF, 2, 0, list), 1]).ret).toBe(0);
      expect(m().u16(S + 8)).toBe(X.GNTST_okay);
      expect(m().u32(list)).toBe(a.ramBase / 4096 + a.grantFrames[0]!);
      call(H.gnttab, [X.GNTTABOP_setup_table, words(b.domid, 1, 0, list), 1]);
      expect(m().u16(S + 8)).toBe(X.GNTST_permission_denied & 0xffff);
      call(H.gnttab, [X.GNTTABOP_setup_table, words(X.DOMID_SELF, 99, 0, list), 1]);
      expect(m().u16(S + 8)).toBe(X.GNTST_general_error & 0xffff);
      expect(call(H.gnttab, [X.GNTTABOP_setup_table, S, 513]).ret).toBe(-X.EINVAL);
    },
  },
  {
    nr: H.gnttab,
    cmd: X.GNTTABOP_query_size,
    name: 'query_size: frames in use and at most',
    run: () => {
      expect(call(H.gnttab, [X.GNTTABOP_query_size, words(X.DOMID_SELF, 0, 0, 0xffff), 1]).ret).toBe(0);
      expect([m().u32(S + 4), m().u32(S + 8), m().u16(S + 12)]).toEqual([a.grantFrames.length, a.grantFrames.length, X.GNTST_okay]);
      call(H.gnttab, [X.GNTTABOP_query_size, words(b.domid, 0, 0, 0), 1]);
      expect(m().u16(S + 12)).toBe(X.GNTST_permission_denied & 0xffff);
    },
  },
  {
    nr: H.gnttab,
    cmd: X.GNTTABOP_map_grant_ref,
    name: "map_grant_ref: b's grant maps into the grant window; a bad ref bad_gntref; a batch over 512 EINVAL",
    run: () => {
      const bm = m(b);
      const gt = b.ramBase + b.grantFrames[0]! * 4096;
      bm.setU32(gt + 3 * 8 + 4, b.ramBase / 4096 + 100);
      bm.setU32(gt + 3 * 8, X.GTF_permit_access | (a.domid << 16));
      const window = a.ramBase + 12 * 1024 * 1024; // above maxmem
      expect(call(H.gnttab, [X.GNTTABOP_map_grant_ref, words(window, 0, X.GNTMAP_host_map, 3, b.domid, 0, 0, 0), 1]).ret).toBe(0);
      expect(m().u16(S + 18)).toBe(X.GNTST_okay);
      expect(a.maptrack.size).toBe(1);
      call(H.gnttab, [X.GNTTABOP_map_grant_ref, words(window + 4096, 0, X.GNTMAP_host_map, 5000, b.domid, 0, 0, 0), 1]);
      expect(m().u16(S + 18)).toBe(X.GNTST_bad_gntref & 0xffff);
      expect(call(H.gnttab, [X.GNTTABOP_map_grant_ref, S, 513]).ret).toBe(-X.EINVAL);
      expect(call(H.gnttab, [X.GNTTABOP_map_grant_ref, BAD, 1]).ret).toBe(-X.EFAULT);
    },
  },
  {
    nr: H.gnttab,
    cmd: X.GNTTABOP_unmap_grant_ref,
    name: 'unmap_grant_ref: an unknown handle bad_handle',
    run: () => {
      expect(call(H.gnttab, [X.GNTTABOP_unmap_grant_ref, words(0, 0, 0, 0, 12345, 0), 1]).ret).toBe(0);
      expect(m().u16(S + 20)).toBe(X.GNTST_bad_handle & 0xffff);
    },
  },
  {
    nr: H.gnttab,
    cmd: X.GNTTABOP_copy,
    name: 'copy: between two frames of its own; a copy past the page bad_copy_arg',
    run: () => {
      const frame = (S >>> 12) + 1;
      m().write(S + 4096, Uint8Array.of(7, 8, 9));
      // source {ref=frame, dom=SELF, off=0}, dest {ref=frame, dom=SELF, off=100}, len 3, flags 0
      words(frame, X.DOMID_SELF, frame, X.DOMID_SELF | (100 << 16), 3, 0);
      expect(call(H.gnttab, [X.GNTTABOP_copy, S, 1]).ret).toBe(0);
      expect(m().u16(S + 20)).toBe(X.GNTST_okay);
      expect([...m().read(S + 4096 + 100, 3)]).toEqual([7, 8, 9]);
      words(frame, X.DOMID_SELF | (4000 << 16), frame, X.DOMID_SELF, 200, 0);
      call(H.gnttab, [X.GNTTABOP_copy, S, 1]);
      expect(m().u16(S + 20)).toBe(X.GNTST_bad_copy_arg & 0xffff);
    },
  },
  // ---- memory_op ----
  {
    nr: H.memory,
    cmd: X.XENMEM_current_reservation,
    name: "current_reservation: its pages; another domain's EPERM",
    run: () => {
      expect(call(H.memory, [X.XENMEM_current_reservation, words(X.DOMID_SELF)]).ret).toBe(2048);
      expect(call(H.memory, [X.XENMEM_current_reservation, words(b.domid)]).ret).toBe(-X.EPERM);
    },
  },
  {
    nr: H.memory,
    cmd: X.XENMEM_maximum_reservation,
    name: 'maximum_reservation: maxmem in pages',
    run: () => {
      expect(call(H.memory, [X.XENMEM_maximum_reservation, words(X.DOMID_SELF)]).ret).toBe(3072);
    },
  },
  {
    nr: H.memory,
    cmd: X.XENMEM_decrease_reservation,
    name: 'decrease_reservation: an ordinary page goes; a special page stays; order > 0 EINVAL',
    run: () => {
      const list = S + 256;
      m().setU32(list, (S >>> 12) + 2);
      expect(call(H.memory, [X.XENMEM_decrease_reservation, words(list, 1, 0, 0, X.DOMID_SELF)]).ret).toBe(1);
      expect(a.totPages).toBe(2047);
      m().setU32(list, a.sharedInfo >>> 12);
      expect(call(H.memory, [X.XENMEM_decrease_reservation, words(list, 1, 0, 0, X.DOMID_SELF)]).ret).toBe(0);
      expect(call(H.memory, [X.XENMEM_decrease_reservation, words(list, 1, 1, 0, X.DOMID_SELF)]).ret).toBe(-X.EINVAL);
      expect(call(H.memory, [X.XENMEM_decrease_reservation, words(list, 70000, 0, 0, X.DOMID_SELF)]).ret).toBe(-X.EINVAL);
    },
  },
  {
    nr: H.memory,
    cmd: X.XENMEM_increase_reservation,
    name: 'increase_reservation: up to maxmem, never over a populated page',
    run: () => {
      const list = S + 256;
      m().setU32(list, (a.ramBase >>> 12) + 2100); // above memory, below maxmem
      expect(call(H.memory, [X.XENMEM_increase_reservation, words(list, 1, 0, 0, X.DOMID_SELF)]).ret).toBe(1);
      expect(call(H.memory, [X.XENMEM_increase_reservation, words(list, 1, 0, 0, X.DOMID_SELF)]).ret).toBe(0); // populated now
      m().setU32(list, (a.ramBase >>> 12) + 4000); // beyond maxmem
      expect(call(H.memory, [X.XENMEM_increase_reservation, words(list, 1, 0, 0, X.DOMID_SELF)]).ret).toBe(0);
      expect(call(H.memory, [X.XENMEM_increase_reservation, words(list, 1, 0, 0, b.domid)]).ret).toBe(-X.EPERM);
    },
  },
  {
    nr: H.memory,
    cmd: X.XENMEM_populate_physmap,
    name: 'populate_physmap: as increase_reservation',
    run: () => {
      const list = S + 256;
      m().setU32(list, (a.ramBase >>> 12) + 2101);
      expect(call(H.memory, [X.XENMEM_populate_physmap, words(list, 1, 0, 0, X.DOMID_SELF)]).ret).toBe(1);
      expect(a.totPages).toBe(2049);
    },
  },
];

describe('the hypercall table', () => {
  it.each(rows.map((r) => [`${operation(r.nr, r.cmd ?? 0)?.name ?? '?'} (${r.nr}/${r.cmd ?? '-'}): ${r.name}`, r] as const))('%s', (_n, r) => r.run());

  it('unknown hypercalls and sub-operations are ENOSYS', () => {
    expect(call(63, [0]).ret).toBe(-X.ENOSYS);
    for (const h of HYPERCALLS) if ('subOps' in h) expect(call(h.nr, [0x7777]).ret).toBe(-X.ENOSYS);
  });

  it('every operation of the table has a row here, and the vCPU serves exactly those the table gives it', () => {
    const covered = new Set(rows.map((r) => `${r.nr}/${r.cmd ?? '-'}`));
    const vcpuOps: string[] = [];
    for (const h of HYPERCALLS) {
      const ops = 'op' in h ? [{ ...h.op, cmd: undefined }] : h.subOps;
      for (const op of ops) {
        expect(covered, `${h.name} ${op.name}`).toContain(`${h.nr}/${op.cmd ?? '-'}`);
        if (op.served !== 'hypervisor') vcpuOps.push(op.name);
        if (op.served !== 'vcpu') expect(op.handler, `${h.name} ${op.name} needs a handler`).toBeDefined();
      }
    }
    expect(vcpuOps.sort()).toEqual([...VCPU_SERVED_OPS].sort());
  });
});
