/*
 * Mode switching and trap plumbing for isa-selftest.
 *
 * run_in_mode(mode, fn, arg): saves the M-mode callee-saved state, sets mstatus.MPP
 * = mode and mepc = lower_trampoline, and executes mret (privileged spec 3.3.2). The
 * trampoline calls fn(arg) in that mode and reports the result with an ecall whose
 * a7 = ECALL_EXIT; the M trap handler (trap.c) then resumes at run_in_mode_return in
 * M-mode with a0 = the result, which restores the saved state and returns.
 */
#include "frame.h"

#define ECALL_EXIT 0x45584954
#define NOT_LOADED 0xbad0bad0
#define MSTATUS_MPP  (3 << 11)
#define MSTATUS_MPRV (1 << 17)

  .text
  .globl run_in_mode
run_in_mode:                    /* a0 = mode, a1 = fn, a2 = arg */
  la t0, m_ctx
  sw ra, 0(t0)
  sw sp, 4(t0)
  .irp n, 0,1,2,3,4,5,6,7,8,9,10,11
  sw s\n, (8 + 4 * \n)(t0)
  .endr
  li t1, MSTATUS_MPP
  csrc mstatus, t1
  slli t1, a0, 11
  csrs mstatus, t1
  la t1, lower_trampoline
  csrw mepc, t1
  mv a0, a2
  mret

lower_trampoline:               /* runs in the target mode */
  jalr ra, 0(a1)
  li a7, ECALL_EXIT
  ecall
1:
  j 1b                          /* not reached */

  .globl run_in_mode_return
run_in_mode_return:             /* M-mode again, a0 = result */
  la t0, m_ctx
  lw ra, 0(t0)
  lw sp, 4(t0)
  .irp n, 0,1,2,3,4,5,6,7,8,9,10,11
  lw s\n, (8 + 4 * \n)(t0)
  .endr
  ret

/* S-mode trap vector: like trap_entry (crt0.S) with the S-mode CSRs. */
  .balign 4
  .globl s_trap_entry
s_trap_entry:
  csrrw sp, sscratch, sp
  addi sp, sp, -FRAME_SIZE
  SAVE_GPRS
  csrr t0, sscratch
  sw t0, 2*4(sp)
  csrr t0, sepc
  sw t0, FRAME_EPC(sp)
  csrr t0, scause
  sw t0, FRAME_CAUSE(sp)
  csrr t0, stval
  sw t0, FRAME_TVAL(sp)
  csrr t0, sstatus
  sw t0, FRAME_STATUS(sp)
  mv a0, sp
  call s_trap_handler
  lw t0, FRAME_EPC(sp)
  csrw sepc, t0
  lw t0, FRAME_STATUS(sp)
  csrw sstatus, t0
  lw t0, 2*4(sp)
  csrw sscratch, t0
  RESTORE_GPRS
  addi sp, sp, FRAME_SIZE
  csrrw sp, sscratch, sp
  sret

/*
 * Vectored trap tables (privileged spec 3.1.7: in vectored mode, interrupt `cause`
 * enters at BASE + 4 * cause, exceptions at BASE). Each slot records its number in
 * vector_slot, using two words just below the trap stack, then joins the common entry.
 */
.macro VECTOR_TABLE name, scratch, entry
  .balign 256
  .globl \name
\name:
  .irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
  j \name\()_\k
  .endr
  .irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
\name\()_\k:
  csrrw sp, \scratch, sp
  sw t0, -4(sp)
  sw t1, -8(sp)
  li t0, \k
  la t1, vector_slot
  sw t0, 0(t1)
  lw t1, -8(sp)
  lw t0, -4(sp)
  csrrw sp, \scratch, sp
  j \entry
  .endr
.endm

  VECTOR_TABLE m_vector_table, mscratch, trap_entry
  VECTOR_TABLE s_vector_table, sscratch, s_trap_entry

/* uint32_t mprv_lw(addr, mode): lw with MPRV = 1, MPP = mode. No other memory
 * access happens while MPRV is set (a trap's mret leaves MPP = U behind). */
  .globl mprv_lw
mprv_lw:
  csrr t1, mstatus
  li t2, MSTATUS_MPP | MSTATUS_MPRV
  csrc mstatus, t2
  slli t3, a1, 11
  li t2, MSTATUS_MPRV
  or t3, t3, t2
  mv t0, a0
  li a0, NOT_LOADED
  csrs mstatus, t3
  lw a0, 0(t0)
  csrw mstatus, t1
  ret

  .globl mprv_sw                /* void mprv_sw(addr, value, mode) */
mprv_sw:
  csrr t1, mstatus
  li t2, MSTATUS_MPP | MSTATUS_MPRV
  csrc mstatus, t2
  slli t3, a2, 11
  li t2, MSTATUS_MPRV
  or t3, t3, t2
  csrs mstatus, t3
  sw a1, 0(a0)
  csrw mstatus, t1
  ret

  .globl probe_lw
probe_lw:
  mv t0, a0
  li a0, NOT_LOADED
  .globl probe_lw_insn
probe_lw_insn:
  lw a0, 0(t0)
  ret

  .globl probe_sw
probe_sw:
  sw a1, 0(a0)
  ret

  .globl probe_jump
probe_jump:                     /* tail jump: a fetch fault resumes at ra */
  jr a0

  .bss
  .balign 4
m_ctx:
  .space 4 * 14
