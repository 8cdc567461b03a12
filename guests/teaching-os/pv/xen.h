/*
 * hyperlab's paravirtual ABI as the guest sees it (docs/abi.md): Xen's public
 * interface (xen/include/public: xen.h, event_channel.h, grant_table.h, sched.h,
 * memory.h, vcpu.h, version.h, io/console.h, io/xs_wire.h) with 32-bit layouts.
 * Our own definitions of the few numbers and structures the teaching OS uses; the
 * static asserts pin every offset that docs/abi.md gives.
 */
#ifndef TOS_XEN_H
#define TOS_XEN_H

#include <stddef.h>
#include <stdint.h>

/* ---- hypercalls: ecall with a7 = XEN_SBI_EXT, a6 = number, a0..a4 = arguments ---- */
#define XEN_SBI_EXT 0x0A000007u  /* SBI firmware extension range + Xen's impl id 7 */

#define __HYPERVISOR_memory_op        12
#define __HYPERVISOR_set_timer_op     15
#define __HYPERVISOR_xen_version      17
#define __HYPERVISOR_console_io       18
#define __HYPERVISOR_grant_table_op   20
#define __HYPERVISOR_vcpu_op          24
#define __HYPERVISOR_sched_op         29
#define __HYPERVISOR_event_channel_op 32

/* Xen errno values (returned negated). */
#define XEN_EPERM   1
#define XEN_ENOENT  2
#define XEN_ESRCH   3
#define XEN_EIO     5
#define XEN_EAGAIN  11
#define XEN_ENOMEM  12
#define XEN_EACCES  13
#define XEN_EFAULT  14
#define XEN_EBUSY   16
#define XEN_EEXIST  17
#define XEN_EINVAL  22
#define XEN_ENOSPC  28
#define XEN_ENOSYS  38
#define XEN_ETIMEDOUT 110
/* ... and the rest of the names xenstored may reply with (io/xs_wire.h xsd_errors). */
#define XEN_E2BIG     7
#define XEN_EISDIR    21
#define XEN_EROFS     30
#define XEN_ENOTEMPTY 39
#define XEN_EISCONN   106

typedef uint16_t domid_t;
typedef uint32_t evtchn_port_t;
typedef uint32_t grant_ref_t;
typedef uint32_t grant_handle_t;
typedef uint32_t xen_pfn_t;  /* a guest frame number (Deviation from x86 PV's MFNs) */
#define DOMID_SELF 0x7FF0u

/* ---- start_info (xen.h, 32-bit) ---- */
#define XEN_START_MAGIC "xen-3.0-"
struct start_info {
  char magic[32];            /* "xen-3.0-riscv32" */
  uint32_t nr_pages;
  uint32_t shared_info;      /* guest-physical address */
  uint32_t flags;
  xen_pfn_t store_mfn;
  evtchn_port_t store_evtchn;
  xen_pfn_t console_mfn;     /* console.domU.mfn */
  evtchn_port_t console_evtchn;
  uint32_t pt_base, nr_pt_frames, mfn_list, mod_start, mod_len;
  char cmd_line[1024];
  uint32_t first_p2m_pfn, nr_p2m_frames;
};
_Static_assert(offsetof(struct start_info, nr_pages) == 32, "start_info");
_Static_assert(offsetof(struct start_info, console_evtchn) == 56, "start_info");
_Static_assert(offsetof(struct start_info, mod_start) == 72, "start_info");
_Static_assert(offsetof(struct start_info, cmd_line) == 80, "start_info");
_Static_assert(offsetof(struct start_info, first_p2m_pfn) == 1104, "start_info");

