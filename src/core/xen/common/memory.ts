/**
 * Populating and giving back a domain's pages (Xen's common/memory.c: the reservation
 * operations of memory_op, and the balloon driver's side of them). Hypervisor thread.
 */
import type { Domain } from './domain';
import type { GrantTables } from './gnttab';
import type { MachineMemory } from './machineMemory';

/** XENMEM_increase_reservation / populate_physmap of one page: up to maxmem, never over a populated page. */
export function populatePage(memory: MachineMemory, d: Domain, gfn: number): boolean {
  if (!Number.isInteger(gfn) || gfn < 0 || gfn >= d.maxPages || d.totPages >= d.maxPages || d.p2m.get(gfn) >= 0) return false;
  if (memory.nrFree === 0) return false;
  d.p2m.populate(memory, gfn, d.domid);
  d.totPages++;
  return true;
}

/**
 * XENMEM_decrease_reservation of one page. Only the domain's own RAM goes back: not a
 * grant mapping (unmap it instead), not a frame some other domain maps (Xen would keep
 * it alive by its reference count; here the balloon simply cannot take it), and not one
 * of the pv special pages (start_info, shared_info, the console and xenstore rings, the
 * grant table frames), which the hypervisor and Domain-0 use for the domain's life.
 */
export function depopulatePage(memory: MachineMemory, gnttab: GrantTables, d: Domain, gfn: number): boolean {
  if (!Number.isInteger(gfn) || gfn < 0 || gfn >= d.maxPages) return false;
  if (d.pv?.specialGfns.has(gfn)) return false;
  const mfn = gnttab.ownFrame(d, gfn);
  if (mfn < 0 || memory.refs(mfn) > 0) return false;
  d.p2m.clear(gfn);
  memory.free(mfn);
  d.totPages--;
  return true;
}
