/** memory_op (public/memory.h): reservations, single pages only. */
import * as X from '../../public/xen';
import * as T from '../../public/structs';
import { ok, type Handler, type Hypercall } from './types';

/** Most extents in one call (Xen preempts long ones; hyperlab stops early, as the ABI allows). */
const MAX_EXTENTS = 65536;

const reservation =
  (what: 'current' | 'maximum'): Handler =>
  (_ctx, d, _v, [, arg]) => {
    const dom = d.mem.u16(arg!); // a domid_t, the argument of current/maximum_reservation
    if (dom !== X.DOMID_SELF && dom !== d.domid) return ok(-X.EPERM);
    return ok(what === 'current' ? d.totPages : d.maxPages);
  };

/**
 * struct xen_memory_reservation { xen_pfn_t *extent_start; u32 nr_extents; u32 extent_order;
 * u32 mem_flags; domid_t domid; }: returns the number of extents done, as Xen does.
 */
const change =
  (give: boolean): Handler =>
  (ctx, d, _v, [, arg]) => {
    const m = d.mem;
    const S = T.xen_memory_reservation;
    const list = m.u32(arg! + S.extent_start),
      nr = m.u32(arg! + S.nr_extents),
      order = m.u32(arg! + S.extent_order),
      dom = m.u16(arg! + S.domid);
    if (order !== 0) return ok(-X.EINVAL); // single pages only
    if (dom !== X.DOMID_SELF && dom !== d.domid) return ok(-X.EPERM);
    if (nr > MAX_EXTENTS) return ok(-X.EINVAL);
    let done = 0;
    for (; done < nr; done++) {
      const gfn = m.u32(list + 4 * done) - d.ramBase / 4096; // the ABI's frame numbers are address >> 12
      if (!(give ? ctx.depopulate(d, gfn) : ctx.populate(d, gfn))) break;
    }
    return ok(done);
  };

export const MEMORY_OP: Hypercall = {
  nr: X.HYPERVISOR_memory_op,
  name: 'memory_op',
  subOps: [
    { cmd: X.XENMEM_increase_reservation, name: 'increase_reservation', served: 'hypervisor', handler: change(false) },
    { cmd: X.XENMEM_decrease_reservation, name: 'decrease_reservation', served: 'hypervisor', handler: change(true) },
    { cmd: X.XENMEM_current_reservation, name: 'current_reservation', served: 'hypervisor', handler: reservation('current') },
    { cmd: X.XENMEM_maximum_reservation, name: 'maximum_reservation', served: 'hypervisor', handler: reservation('maximum') },
    { cmd: X.XENMEM_populate_physmap, name: 'populate_physmap', served: 'hypervisor', handler: change(false) },
  ],
};