/* ---- shared_info / vcpu_info (xen.h, x86_32 layout: 32-bit xen_ulong_t) ---- */
struct vcpu_time_info {
  uint32_t version, pad0;
  uint64_t tsc_timestamp, system_time;
  uint32_t tsc_to_system_mul;
  int8_t tsc_shift;
  uint8_t flags, pad1[2];
};
struct vcpu_info {
  uint8_t evtchn_upcall_pending;
  uint8_t evtchn_upcall_mask;
  uint16_t pad;
  uint32_t evtchn_pending_sel;
  uint8_t arch[24];
  struct vcpu_time_info time;
};
#define XEN_LEGACY_MAX_VCPUS 32
struct shared_info {
  struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
  uint32_t evtchn_pending[32];
  uint32_t evtchn_mask[32];
  uint32_t wc_version, wc_sec, wc_nsec, wc_sec_hi;
};
#define NR_EVTCHN_PORTS 1024  /* 32 x 32: the 2-level ABI with 32-bit words */
_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info");
_Static_assert(offsetof(struct vcpu_info, time) == 32, "vcpu_info");
_Static_assert(offsetof(struct shared_info, evtchn_pending) == 2048, "shared_info");
_Static_assert(offsetof(struct shared_info, evtchn_mask) == 2176, "shared_info");
_Static_assert(offsetof(struct shared_info, wc_version) == 2304, "shared_info");

/* ---- sched_op (sched.h) ---- */
#define SCHEDOP_yield    0
#define SCHEDOP_block    1
#define SCHEDOP_shutdown 2
#define SHUTDOWN_poweroff 0
#define SHUTDOWN_reboot   1
#define SHUTDOWN_suspend  2
#define SHUTDOWN_crash    3
struct sched_shutdown { uint32_t reason; };

/* ---- console_io (xen.h) ---- */
#define CONSOLEIO_write 0

/* ---- xen_version (version.h) ---- */
#define XENVER_version      0
#define XENVER_extraversion 1

/* ---- vcpu_op (vcpu.h) ---- */
#define VCPUOP_up    1  /* arg: struct vcpu_up_args (hyperlab: where the vCPU starts, docs/abi.md) */
#define VCPUOP_down  2
#define VCPUOP_is_up 3

struct vcpu_up_args {
  uint32_t pc;  /* S-mode entry point; the vCPU starts with a0 = its id */
  uint32_t a1;  /* handed over in a1 */
};

/* ---- event_channel_op (event_channel.h) ---- */
#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_bind_virq        1
#define EVTCHNOP_close            3
#define EVTCHNOP_send             4
#define EVTCHNOP_status           5
#define EVTCHNOP_alloc_unbound    6
#define EVTCHNOP_unmask           9
#define VIRQ_TIMER 0
struct evtchn_alloc_unbound { domid_t dom, remote_dom; evtchn_port_t port; };
struct evtchn_bind_interdomain { domid_t remote_dom; evtchn_port_t remote_port; evtchn_port_t local_port; };
struct evtchn_bind_virq { uint32_t virq, vcpu; evtchn_port_t port; };
struct evtchn_close { evtchn_port_t port; };
struct evtchn_send { evtchn_port_t port; };
struct evtchn_unmask { evtchn_port_t port; };
#define EVTCHNSTAT_closed       0
#define EVTCHNSTAT_unbound      1
#define EVTCHNSTAT_interdomain  2
#define EVTCHNSTAT_pirq         3
#define EVTCHNSTAT_virq         4
#define EVTCHNSTAT_ipi          5
struct evtchn_status {
  domid_t dom;
  evtchn_port_t port;
  uint32_t status, vcpu;
  union {
    struct { domid_t dom; } unbound;
    struct { domid_t dom; evtchn_port_t port; } interdomain;
    uint32_t pirq, virq;
  } u;
};
_Static_assert(sizeof(struct evtchn_alloc_unbound) == 8, "evtchn_alloc_unbound");
_Static_assert(offsetof(struct evtchn_bind_interdomain, local_port) == 8, "evtchn_bind_interdomain");
_Static_assert(offsetof(struct evtchn_bind_virq, port) == 8, "evtchn_bind_virq");
_Static_assert(offsetof(struct evtchn_status, u) == 16 && sizeof(struct evtchn_status) == 24, "evtchn_status");

