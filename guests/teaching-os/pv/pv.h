/*
 * The pv platform layer's internal interface. The kernel runs in S-mode with paging
 * off (satp = 0), so a pointer is a guest-physical address, which is what hypercalls
 * take (docs/abi.md section 2).
 */
#ifndef TOS_PV_H
#define TOS_PV_H

#include "plat.h"
#include "xen.h"

#define RAM_BASE 0x80000000u

#define SSTATUS_SIE (1u << 1)
#define SIE_SEIE    (1u << 9)
#define IRQ_S_EXT   9u

static inline uint32_t gpa_of(const volatile void *p) { return (uint32_t)(uintptr_t)p; }
#define wmb() __asm__ volatile("fence w, w" ::: "memory")
#define rmb() __asm__ volatile("fence r, r" ::: "memory")
#define mb()  __asm__ volatile("fence rw, rw" ::: "memory")

/* ---- hypercall.c ---- */
int32_t hypercall(uint32_t nr, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4);
#define HYPERCALL2(nr, a, b)    hypercall(nr, (uint32_t)(a), (uint32_t)(b), 0, 0, 0)
#define HYPERCALL3(nr, a, b, c) hypercall(nr, (uint32_t)(a), (uint32_t)(b), (uint32_t)(c), 0, 0)
int32_t sched_op(uint32_t cmd, void *arg);
int32_t event_channel_op(uint32_t cmd, void *arg);
int32_t grant_table_op(uint32_t cmd, void *uop, uint32_t count);
int32_t memory_op(uint32_t cmd, void *arg);
int32_t set_timer_op(uint64_t deadline_ns);
void console_io_write(const char *buf, size_t n);
__attribute__((noreturn)) void xen_shutdown(uint32_t reason);
int32_t xen_suspend(void);                 /* 0: a new domain, 1: cancelled, or -errno */
const char *xen_strerror(int32_t err);     /* "-ENOENT" style names */
const char *gntst_name(int32_t status);

/* ---- plat_pv.c: boot facts ---- */
extern struct start_info *start_info;
extern struct shared_info *shared_info;
extern int32_t pv_domid;          /* from xenstore "domid"; -1 if unknown */
extern char pv_name[64];
extern uint32_t pv_max_pages;     /* XENMEM_maximum_reservation */
/* Frame numbers: hyperlab counts guest frames from the start of RAM (gfn 0 = 0x80000000),
 * Xen/Arm from address 0; gfn_origin is whichever start_info shows (docs/teaching-os.md). */
extern uint32_t gfn_origin;
void pv_resume(void);              /* after a suspend that returned 0: reconnect everything */
static inline uint32_t gfn_to_gpa(xen_pfn_t gfn) { return RAM_BASE + ((gfn - gfn_origin) << PAGE_SHIFT); }
static inline xen_pfn_t gpa_to_gfn(uint32_t gpa) { return ((gpa - RAM_BASE) >> PAGE_SHIFT) + gfn_origin; }

/* ---- evtchn.c ---- */
typedef void (*evtchn_handler_t)(evtchn_port_t port, void *arg);
void evtchn_set_handler(evtchn_port_t port, evtchn_handler_t fn, void *arg);
void evtchn_clear_handler(evtchn_port_t port);
int32_t evtchn_send(evtchn_port_t port);
int32_t evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port);
int32_t evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t *port);
int32_t evtchn_bind_virq(uint32_t virq, evtchn_port_t *port);
int32_t evtchn_close(evtchn_port_t port);
int32_t evtchn_status(evtchn_port_t port, struct evtchn_status *st);
void evtchn_upcall(void);                 /* the SEIP handler */
extern volatile uint32_t evtchn_upcalls;  /* statistics */

/* ---- console.c: the xencons ring, console_io before it is up ---- */
void xencons_init(void);
void xencons_write(const char *buf, size_t n);
void xencons_drain(void);
void xencons_rx_kick(void);
void xencons_resume(void);                /* ring and port from start_info again */
const char *xencons_mode(void);

/* ---- xenstore.c ---- */
typedef void (*xs_watch_fn)(const char *path, const char *token);
void xs_init(void);
int xs_available(void);
int32_t xs_read(const char *path, char *buf, size_t cap);     /* length, or -errno */
int32_t xs_read_u32(const char *path, uint32_t *out);
int32_t xs_write(const char *path, const char *value);
int32_t xs_rm(const char *path);
int32_t xs_directory(const char *path, char *buf, size_t cap); /* NUL-separated names */
int32_t xs_set_perms(const char *path, const char *const *perms, int n);
int32_t xs_watch(const char *path, const char *token, xs_watch_fn fn);
int32_t xs_transaction_start(void);
int32_t xs_transaction_end(int commit);   /* -EAGAIN: conflict, start again */
int32_t xs_unwatch(const char *path, const char *token);
int xs_has_work(void);
void xs_poll(void);                       /* deliver queued watch events (shell loop) */
void xs_resume(void);                     /* ring from start_info; watches registered again */

/* ---- gnttab.c ---- */
void gnttab_init(void);
uint32_t gnttab_frames(void);
int32_t gnttab_grant(domid_t dom, xen_pfn_t gfn, int readonly);  /* ref, or -errno */
int32_t gnttab_end(grant_ref_t ref);                               /* 0, or -EBUSY */
/* These return the hypercall's result (-errno) and the operation's GNTST_* status. */
int32_t gnttab_map(domid_t dom, grant_ref_t ref, uint32_t gpa, int readonly, grant_handle_t *handle,
                   int16_t *status);
int32_t gnttab_unmap(uint32_t gpa, grant_handle_t handle, int16_t *status);

/* ---- balloon.c ---- */
void balloon_init(void);
void control_init(void);
int control_has_work(void);
void control_work(void);
int balloon_has_work(void);
void balloon_work(void);
void balloon_print(void);
int32_t balloon_take_hole(uint32_t *pfn);   /* give one free page back: a hole to map into */
void balloon_fill_hole(uint32_t pfn);

/* ---- xenbus.c: the frontend's handshake helpers (blkfront, netfront) ---- */
int32_t xenbus_read_state(const char *dir);            /* DIR/state, or -errno */
int32_t xenbus_wait_state(const char *dir, int lo, int hi, uint64_t timeout_ns);
int32_t xenbus_switch_state(const char *dir, int s);
int xenbus_grant_page(domid_t to, uint32_t *page, grant_ref_t *ref);  /* a zeroed page granted rw */
void xenbus_end_page(uint32_t page, grant_ref_t ref, const char *who);

/* ---- netfront.c ---- */
void netfront_init(void);
int netfront_has_work(void);
void netfront_work(void);
void netfront_resume(void);               /* a new ring with the backend, then a gratuitous ARP */

/* ---- demo.c: ping / pong / share / peek ---- */

#endif
