/*
 * isa-selftest: shared declarations. Each group lives in its own file and is a
 * function `void test_NAME(void)` that runs between group_begin/group_end (main.c).
 * Checks compare 32-bit values; the first failure of a group is printed with its
 * number and source line, so output is deterministic and failures are easy to find.
 */
#ifndef SELFTEST_H
#define SELFTEST_H

#include "runtime.h"

/* ---- checks (check.c) ---- */
void group_begin(const char *name);
int group_end(void); /* prints the group's line, returns 1 if it failed */
void check_eq(uint32_t got, uint32_t expected, const char *file, int line);
#define CHECK(got, expected) check_eq((uint32_t)(got), (uint32_t)(expected), __FILE_NAME__, __LINE__)
#define CHECK_TRUE(cond) CHECK(!!(cond), 1)

/* ---- privilege modes and CSR fields (privileged spec 1.12, chapter 3) ---- */
#define PRV_U 0u
#define PRV_S 1u
#define PRV_M 3u

#define MSTATUS_SIE  (1u << 1)
#define MSTATUS_MIE  (1u << 3)
#define MSTATUS_SPIE (1u << 5)
#define MSTATUS_MPIE (1u << 7)
#define MSTATUS_SPP  (1u << 8)
#define MSTATUS_MPP  (3u << 11)
#define MSTATUS_MPRV (1u << 17)
#define MSTATUS_SUM  (1u << 18)
#define MSTATUS_MXR  (1u << 19)
#define MSTATUS_TVM  (1u << 20)
#define MSTATUS_TW   (1u << 21)
#define MSTATUS_TSR  (1u << 22)
#define MPP(m) ((uint32_t)(m) << 11)

#define IRQ_SSI 1u
#define IRQ_MSI 3u
#define IRQ_STI 5u
#define IRQ_MTI 7u
#define IRQ_SEI 9u
#define IRQ_MEI 11u
#define INTERRUPT (1u << 31)

/* Exception codes (privileged spec table 3.6). */
#define EXC_INSN_MISALIGNED 0u
#define EXC_INSN_ACCESS     1u
#define EXC_ILLEGAL         2u
#define EXC_BREAKPOINT      3u
#define EXC_LOAD_MISALIGNED 4u
#define EXC_LOAD_ACCESS     5u
#define EXC_STORE_MISALIGNED 6u
#define EXC_STORE_ACCESS    7u
#define EXC_ECALL_U         8u
#define EXC_ECALL_S         9u
#define EXC_ECALL_M         11u
#define EXC_INSN_PAGE       12u
#define EXC_LOAD_PAGE       13u
#define EXC_STORE_PAGE      15u

/* An address with no device behind it on `virt` (QEMU leaves 0x0..0xfff unmapped
 * apart from the boot ROM at 0x1000): loads, stores and fetches get access faults. */
#define UNMAPPED_ADDR 0x00000800u
/* The value a load leaves in its destination when it trapped (set beforehand). */
#define NOT_LOADED 0xbad0bad0u

/* ---- trap recording (trap.c) ---- */
struct trap_log {
  uint32_t count;  /* traps taken since trap_reset() */
  uint32_t cause, tval, epc, status;
  uint32_t causes[8]; /* the first 8 causes, in order */
};
extern volatile struct trap_log mtrap;  /* traps taken to M-mode */
extern volatile struct trap_log strap;  /* traps taken to S-mode (stvec) */
void trap_reset(void);

/* Called for interrupts taken to M (resp. S); must quiet the source. Default: clear
 * the interrupt's enable bit in mie (resp. sie). */
extern void (*volatile m_irq_hook)(uint32_t cause);
extern void (*volatile s_irq_hook)(uint32_t cause);

/* When set, any exception taken to M from S or U ends run_in_mode() early, which then
 * returns RUN_ABORTED (the cause is in mtrap). */
extern volatile uint32_t abort_lower_on_trap;
#define RUN_ABORTED 0xab0a7ed0u

/* ---- running code in another mode (modes.S) ---- */
/* Enter `mode` through mret at fn(arg); fn's return value comes back through an
 * ecall with a7 = ECALL_EXIT, handled by the M trap handler. */
#define ECALL_EXIT 0x45584954u /* "EXIT" */
uint32_t run_in_mode(uint32_t mode, uint32_t (*fn)(uint32_t), uint32_t arg);
extern volatile uint32_t exit_mode; /* privilege mode the last run_in_mode ended in */
void run_in_mode_return(void);      /* internal: where the exit ecall resumes */

void s_trap_entry(void);          /* S-mode trap vector (direct mode) */
void m_vector_table(void);        /* mtvec vectored table, 16 slots */
void s_vector_table(void);        /* stvec vectored table, 16 slots */
extern volatile uint32_t vector_slot; /* slot entered last, set by the tables */

/* M-mode loads/stores with MPRV = 1 and MPP = mode (privileged spec 3.1.6.3). */
uint32_t mprv_lw(uint32_t addr, uint32_t mode);
void mprv_sw(uint32_t addr, uint32_t value, uint32_t mode);

/* Plain accesses whose faults are skipped: the destination keeps NOT_LOADED. */
uint32_t probe_lw(uint32_t addr);
void probe_lw_insn(void); /* the address of probe_lw's load instruction */
void probe_sw(uint32_t addr, uint32_t value);
/* Jump to addr with ra = the return address: a fetch fault returns via ra. */
void probe_jump(uint32_t addr);

/* ---- groups ---- */
void test_rv32i(void);
void test_rv32i_mem(void);
void test_rv32m(void);
void test_rv32a(void);
void test_zicsr(void);
void test_zifencei(void);
void test_machine(void);
void test_exceptions(void);
void test_privilege(void);
void test_delegation(void);
void test_interrupts(void);
void test_plic(void);
void test_counters(void);
void test_pmp(void);
void test_sv32(void);
void test_sv32_perm(void);

void pmp_allow_all(void);

#endif