/* ---- grant_table_op (grant_table.h, v1) ---- */
#define GNTTABOP_map_grant_ref   0
#define GNTTABOP_unmap_grant_ref 1
#define GNTTABOP_setup_table     2
#define GNTTABOP_query_size      6
#define GTF_permit_access 1
#define GTF_readonly      (1u << 2)
#define GTF_reading       (1u << 3)
#define GTF_writing       (1u << 4)
#define GNTMAP_host_map   (1u << 1)
#define GNTMAP_readonly   (1u << 2)
#define GNTST_okay             0
#define GNTST_general_error   (-1)
#define GNTST_bad_domain      (-2)
#define GNTST_bad_gntref      (-3)
#define GNTST_bad_handle      (-4)
#define GNTST_bad_virt_addr   (-5)
#define GNTST_permission_denied (-8)
#define GNTST_bad_page        (-9)
#define GNTTAB_NR_RESERVED_ENTRIES 8
struct grant_entry_v1 { uint16_t flags; domid_t domid; uint32_t frame; };
struct gnttab_setup_table { domid_t dom; uint32_t nr_frames; int16_t status; uint32_t frame_list; };
struct gnttab_query_size { domid_t dom; uint32_t nr_frames, max_nr_frames; int16_t status; };
struct gnttab_map_grant_ref {
  uint64_t host_addr;
  uint32_t flags;
  grant_ref_t ref;
  domid_t dom;
  int16_t status;
  grant_handle_t handle;
  uint64_t dev_bus_addr;
};
struct gnttab_unmap_grant_ref { uint64_t host_addr, dev_bus_addr; grant_handle_t handle; int16_t status; };
_Static_assert(sizeof(struct grant_entry_v1) == 8, "grant_entry_v1");
_Static_assert(offsetof(struct gnttab_setup_table, frame_list) == 12, "gnttab_setup_table");
_Static_assert(offsetof(struct gnttab_query_size, status) == 12, "gnttab_query_size");
_Static_assert(offsetof(struct gnttab_map_grant_ref, ref) == 12, "gnttab_map_grant_ref");
_Static_assert(offsetof(struct gnttab_map_grant_ref, status) == 18, "gnttab_map_grant_ref");
_Static_assert(offsetof(struct gnttab_map_grant_ref, handle) == 20, "gnttab_map_grant_ref");
_Static_assert(sizeof(struct gnttab_map_grant_ref) == 32, "gnttab_map_grant_ref");
_Static_assert(offsetof(struct gnttab_unmap_grant_ref, handle) == 16, "gnttab_unmap_grant_ref");
_Static_assert(sizeof(struct gnttab_unmap_grant_ref) == 24, "gnttab_unmap_grant_ref");

/* ---- memory_op (memory.h) ---- */
#define XENMEM_increase_reservation 0
#define XENMEM_decrease_reservation 1
#define XENMEM_current_reservation  3
#define XENMEM_maximum_reservation  4
struct xen_memory_reservation {
  uint32_t extent_start;  /* guest handle: guest-physical address of a xen_pfn_t array */
  uint32_t nr_extents, extent_order, mem_flags;
  domid_t domid;
};
_Static_assert(offsetof(struct xen_memory_reservation, domid) == 16, "xen_memory_reservation");

/* ---- io/console.h ---- */
#define XENCONS_IN_SIZE  1024u
#define XENCONS_OUT_SIZE 2048u
struct xencons_interface {
  char in[XENCONS_IN_SIZE];
  char out[XENCONS_OUT_SIZE];
  uint32_t in_cons, in_prod, out_cons, out_prod;
};
_Static_assert(offsetof(struct xencons_interface, in_cons) == 3072, "xencons_interface");

/* ---- io/xs_wire.h ---- */
enum xsd_sockmsg_type {
  XS_DIRECTORY = 1, XS_READ = 2, XS_GET_PERMS = 3, XS_WATCH = 4, XS_UNWATCH = 5,
  XS_TRANSACTION_START = 6, XS_TRANSACTION_END = 7, XS_WRITE = 11, XS_MKDIR = 12, XS_RM = 13, XS_SET_PERMS = 14, XS_WATCH_EVENT = 15,
  XS_ERROR = 16,
};
struct xsd_sockmsg { uint32_t type, req_id, tx_id, len; };
#define XENSTORE_RING_SIZE   1024u
#define XENSTORE_PAYLOAD_MAX 4096u
struct xenstore_domain_interface {
  char req[XENSTORE_RING_SIZE];
  char rsp[XENSTORE_RING_SIZE];
  uint32_t req_cons, req_prod, rsp_cons, rsp_prod;
  uint32_t server_features, connection, error, evtchn_port;
};
_Static_assert(offsetof(struct xenstore_domain_interface, req_cons) == 2048, "xenstore ring");

#endif
