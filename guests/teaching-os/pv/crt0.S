/*
 * pv entry (docs/abi.md section 1): vCPU 0 starts in S-mode at the ELF entry with
 * satp = 0, interrupts off, a0 = vCPU id and a1 = the guest-physical address of
 * start_info. The teaching OS runs on vCPU 0; the `smp` command (smp.c) brings the
 * others up at smp_entry for a while, and any vCPU started at _start takes itself down.
 *
 * trap_entry is the S-mode trap vector, and so the event-channel upcall's entry point
 * (there is no callback to register: stvec is the callback). It saves a struct
 * trap_frame on the trap stack (sscratch) and calls pv_trap(frame), then sret.
 */
#include "trapframe.h"

  .section .text.init, "ax", @progbits
  .globl _start
_start:
  bnez a0, park
  la sp, __stack_top
  la t0, __trap_stack_top
  csrw sscratch, t0
  la t0, trap_entry
  csrw stvec, t0
  la t0, __bss_start
  la t1, __bss_end
1:
  bgeu t0, t1, 2f
  sw zero, 0(t0)
  addi t0, t0, 4
  j 1b
2:
  call kmain                    /* kmain(vcpu id, start_info): never returns */
  .globl smp_entry
smp_entry:                      /* VCPUOP_up (smp.c): a0 = vCPU id, a1 = its stack top */
  mv sp, a1
  call smp_secondary            /* takes itself down: never returns */
park:                           /* vcpu_op(VCPUOP_down, a0, NULL) */
  mv a1, a0
  li a0, 2
  li a2, 0
  li a6, 24
  li a7, 0x0A000007
  ecall
  wfi
  j park

  .text
  .balign 4
trap_entry:
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
  call pv_trap
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
