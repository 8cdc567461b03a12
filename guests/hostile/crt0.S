/*
 * hostile: S-mode pv entry (docs/abi.md section 1). vCPU 0 starts at _start with
 * a0 = vCPU id, a1 = start_info; a vCPU brought up with VCPUOP_up starts at spin_entry
 * and spins, counting in spin_counter, until the hypervisor stops it.
 *
 * trap_entry is common/frame.h's S-mode TRAP_VECTOR: a struct trap_frame on the trap
 * stack (sscratch), then hostile_trap(frame), which fixes the frame up (a faulting probe
 * returns -1, any other fault restarts the shell); sret resumes what the frame says.
 */
#include "frame.h"

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
  call hostile_main             /* hostile_main(vcpu id, start_info): never returns */
park:
  wfi
  j park

  .globl spin_entry
spin_entry:                     /* VCPUOP_up: count forever */
  la t0, spin_counter
3:
  lw t1, 0(t0)
  addi t1, t1, 1
  sw t1, 0(t0)
  j 3b

  .text
  .balign 4
  /* Probes: a load or store that may fault. The trap handler makes a faulting probe
   * return -1 (loads: in *ok) by resuming at ra with a0 = -1. */
  .globl probe_read
probe_read:                     /* uint32_t probe_read(uint32_t addr, int *ok) */
  sw zero, 0(a1)
  .globl probe_read_insn
probe_read_insn:
  lw a0, 0(a0)
  ret
  .globl probe_write
probe_write:                    /* int probe_write(uint32_t addr, uint32_t v): 0 or -1 */
  .globl probe_write_insn
probe_write_insn:
  sw a1, 0(a0)
  li a0, 0
  ret

  .globl restart_shell
restart_shell:                  /* where a fault outside a probe resumes */
  la sp, __stack_top
  call shell_loop

  .balign 4
trap_entry:
  TRAP_VECTOR s, hostile_trap
