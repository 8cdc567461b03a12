/*
 * pv entry (docs/abi.md section 1): vCPU 0 starts in S-mode at the ELF entry with
 * satp = 0, interrupts off, a0 = vCPU id and a1 = the guest-physical address of
 * start_info. The teaching OS runs on vCPU 0; the `smp` command (smp.c) brings the
 * others up at smp_entry for a while, and any vCPU started at _start takes itself down.
 *
 * trap_entry is the S-mode trap vector, and so the event-channel upcall's entry point
 * (there is no callback to register: stvec is the callback). It saves a struct
 * trap_frame on the trap stack (sscratch) and calls pv_trap(frame), then sret: the
 * TRAP_VECTOR of guests/common/frame.h, as common/crt0.S uses it in M-mode.
 */
#include "frame.h"   /* guests/common: struct trap_frame layout, TRAP_VECTOR */

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
  call main                     /* main(vcpu id, start_info): never returns */
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
  TRAP_VECTOR s, pv_trap
