/*
 * Layout of struct trap_frame (runtime.h), shared by the assembly trap entries.
 * regs[0..31] hold x0..x31 (x0's slot is unused, x2's slot holds the interrupted
 * sp), followed by the trap CSRs. Keep in sync with struct trap_frame.
 */
#ifndef HYPERLAB_FRAME_H
#define HYPERLAB_FRAME_H

#define FRAME_EPC    (32 * 4)
#define FRAME_CAUSE  (33 * 4)
#define FRAME_TVAL   (34 * 4)
#define FRAME_STATUS (35 * 4)
#define FRAME_SIZE   (36 * 4)

#ifdef __ASSEMBLER__
/* Save / restore x1 and x3..x31 at regs[n] of the frame at sp. */
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

/*
 * TRAP_VECTOR mode, handler: the body of a trap vector for privilege mode `m` or `s`
 * (privileged spec 3.1.7 / 4.1.2, direct mode). It swaps sp with the trap stack held in
 * <mode>scratch, saves a struct trap_frame there (the interrupted sp in regs[2], then
 * <mode>epc, cause, tval, status), calls handler(frame), and resumes with <mode>ret from
 * the frame as the handler left it (registers, epc, status and sp may all be edited).
 * <mode>scratch holds the trap stack top again afterwards.
 */
.macro TRAP_VECTOR mode, handler
  csrrw sp, \mode\()scratch, sp   /* sp = trap stack, scratch = interrupted sp */
  addi sp, sp, -FRAME_SIZE
  SAVE_GPRS
  csrr t0, \mode\()scratch
  sw t0, 2*4(sp)                  /* the interrupted sp goes into regs[2] */
  csrr t0, \mode\()epc
  sw t0, FRAME_EPC(sp)
  csrr t0, \mode\()cause
  sw t0, FRAME_CAUSE(sp)
  csrr t0, \mode\()tval
  sw t0, FRAME_TVAL(sp)
  csrr t0, \mode\()status
  sw t0, FRAME_STATUS(sp)
  mv a0, sp
  call \handler
  lw t0, FRAME_EPC(sp)
  csrw \mode\()epc, t0
  lw t0, FRAME_STATUS(sp)
  csrw \mode\()status, t0
  lw t0, 2*4(sp)
  csrw \mode\()scratch, t0        /* the (possibly edited) sp to resume with */
  RESTORE_GPRS
  addi sp, sp, FRAME_SIZE
  csrrw sp, \mode\()scratch, sp   /* sp = resumed sp, scratch = trap stack top */
  \mode\()ret
.endm
#endif

#endif
