/** console_io, xen_version and set_timer_op (public/xen.h, public/version.h). */
import * as X from '../../public/xen';
import * as T from '../../public/structs';
import { ok, type Hypercall } from './types';

/** Xen 4.19's ABI numbers; "-hyperlab" says whose implementation it is. */
const XEN_MAJOR = 4,
  XEN_MINOR = 19,
  XEN_EXTRA = '.0-hyperlab';
/** The most bytes one console_io call moves. */
const CONSOLEIO_MAX = 65536;

export const CONSOLE_IO: Hypercall = {
  nr: X.HYPERVISOR_console_io,
  name: 'console_io',
  subOps: [
    {
      cmd: X.CONSOLEIO_write,
      name: 'write',
      served: 'hypervisor',
      handler: (ctx, d, _v, [, count, buf]) => {
        const n = count! >>> 0;
        if (n > CONSOLEIO_MAX) return ok(-X.EINVAL);
        ctx.consoleWrite(d, d.mem.read(buf!, n));
        return ok(0);
      },
    },
    {
      cmd: X.CONSOLEIO_read,
      name: 'read',
      served: 'hypervisor',
      handler: (ctx, d, _v, [, count, buf]) => {
        const n = count! >>> 0;
        if (n > CONSOLEIO_MAX) return ok(-X.EINVAL);
        d.mem.check(buf!, n, true); // the buffer first: input is not taken out of the queue for a bad one
        const bytes = ctx.consoleRead(d, n);
        d.mem.write(buf!, bytes);
        return ok(bytes.length);
      },
    },
  ],
};

export const XEN_VERSION: Hypercall = {
  nr: X.HYPERVISOR_xen_version,
  name: 'xen_version',
  subOps: [
    { cmd: X.XENVER_version, name: 'version', served: 'hypervisor', handler: () => ok((XEN_MAJOR << 16) | XEN_MINOR) },
    {
      cmd: X.XENVER_extraversion,
      name: 'extraversion',
      served: 'hypervisor',
      handler: (_ctx, d, _v, [, arg]) => {
        const s = new Uint8Array(16);
        s.set(new TextEncoder().encode(XEN_EXTRA));
        d.mem.write(arg!, s);
        return ok(0);
      },
    },
    {
      cmd: X.XENVER_get_features,
      name: 'get_features',
      served: 'hypervisor',
      handler: (_ctx, d, _v, [, arg]) => {
        d.mem.setU32(arg! + T.xen_feature_info.submap, 0);
        return ok(0);
      },
    },
    { cmd: X.XENVER_pagesize, name: 'pagesize', served: 'hypervisor', handler: () => ok(4096) },
  ],
};

/** set_timer_op(u64 timeout): the timer is the vCPU's, so the vCPU serves it (VcpuRunner). */
export const SET_TIMER_OP: Hypercall = {
  nr: X.HYPERVISOR_set_timer_op,
  name: 'set_timer_op',
  op: { name: 'set_timer_op', served: 'vcpu' },
};
