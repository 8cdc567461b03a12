/*
 * crt0 for hyperlab's bare-metal guests (M-mode, QEMU `virt`, -bios none).
 *
 * Entry state (QEMU hw/riscv/boot.c reset vector): pc = 0x80000000, a0 = mhartid,
 * a1 = device tree address. Only hart 0 runs; any other hart parks in WFI.
 *
 * trap_entry is the machine-mode trap vector (privileged spec 3.1.7, mtvec direct
 * mode): it switches to the trap stack through mscratch, saves all registers in a
 * struct trap_frame (runtime.h) and calls trap_handler(frame). The handler may edit
 * the frame (registers, mepc, mstatus); the edited values are what mret resumes.
 */
#include "frame.h"

  .section .text.init, "ax", @progbits
  .globl _start
_start:
  bnez a0, park                 /* secondary harts: park */
  la sp, __stack_top
  la t0, __trap_stack_top
  csrw mscratch, t0             /* mscratch = trap stack while not in a trap */
  la t0, trap_entry
  csrw mtvec, t0                /* direct mode: low bits 00 */
  la t0, __bss_start
  la t1, __bss_end
1:
  bgeu t0, t1, 2f
  sw zero, 0(t0)
  addi t0, t0, 4
  j 1b
2:
  call main                     /* main(hartid = a0, fdt = a1) */
  call exit                     /* exit(main's return value): never returns */
park:
  wfi
  j park

  .text
  .balign 4
  .globl trap_entry
trap_entry:
  TRAP_VECTOR m, trap_handler     /* frame.h */
