/** grant_table_op (public/grant_table.h): batches of `count` structs, a status in each. */
import * as X from '../../public/xen';
import * as T from '../../public/structs';
import type { CopyPtr } from '../gnttab';
import { ok, type Handler, type Hypercall, type PvCaller } from './types';

/** Most structs in one batch (Xen preempts long batches; hyperlab refuses them). */
const MAX_BATCH = 512;

/** Run `one` for each of the `count` structs of `size` bytes at `uop`. */
function batch(size: number, one: (ctx: Parameters<Handler>[0], d: PvCaller, op: number) => void): Handler {
  return (ctx, d, _v, [, uop, count]) => {
    const n = count! >>> 0;
    if (n > MAX_BATCH) return ok(-X.EINVAL);
    for (let i = 0; i < n; i++) one(ctx, d, uop! + size * i);
    return ok(0);
  };
}

export const GRANT_TABLE_OP: Hypercall = {
  nr: X.HYPERVISOR_grant_table_op,
  name: 'grant_table_op',
  subOps: [
    {
      cmd: X.GNTTABOP_map_grant_ref,
      name: 'map_grant_ref',
      served: 'hypervisor', // docs/abi.md
      handler: batch(T.gnttab_map_grant_ref.SIZE, (ctx, d, op) => {
        const m = d.mem;
        const S = T.gnttab_map_grant_ref;
        const [status, handle] = ctx.gnttab.map(d, m.u32(op + S.host_addr), m.u32(op + S.flags), m.u32(op + S.ref), m.u16(op + S.dom));
        m.setU16(op + S.status, status & 0xffff);
        m.setU32(op + S.handle, handle);
      }),
    },
    {
      cmd: X.GNTTABOP_unmap_grant_ref,
      name: 'unmap_grant_ref',
      served: 'hypervisor',
      handler: batch(T.gnttab_unmap_grant_ref.SIZE, (ctx, d, op) => {
        const S = T.gnttab_unmap_grant_ref;
        d.mem.setU16(op + S.status, ctx.gnttab.unmap(d, d.mem.u32(op + S.host_addr), d.mem.u32(op + S.handle)) & 0xffff);
      }),
    },
    {
      cmd: X.GNTTABOP_setup_table,
      name: 'setup_table',
      served: 'hypervisor',
      handler: batch(T.gnttab_setup_table.SIZE, (_ctx, d, op) => {
        const m = d.mem;
        const S = T.gnttab_setup_table;
        const dom = m.u16(op + S.dom);
        const want = m.u32(op + S.nr_frames);
        let status: number = X.GNTST_okay;
        if (dom !== X.DOMID_SELF && dom !== d.domid) status = X.GNTST_permission_denied;
        else if (want > d.grantFrames.length) status = X.GNTST_general_error;
        else for (let f = 0; f < want; f++) m.setU32(m.u32(op + S.frame_list) + 4 * f, d.ramBase / 4096 + d.grantFrames[f]!);
        m.setU16(op + S.status, status & 0xffff);
      }),
    },
    {
      cmd: X.GNTTABOP_copy,
      name: 'copy',
      served: 'hypervisor',
      handler: batch(T.gnttab_copy.SIZE, (ctx, d, op) => {
        const m = d.mem;
        const S = T.gnttab_copy,
          P = T.gnttab_copy_ptr;
        const ptr = (at: number): CopyPtr => ({ ref: m.u32(at + P.u), domid: m.u16(at + P.domid), offset: m.u16(at + P.offset) });
        m.setU16(op + S.status, ctx.gnttab.copy(d, ptr(op + S.source), ptr(op + S.dest), m.u16(op + S.len), m.u16(op + S.flags)) & 0xffff);
      }),
    },
    {
      cmd: X.GNTTABOP_query_size,
      name: 'query_size',
      served: 'hypervisor',
      handler: batch(T.gnttab_query_size.SIZE, (_ctx, d, op) => {
        const m = d.mem;
        const S = T.gnttab_query_size;
        const dom = m.u16(op + S.dom);
        if (dom !== X.DOMID_SELF && dom !== d.domid) {
          m.setU16(op + S.status, X.GNTST_permission_denied & 0xffff);
          return;
        }
        m.setU32(op + S.nr_frames, d.grantFrames.length);
        m.setU32(op + S.max_nr_frames, d.grantFrames.length);
        m.setU16(op + S.status, X.GNTST_okay);
      }),
    },
  ],
};
