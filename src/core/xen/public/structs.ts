/**
 * Byte offsets of the hypercall argument structs a 32-bit guest passes (Xen's
 * public/event_channel.h, grant_table.h, memory.h, sched.h, vcpu.h, as laid out for
 * riscv32/ilp32: pointers and xen_pfn_t 4 bytes, uint64_t 8-aligned). The handlers in
 * common/hypercall/ read and write through these names only; guests/teaching-os's
 * xenAbi.test.ts checks every one against the C header the teaching OS is built with.
 * `SIZE` is the struct's size where a batch steps by it.
 */
export const evtchn_alloc_unbound = { dom: 0, remote_dom: 2, port: 4 } as const;
export const evtchn_bind_interdomain = { remote_dom: 0, remote_port: 4, local_port: 8 } as const;
export const evtchn_bind_virq = { virq: 0, vcpu: 4, port: 8 } as const;
export const evtchn_bind_ipi = { vcpu: 0, port: 4 } as const;
export const evtchn_close = { port: 0 } as const;
export const evtchn_send = { port: 0 } as const;
export const evtchn_unmask = { port: 0 } as const;
/** `u` is a union of { unbound.dom }, { interdomain.dom, interdomain.port } and virq. */
export const evtchn_status = { dom: 0, port: 4, status: 8, vcpu: 12, u_unbound_dom: 16, u_interdomain_dom: 16, u_interdomain_port: 20, u_virq: 16 } as const;

export const gnttab_map_grant_ref = { host_addr: 0, flags: 8, ref: 12, dom: 16, status: 18, handle: 20, SIZE: 32 } as const;
export const gnttab_unmap_grant_ref = { host_addr: 0, dev_bus_addr: 8, handle: 16, status: 20, SIZE: 24 } as const;
export const gnttab_setup_table = { dom: 0, nr_frames: 4, status: 8, frame_list: 12, SIZE: 16 } as const;
export const gnttab_query_size = { dom: 0, nr_frames: 4, max_nr_frames: 8, status: 12, SIZE: 16 } as const;
/** struct gnttab_copy: two gnttab_copy_ptr { u32 ref or gmfn; u16 domid; u16 offset; } then len, flags, status. */
export const gnttab_copy = { source: 0, dest: 8, len: 16, flags: 18, status: 20, SIZE: 24 } as const;
export const gnttab_copy_ptr = { u: 0, domid: 4, offset: 6 } as const;
/** grant_entry_v1 { u16 flags; u16 domid; u32 frame; }: flags and domid are read as one word. */
export const grant_entry_v1 = { flags: 0, domid: 2, frame: 4, SIZE: 8 } as const;

export const xen_memory_reservation = { extent_start: 0, nr_extents: 4, extent_order: 8, mem_flags: 12, domid: 16 } as const;
export const xen_feature_info = { submap_idx: 0, submap: 4 } as const;

export const sched_shutdown = { reason: 0 } as const;
export const sched_poll = { ports: 0, nr_ports: 4, timeout: 8 } as const;

/** VCPUOP_up's argument (hyperlab's: docs/abi.md). */
export const vcpu_up_args = { pc: 0, a1: 4 } as const;
export const vcpu_runstate_info = { state: 0, state_entry_time: 8, time: 16 } as const;
