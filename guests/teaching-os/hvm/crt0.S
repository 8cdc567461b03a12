/*
 * hvm entry: QEMU `virt` with -bios none starts hart 0 in M-mode at 0x80000000 with
 * a0 = mhartid and a1 = the device tree. Other harts park. The kernel runs in M-mode;
 * trap_entry saves a struct trap_frame on the trap stack (mscratch) and calls
 * hvm_trap(frame), then returns with mret.
 */
#include "trapframe.h"

  .section .text.init, "ax", @progbits
  .globl _start
_start:
  bnez a0, park
  la sp, __stack_top
  la t0, __trap_stack_top
  csrw mscratch, t0
  la t0, trap_entry
  csrw mtvec, t0
  la t0, __bss_start
  la t1, __bss_end
1:
  bgeu t0, t1, 2f
  sw zero, 0(t0)
  addi t0, t0, 4
  j 1b
2:
  call kmain                    /* kmain(hartid, fdt): never returns */
park:
  wfi
  j park

  .text
  .balign 4
trap_entry:
  csrrw sp, mscratch, sp
  addi sp, sp, -FRAME_SIZE
  SAVE_GPRS
  csrr t0, mscratch
  sw t0, 2*4(sp)
  csrr t0, mepc
  sw t0, FRAME_EPC(sp)
  csrr t0, mcause
  sw t0, FRAME_CAUSE(sp)
  csrr t0, mtval
  sw t0, FRAME_TVAL(sp)
  csrr t0, mstatus
  sw t0, FRAME_STATUS(sp)
  mv a0, sp
  call hvm_trap
  lw t0, FRAME_EPC(sp)
  csrw mepc, t0
  lw t0, FRAME_STATUS(sp)
  csrw mstatus, t0
  lw t0, 2*4(sp)
  csrw mscratch, t0
  RESTORE_GPRS
  addi sp, sp, FRAME_SIZE
  csrrw sp, mscratch, sp
  mret
