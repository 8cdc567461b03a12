/*
 * The registers a trap entry (hvm/crt0.S in M-mode, pv/crt0.S in S-mode) saves:
 * regs[0..31] = x0..x31 (x2's slot holds the interrupted sp), then the trap CSRs.
 */
#ifndef TOS_TRAPFRAME_H
#define TOS_TRAPFRAME_H

#define FRAME_EPC    (32 * 4)
#define FRAME_CAUSE  (33 * 4)
#define FRAME_TVAL   (34 * 4)
#define FRAME_STATUS (35 * 4)
#define FRAME_SIZE   (36 * 4)

#ifdef __ASSEMBLER__
.macro SAVE_GPRS
  .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  sw x\n, \n*4(sp)
  .endr
.endm
.macro RESTORE_GPRS
  .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  lw x\n, \n*4(sp)
  .endr
.endm
#else
#include <stdint.h>
struct trap_frame {
  uint32_t regs[32];
  uint32_t epc, cause, tval, status;
};
#endif

#define CSR_READ(csr) ({ uint32_t v_; __asm__ volatile("csrr %0, " #csr : "=r"(v_)); v_; })
#define CSR_WRITE(csr, val) __asm__ volatile("csrw " #csr ", %0" ::"r"((uint32_t)(val)) : "memory")
#define CSR_SET(csr, val) __asm__ volatile("csrs " #csr ", %0" ::"r"((uint32_t)(val)) : "memory")
#define CSR_CLEAR(csr, val) __asm__ volatile("csrc " #csr ", %0" ::"r"((uint32_t)(val)) : "memory")
#define CSR_READ_CLEAR(csr, val) ({ uint32_t v_; \
  __asm__ volatile("csrrc %0, " #csr ", %1" : "=r"(v_) : "r"((uint32_t)(val)) : "memory"); v_; })

#endif
