/** grant_table_op (public/grant_table.h): batches of `count` structs, a status in each. */
import * as X from '../../public/xen';
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
      cmd: X.GNTTABOP_map_grant_ref, name: 'map_grant_ref', served: 'hypervisor', // 32 bytes each, docs/abi.md
      handler: batch(32, (ctx, d, op) => {
        const m = d.mem;
        const [status, handle] = ctx.gnttab.map(d, m.u32(op), m.u32(op + 8), m.u32(op + 12), m.u16(op + 16));
        m.setU16(op + 18, status & 0xffff);
        m.setU32(op + 20, handle);
      }),
    },
    {
      cmd: X.GNTTABOP_unmap_grant_ref, name: 'unmap_grant_ref', served: 'hypervisor', // { u64 host_addr; u64 dev_bus_addr; u32 handle; i16 status; }
      handler: batch(24, (ctx, d, op) => d.mem.setU16(op + 20, ctx.gnttab.unmap(d, d.mem.u32(op), d.mem.u32(op + 16)) & 0xffff)),
    },
    {
      cmd: X.GNTTABOP_setup_table, name: 'setup_table', served: 'hypervisor', // { domid_t dom; u32 nr_frames; i16 status; handle frame_list; }
      handler: batch(16, (_ctx, d, op) => {
        const m = d.mem;
        const dom = m.u16(op);
        const want = m.u32(op + 4);
        let status: number = X.GNTST_okay;
        if (dom !== X.DOMID_SELF && dom !== d.domid) status = X.GNTST_permission_denied;
        else if (want > d.grantFrames.length) status = X.GNTST_general_error;
        else for (let f = 0; f < want; f++) m.setU32(m.u32(op + 12) + 4 * f, d.ramBase / 4096 + d.grantFrames[f]!);
        m.setU16(op + 8, status & 0xffff);
      }),
    },
    {
      cmd: X.GNTTABOP_copy, name: 'copy', served: 'hypervisor', // { ptr source; ptr dest; u16 len; u16 flags; i16 status; } 24 bytes
      handler: batch(24, (ctx, d, op) => {
        const m = d.mem;
        const ptr = (at: number): CopyPtr => ({ ref: m.u32(at), domid: m.u16(at + 4), offset: m.u16(at + 6) });
        m.setU16(op + 20, ctx.gnttab.copy(d, ptr(op), ptr(op + 8), m.u16(op + 16), m.u16(op + 18)) & 0xffff);
      }),
    },
    {
      cmd: X.GNTTABOP_query_size, name: 'query_size', served: 'hypervisor', // { domid_t dom; u32 nr_frames; u32 max_nr_frames; i16 status; }
      handler: batch(16, (_ctx, d, op) => {
        const m = d.mem;
        const dom = m.u16(op);
        if (dom !== X.DOMID_SELF && dom !== d.domid) {
          m.setU16(op + 12, X.GNTST_permission_denied & 0xffff);
          return;
        }
        m.setU32(op + 4, d.grantFrames.length);
        m.setU32(op + 8, d.grantFrames.length);
        m.setU16(op + 12, X.GNTST_okay);
      }),
    },
  ],
};
