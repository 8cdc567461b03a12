/*
 * Grant-table and reservation primitives, as a Linux front end does them (and as a
 * hostile one may misuse them). An entry is two words: flags | domid << 16, then the
 * frame. Granting writes the frame and domid, then the flags; ending a grant is a
 * compare-exchange of the flags word to 0 that fails while the hypervisor shows the
 * grant in use (GTF_reading / GTF_writing), as Xen's gnttab_end_foreign_access_ref.
 */
#include "hostile.h"

int gnt_grant(uint32_t ref, uint32_t domid, uint32_t gfn, int ro) {
  if (!pv.gnttab || ref >= pv.gnttab_entries) return -22;
  volatile uint32_t *e = pv.gnttab + 2 * ref;
  e[1] = gfn;
  __atomic_store_n((uint32_t *)e, (domid & 0xffff) << 16, __ATOMIC_SEQ_CST);
  __atomic_store_n((uint32_t *)e, (domid & 0xffff) << 16 | GTF_permit_access | (ro ? GTF_readonly : 0), __ATOMIC_SEQ_CST);
  return 0;
}

/* Compare-exchange the entry's flags/domid word: 0 on success. */
int gnt_cas(uint32_t ref, uint32_t old, uint32_t new_word) {
  uint32_t expect = old;
  return __atomic_compare_exchange_n((uint32_t *)(pv.gnttab + 2 * ref), &expect, new_word, 0, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST) ? 0 : -1;
}

/* End the grant: 0, or -16 (EBUSY) while it is mapped; *seen = the word found. */
int gnt_end(uint32_t ref, uint32_t *seen) {
  if (!pv.gnttab || ref >= pv.gnttab_entries) return -22;
  uint32_t *w = (uint32_t *)(pv.gnttab + 2 * ref);
  uint32_t old = __atomic_load_n(w, __ATOMIC_SEQ_CST);
  do {
    *seen = old;
    if (old & (GTF_reading | GTF_writing)) return -16;
  } while (!__atomic_compare_exchange_n(w, &old, old & 0xffff0000u, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
  return 0;
}

int32_t gnt_map(uint32_t dom, uint32_t ref, uint32_t gfn, int ro, int16_t *status, uint32_t *handle) {
  struct gnttab_map_grant_ref op;
  memset(&op, 0, sizeof op);
  op.host_addr = gfn << 12;
  op.flags = GNTMAP_host_map | (ro ? GNTMAP_readonly : 0);
  op.ref = ref;
  op.dom = (uint16_t)dom;
  op.status = -99;
  int32_t rc = hypercall(HC_grant_table_op, GNTTABOP_map_grant_ref, (uint32_t)&op, 1);
  *status = op.status;
  *handle = op.handle;
  return rc;
}

int32_t gnt_unmap(uint32_t gfn, uint32_t handle, int16_t *status) {
  struct gnttab_unmap_grant_ref op;
  memset(&op, 0, sizeof op);
  op.host_addr = gfn << 12;
  op.handle = handle;
  op.status = -99;
  int32_t rc = hypercall(HC_grant_table_op, GNTTABOP_unmap_grant_ref, (uint32_t)&op, 1);
  *status = op.status;
  return rc;
}

int32_t gnt_copy(uint32_t flags, uint32_t sref, uint32_t sdom, uint32_t soff, uint32_t dref, uint32_t ddom,
                 uint32_t doff, uint32_t len, int16_t *status) {
  struct gnttab_copy op;
  memset(&op, 0, sizeof op);
  op.source.ref = sref;
  op.source.domid = (uint16_t)sdom;
  op.source.offset = (uint16_t)soff;
  op.dest.ref = dref;
  op.dest.domid = (uint16_t)ddom;
  op.dest.offset = (uint16_t)doff;
  op.len = (uint16_t)len;
  op.flags = (uint16_t)flags;
  op.status = -99;
  int32_t rc = hypercall(HC_grant_table_op, GNTTABOP_copy, (uint32_t)&op, 1);
  *status = op.status;
  return rc;
}

/* One extent of XENMEM_increase/decrease_reservation: the number of extents done, or < 0. */
int32_t reservation(uint32_t cmd, uint32_t gfn) {
  uint32_t list[1] = {gfn};
  struct xen_memory_reservation r = {(uint32_t)list, 1, 0, 0, DOMID_SELF, 0};
  return hypercall(HC_memory_op, cmd, (uint32_t)&r, 0);
}
