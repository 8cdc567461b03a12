/*
 * One-instruction helpers for the privilege tests. Each executes its instruction at
 * the function's own address, so a test knows the mepc/sepc to expect.
 */
#define ECALL_EXIT 0x45584954

  .text
  .globl do_ecall, do_ecall_insn, do_ebreak, do_wfi, do_mret, do_sret, do_sfence, do_read_satp
  .globl do_read_mstatus, do_read_sstatus, do_read_mscratch
do_ecall:        li a7, 0            /* not ECALL_EXIT */
do_ecall_insn:   ecall;               ret
do_ebreak:       ebreak;              ret
do_wfi:          wfi;                 ret
do_mret:         mret;                ret
do_sret:         sret;                ret
do_sfence:       sfence.vma;          ret
do_read_satp:    csrr a0, satp;       ret
do_read_mstatus: csrr a0, mstatus;    ret
do_read_sstatus: csrr a0, sstatus;    ret
do_read_mscratch: csrr a0, mscratch;  ret

/* uint32_t mret_to_m(uint32_t mstatus): M-mode mret to the next line with the given
 * mstatus (whose MPP should be M); returns mstatus as mret left it. */
  .globl mret_to_m
mret_to_m:
  csrw mstatus, a0
  la t0, 1f
  csrw mepc, t0
  mret
1:
  csrr a0, mstatus
  ret

/* uint32_t sret_to_s(uint32_t sstatus): the same for sret, in S-mode (SPP = 1). */
  .globl sret_to_s
sret_to_s:
  csrw sstatus, a0
  la t0, 1f
  csrw sepc, t0
  sret
1:
  csrr a0, sstatus
  ret

/* uint32_t s_enter_user(fn): from S-mode, sret into U-mode at fn(0); fn's result
 * ends run_in_mode() with an exit ecall from U (modes.S lower_trampoline). */
  .globl s_enter_user
s_enter_user:
  mv a1, a0
  li a0, 0
  la t0, lower_trampoline_u
  csrw sepc, t0
  li t0, 1 << 8               /* SPP */
  csrc sstatus, t0
  sret
lower_trampoline_u:
  jalr ra, 0(a1)
  li a7, ECALL_EXIT
  ecall
1:
  j 1b
