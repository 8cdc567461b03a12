/**
 * Numbers and layouts of the paravirtual ABI (docs/abi.md), from Xen's public headers
 * (xen/include/public): the ones hyperlab implements, with their 32-bit layouts.
 */

// xen.h: hypercall numbers
export const HYPERVISOR_memory_op = 12;
export const HYPERVISOR_set_timer_op = 15;
export const HYPERVISOR_xen_version = 17;
export const HYPERVISOR_console_io = 18;
export const HYPERVISOR_grant_table_op = 20;
export const HYPERVISOR_vcpu_op = 24;
export const HYPERVISOR_sched_op = 29;
export const HYPERVISOR_event_channel_op = 32;

export const HYPERCALL_NAMES: Record<number, string> = {
  12: 'memory_op',
  15: 'set_timer_op',
  17: 'xen_version',
  18: 'console_io',
  20: 'grant_table_op',
  24: 'vcpu_op',
  29: 'sched_op',
  32: 'event_channel_op',
};

/** The SBI extension id that carries Xen hypercalls: firmware range 0x0A000000 + Xen's impl id 7. */
export const SBI_EXT_XEN = 0x0a00_0007;

// errno.h (Xen's values, negated in results)
export const EPERM = 1,
  ENOENT = 2,
  ESRCH = 3,
  EFAULT = 14,
  EBUSY = 16,
  EEXIST = 17,
  EINVAL = 22,
  ENOSPC = 28,
  ENOSYS = 38,
  ENOMEM = 12,
  EAGAIN = 11;

export const DOMID_SELF = 0x7ff0;

// console_io
export const CONSOLEIO_write = 0,
  CONSOLEIO_read = 1;
// sched_op
export const SCHEDOP_yield = 0,
  SCHEDOP_block = 1,
  SCHEDOP_shutdown = 2,
  SCHEDOP_poll = 3;
export const SHUTDOWN_poweroff = 0,
  SHUTDOWN_reboot = 1,
  SHUTDOWN_suspend = 2,
  SHUTDOWN_crash = 3,
  SHUTDOWN_watchdog = 4;
// xen_version
export const XENVER_version = 0,
  XENVER_extraversion = 1,
  XENVER_get_features = 6,
  XENVER_pagesize = 7;
// vcpu_op
export const VCPUOP_up = 1,
  VCPUOP_down = 2,
  VCPUOP_is_up = 3,
  VCPUOP_get_runstate_info = 4;
// event_channel_op
export const EVTCHNOP_bind_interdomain = 0,
  EVTCHNOP_bind_virq = 1,
  EVTCHNOP_close = 3,
  EVTCHNOP_send = 4,
  EVTCHNOP_status = 5,
  EVTCHNOP_alloc_unbound = 6,
  EVTCHNOP_bind_ipi = 7,
  EVTCHNOP_unmask = 9;
export const EVTCHNSTAT_closed = 0,
  EVTCHNSTAT_unbound = 1,
  EVTCHNSTAT_interdomain = 2,
  EVTCHNSTAT_virq = 4,
  EVTCHNSTAT_ipi = 5;
export const VIRQ_TIMER = 0,
  VIRQ_CONSOLE = 2,
  NR_VIRQS = 24;
// grant_table_op
export const GNTTABOP_map_grant_ref = 0,
  GNTTABOP_unmap_grant_ref = 1,
  GNTTABOP_setup_table = 2,
  GNTTABOP_copy = 5,
  GNTTABOP_query_size = 6;
export const GTF_invalid = 0,
  GTF_permit_access = 1,
  GTF_type_mask = 3,
  GTF_readonly = 1 << 2,
  GTF_reading = 1 << 3,
  GTF_writing = 1 << 4;
export const GNTMAP_host_map = 1 << 1,
  GNTMAP_readonly = 1 << 2;
export const GNTCOPY_source_gref = 1 << 0,
  GNTCOPY_dest_gref = 1 << 1;
export const GNTST_okay = 0,
  GNTST_general_error = -1,
  GNTST_bad_domain = -2,
  GNTST_bad_gntref = -3,
  GNTST_bad_handle = -4,
  GNTST_bad_virt_addr = -5,
  GNTST_permission_denied = -8,
  GNTST_bad_page = -9,
  GNTST_bad_copy_arg = -10,
  GNTST_no_space = -13;
// memory_op
export const XENMEM_increase_reservation = 0,
  XENMEM_decrease_reservation = 1,
  XENMEM_current_reservation = 3,
  XENMEM_maximum_reservation = 4,
  XENMEM_populate_physmap = 6;

/** Event channels per domain with 32-bit words in the 2-level ABI: 32 x 32. */
export const NR_EVTCHN_PORTS = 1024;

// shared_info layout (docs/abi.md section 4)
export const SI_VCPU_INFO = 0;
export const VCPU_INFO_SIZE = 64;
export const VI_UPCALL_PENDING = 0,
  VI_UPCALL_MASK = 1,
  VI_PENDING_SEL = 4,
  VI_TIME = 32;
export const SI_EVTCHN_PENDING = 2048;
export const SI_EVTCHN_MASK = 2176;
export const SI_WC_VERSION = 2304;
export const MAX_VCPUS = 32;

// start_info layout (docs/abi.md section 3)
export const START_INFO_MAGIC = 'xen-3.0-riscv32';
export const SI_NR_PAGES = 32,
  SI_SHARED_INFO = 36,
  SI_FLAGS = 40,
  SI_STORE_MFN = 44,
  SI_STORE_EVTCHN = 48,
  SI_CONSOLE_MFN = 52,
  SI_CONSOLE_EVTCHN = 56,
  SI_MOD_START = 72,
  SI_MOD_LEN = 76,
  SI_CMD_LINE = 80,
  MAX_GUEST_CMDLINE = 1024;

// io/console.h: struct xencons_interface
export const XENCONS_IN = 0,
  XENCONS_IN_SIZE = 1024,
  XENCONS_OUT = 1024,
  XENCONS_OUT_SIZE = 2048;
export const XENCONS_IN_CONS = 3072,
  XENCONS_IN_PROD = 3076,
  XENCONS_OUT_CONS = 3080,
  XENCONS_OUT_PROD = 3084;
