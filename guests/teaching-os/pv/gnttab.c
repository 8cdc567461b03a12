/*
 * The grant table, v1 (grant_table.h, docs/misc/grant-tables.txt). The hypervisor keeps
 * the table in frames of our own RAM and GNTTABOP_setup_table says which (as Xen/Arm's
 * auto-translated guests learn it). Granting is writing an entry {flags, domid, frame}:
 * domid and frame first, then (after a fence) flags = GTF_permit_access. Ending a grant
 * clears flags, unless the hypervisor shows the grant in use (GTF_reading/GTF_writing).
 *
 * Refs 0..7 are reserved (GNTTAB_NR_RESERVED_ENTRIES: Xen's console and xenstore refs).
 */
#include "pv.h"

#define MAX_FRAMES 8
#define ENTRIES_PER_FRAME (PAGE_SIZE / sizeof(struct grant_entry_v1))

static struct grant_entry_v1 *table;
static uint32_t nr_frames, nr_entries;

void gnttab_init(void) {
  struct gnttab_query_size q = {DOMID_SELF, 0, 0, 0};
  int32_t rc = grant_table_op(GNTTABOP_query_size, &q, 1);
  uint32_t want = !rc && q.status == GNTST_okay && q.nr_frames ? q.nr_frames : 1;
  if (want > MAX_FRAMES) want = MAX_FRAMES;
  xen_pfn_t frames[MAX_FRAMES];
  memset(frames, 0, sizeof frames);
  struct gnttab_setup_table op = {DOMID_SELF, want, 0, gpa_of(frames)};
  rc = grant_table_op(GNTTABOP_setup_table, &op, 1);
  if (rc || op.status != GNTST_okay) {
    kprintf("pv: grant table: setup_table failed (%d, %s)\n", rc, gntst_name(op.status));
    return;
  }
  /* Every frame stays reserved; entries are used from frame 0 only, and the frames
   * must be contiguous in our physical map for `table` to index them as one array. */
  nr_entries = ENTRIES_PER_FRAME;
  for (uint32_t i = 0; i < want; i++) {
    page_reserve(gfn_to_gpa(frames[i]), PAGE_SIZE);
    if (i && frames[i] == frames[0] + i) nr_entries += ENTRIES_PER_FRAME;
  }
  table = (struct grant_entry_v1 *)(uintptr_t)gfn_to_gpa(frames[0]);
  nr_frames = want;
}

uint32_t gnttab_frames(void) { return nr_frames; }

int32_t gnttab_grant(domid_t dom, xen_pfn_t gfn, int readonly) {
  if (!table) return -XEN_ENOSYS;
  for (grant_ref_t ref = GNTTAB_NR_RESERVED_ENTRIES; ref < nr_entries; ref++) {
    struct grant_entry_v1 *e = &table[ref];
    if (READ_ONCE(e->flags) & (GTF_permit_access | GTF_reading | GTF_writing)) continue;
    e->domid = dom;
    e->frame = gfn;
    wmb();
    WRITE_ONCE(e->flags, (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0)));
    return (int32_t)ref;
  }
  return -XEN_ENOSPC;
}

int32_t gnttab_end(grant_ref_t ref) {
  if (!table || ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= nr_entries) return -XEN_EINVAL;
  /* flags and domid share a word: clear the flags only if the hypervisor does not show
   * the grant mapped, atomically against its setting GTF_reading/GTF_writing. */
  uint32_t *word = (uint32_t *)&table[ref];
  uint32_t old = __atomic_load_n(word, __ATOMIC_SEQ_CST);
  do {
    if (old & (GTF_reading | GTF_writing)) return -XEN_EBUSY;
  } while (!__atomic_compare_exchange_n(word, &old, old & 0xffff0000u, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
  return 0;
}

int32_t gnttab_map(domid_t dom, grant_ref_t ref, uint32_t gpa, int readonly, grant_handle_t *handle,
                   int16_t *status) {
  struct gnttab_map_grant_ref op;
  memset(&op, 0, sizeof op);
  op.host_addr = gpa;
  op.flags = GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0);
  op.ref = ref;
  op.dom = dom;
  op.status = GNTST_general_error;
  int32_t rc = grant_table_op(GNTTABOP_map_grant_ref, &op, 1);
  *status = op.status;
  if (!rc && op.status == GNTST_okay) *handle = op.handle;
  return rc;
}

int32_t gnttab_unmap(uint32_t gpa, grant_handle_t handle, int16_t *status) {
  struct gnttab_unmap_grant_ref op;
  memset(&op, 0, sizeof op);
  op.host_addr = gpa;
  op.handle = handle;
  op.status = GNTST_general_error;
  int32_t rc = grant_table_op(GNTTABOP_unmap_grant_ref, &op, 1);
  *status = op.status;
  return rc;
}
