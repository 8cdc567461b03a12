/*
 * hostile: a pv guest that does what a hostile (or merely buggy) guest may do with grant
 * tables, ballooning and vCPUs, one primitive per shell command, so that the isolation
 * tests (src/node/isolation/) can play attack sequences against the hypervisor. Xen's
 * numbers and layouts (docs/abi.md); every answer is one line starting with "= ".
 */
#ifndef HOSTILE_H
#define HOSTILE_H

#include "runtime.h"

#define XEN_SBI_EXT 0x0A000007u
#define HC_memory_op 12
#define HC_console_io 18
#define HC_grant_table_op 20
#define HC_vcpu_op 24
#define HC_sched_op 29
#define HC_event_channel_op 32

#define CONSOLEIO_write 0
#define SCHEDOP_yield 0
#define SCHEDOP_block 1
#define SCHEDOP_shutdown 2
#define EVTCHNOP_send 4
#define VCPUOP_up 1
#define XENMEM_increase_reservation 0
#define XENMEM_decrease_reservation 1
#define GNTTABOP_map_grant_ref 0
#define GNTTABOP_unmap_grant_ref 1
#define GNTTABOP_setup_table 2
#define GNTTABOP_copy 5
#define GTF_permit_access 1u
#define GTF_readonly (1u << 2)
#define GTF_reading (1u << 3)
#define GTF_writing (1u << 4)
#define GNTMAP_host_map (1u << 1)
#define GNTMAP_readonly (1u << 2)
#define GNTCOPY_source_gref 1u
#define GNTCOPY_dest_gref 2u
#define DOMID_SELF 0x7FF0u
#define PAGE_SIZE 4096u

struct gnttab_map_grant_ref { uint64_t host_addr; uint32_t flags, ref; uint16_t dom; int16_t status; uint32_t handle; uint64_t dev_bus_addr; };
struct gnttab_unmap_grant_ref { uint64_t host_addr, dev_bus_addr; uint32_t handle; int16_t status; uint16_t pad; };
struct gnttab_copy_ptr { uint32_t ref; uint16_t domid, offset; };
struct gnttab_copy { struct gnttab_copy_ptr source, dest; uint16_t len, flags; int16_t status; uint16_t pad; };
struct xen_memory_reservation { uint32_t extent_start, nr_extents, extent_order, mem_flags; uint16_t domid, pad; };

/* What start_info told us (docs/abi.md section 3), and the grant table. */
struct pv_info {
  uint32_t start_info, nr_pages, shared_info, store_gfn, store_port, console_gfn, console_port;
  volatile uint32_t *gnttab; /* entry i: word 2i = flags | domid << 16, word 2i+1 = frame */
  uint32_t gnttab_gfn, gnttab_entries;
};
extern struct pv_info pv;
extern volatile uint32_t spin_counter;
void spin_entry(void);

int32_t hypercall(uint32_t nr, uint32_t a0, uint32_t a1, uint32_t a2);
uint32_t probe_read(uint32_t addr, int *ok);
int probe_write(uint32_t addr, uint32_t v);
uint64_t now_ticks(void); /* the time CSR, 10 MHz */
void yield(void);
void evtchn_send(uint32_t port);

/* Grants (grant.c). */
int gnt_grant(uint32_t ref, uint32_t domid, uint32_t gfn, int ro);
int gnt_cas(uint32_t ref, uint32_t old, uint32_t new_word);
int gnt_end(uint32_t ref, uint32_t *seen);
int32_t gnt_map(uint32_t dom, uint32_t ref, uint32_t gfn, int ro, int16_t *status, uint32_t *handle);
int32_t gnt_unmap(uint32_t gfn, uint32_t handle, int16_t *status);
int32_t gnt_copy(uint32_t flags, uint32_t sref, uint32_t sdom, uint32_t soff, uint32_t dref, uint32_t ddom,
                 uint32_t doff, uint32_t len, int16_t *status);
int32_t reservation(uint32_t cmd, uint32_t gfn);

/* The commands that loop (race.c, fuzz.c): argv-style numbers. */
void cmd_race_granter(const uint32_t *a, int n);
void cmd_race_mapper(const uint32_t *a, int n);
void cmd_race_copier(const uint32_t *a, int n);
void cmd_fuzz(const uint32_t *a, int n);
void cmd_blk_ring(const uint32_t *a, int n);
void cmd_blk_fuzz(const uint32_t *a, int n);
void cmd_net_ring(const uint32_t *a, int n);
void cmd_net_fuzz(const uint32_t *a, int n);
void cmd_net_storm(const uint32_t *a, int n);

#endif
