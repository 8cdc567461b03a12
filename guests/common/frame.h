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
#endif

#endif
