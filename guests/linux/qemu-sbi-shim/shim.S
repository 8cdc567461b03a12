/*
 * A minimal M-mode SBI firmware for booting Linux 6.1 (rv32, S-mode) on
 * qemu-system-riscv32 -machine virt, which Debian ships without an rv32 OpenSBI:
 *
 *   qemu-system-riscv32 -machine virt -bios qemu-sbi-shim.bin -kernel linux-6.1-mmu.Image ...
 *
 * QEMU loads it at 0x80000000 and the kernel at the next 4 MiB boundary, and its reset
 * vector enters here with a0 = hartid, a1 = the device tree, a2 = fw_dynamic_info (whose
 * next_addr is the kernel). It is the reference for hyperlab's SBI (src/core/xen/sbi.ts),
 * for one hart, and answers the same: spec 2.0, implementation 7 version 1, extensions
 * BASE, TIME, IPI, RFENCE, HSM, SRST and the legacy console (SBI spec v2.0, chapters 3-10).
 * Everything else returns SBI_ERR_NOT_SUPPORTED.
 */
#define UART      0x10000000
#define FINISHER  0x00100000
#define MTIMECMP  0x02004000

#define EXT_BASE   0x10
#define EXT_TIME   0x54494D45
#define EXT_IPI    0x735049
#define EXT_RFENCE 0x52464E43
#define EXT_HSM    0x48534D
#define EXT_SRST   0x53525354

	.section .text
	.globl _start
_start:
	/* M-mode trap stack, in mscratch while S-mode runs */
	la	t0, stack_top
	csrw	mscratch, t0
	la	t0, trap
	csrw	mtvec, t0
	/* what OpenSBI sets up: PMP open, S interrupts and every exception but ECALL from S delegated, counters readable */
	li	t0, -1
	csrw	pmpaddr0, t0
	li	t0, 0x1f
	csrw	pmpcfg0, t0
	li	t0, 0x222
	csrw	mideleg, t0
	li	t0, 0xb1ff
	csrw	medeleg, t0
	li	t0, 7
	csrw	mcounteren, t0
	csrw	mie, zero
	/* enter the kernel in S-mode: mepc = fw_dynamic_info.next_addr, a0 = hartid, a1 = fdt */
	lw	t0, 8(a2)
	csrw	mepc, t0
	li	t0, 0x1800
	csrc	mstatus, t0
	li	t0, 0x0800
	csrs	mstatus, t0
	csrw	satp, zero
	mret

	.align 2
trap:
	csrrw	sp, mscratch, sp
	addi	sp, sp, -64
	sw	ra, 0(sp)
	sw	t0, 4(sp)
	sw	t1, 8(sp)
	sw	t2, 12(sp)
	sw	a2, 16(sp)
	sw	a3, 20(sp)
	sw	a4, 24(sp)
	sw	a5, 28(sp)
	sw	a6, 32(sp)
	sw	a7, 36(sp)
	csrr	t0, mcause
	bltz	t0, interrupt
	li	t1, 9
	bne	t0, t1, fatal
	csrr	t0, mepc
	addi	t0, t0, 4
	csrw	mepc, t0
	call	ecall
	j	ret

interrupt:	/* the machine timer: hand it to S-mode as STIP (SBI TIME) */
	li	t0, 0x80
	csrc	mie, t0
	li	t0, 0x20
	csrs	mip, t0
ret:
	lw	ra, 0(sp)
	lw	t0, 4(sp)
	lw	t1, 8(sp)
	lw	t2, 12(sp)
	lw	a2, 16(sp)
	lw	a3, 20(sp)
	lw	a4, 24(sp)
	lw	a5, 28(sp)
	lw	a6, 32(sp)
	lw	a7, 36(sp)
	addi	sp, sp, 64
	csrrw	sp, mscratch, sp
	mret

fatal:	/* anything else reaching M-mode: report FAIL with the cause */
	slli	t0, t0, 16
	li	t1, 0x3333
	or	t0, t0, t1
	li	t1, FINISHER
	sw	t0, 0(t1)
1:	j	1b

/* a7 = extension, a6 = function, a0..a2 = arguments; returns a0 = error, a1 = value */
ecall:
	li	t0, 1
	beq	a7, t0, putchar
	li	t0, 2
	beq	a7, t0, getchar
	li	t0, EXT_BASE
	beq	a7, t0, base
	li	t0, EXT_TIME
	beq	a7, t0, time
	li	t0, EXT_IPI
	beq	a7, t0, ipi
	li	t0, EXT_RFENCE
	beq	a7, t0, rfence
	li	t0, EXT_HSM
	beq	a7, t0, hsm
	li	t0, EXT_SRST
	beq	a7, t0, srst
not_supported:
	li	a0, -2
	ret

putchar:	/* legacy: wait for THRE, write THR */
	li	t0, UART
1:	lbu	t1, 5(t0)
	andi	t1, t1, 0x20
	beqz	t1, 1b
	sb	a0, 0(t0)
	li	a0, 0
	ret

getchar:	/* legacy: a byte, or -1 */
	li	t0, UART
	lbu	t1, 5(t0)
	andi	t1, t1, 1
	li	a0, -1
	beqz	t1, 1f
	lbu	a0, 0(t0)
1:	ret

base:
	li	a1, 0x02000000	/* fid 0: spec 2.0 */
	beqz	a6, ok
	li	t0, 1
	li	a1, 7		/* fid 1: implementation id */
	beq	a6, t0, ok
	li	t0, 2
	li	a1, 1		/* fid 2: implementation version */
	beq	a6, t0, ok
	li	t0, 3
	bne	a6, t0, zero_value /* fids 4..6: mvendorid, marchid, mimpid = 0 */
	li	a1, 1		/* fid 3: probe_extension */
	li	t0, 1
	beq	a0, t0, ok
	li	t0, 2
	beq	a0, t0, ok
	li	t0, EXT_BASE
	beq	a0, t0, ok
	li	t0, EXT_TIME
	beq	a0, t0, ok
	li	t0, EXT_IPI
	beq	a0, t0, ok
	li	t0, EXT_RFENCE
	beq	a0, t0, ok
	li	t0, EXT_HSM
	beq	a0, t0, ok
	li	t0, EXT_SRST
	beq	a0, t0, ok
zero_value:
	li	a1, 0
ok:
	li	a0, 0
	ret

time:	/* set_timer(lo = a0, hi = a1): mtimecmp, STIP off, MTIE on */
	bnez	a6, not_supported
	li	t0, MTIMECMP
	li	t1, -1
	sw	t1, 4(t0)
	sw	a0, 0(t0)
	sw	a1, 4(t0)
	li	t0, 0x20
	csrc	mip, t0
	li	t0, 0x80
	csrs	mie, t0
	li	a0, 0
	li	a1, 0
	ret

ipi:	/* send_ipi: hart 0 is the only hart; an IPI to it sets SSIP */
	bnez	a6, not_supported
	li	t0, 2
	csrs	mip, t0
	li	a0, 0
	li	a1, 0
	ret

rfence:	/* remote fences on the only hart: local ones */
	fence.i
	sfence.vma
	li	a0, 0
	li	a1, 0
	ret

hsm:	/* one hart, started: hart_start -> ALREADY_AVAILABLE (-6), hart_get_status -> STARTED (0); other harts INVALID_PARAM (-3) */
	li	t0, 2
	beq	a6, t0, 1f
	bnez	a6, not_supported
	mv	t0, a0
	li	a0, -6
	beqz	t0, 2f
	li	a0, -3
	j	2f
1:	mv	t0, a0
	li	a0, 0
	beqz	t0, 2f
	li	a0, -3
2:	li	a1, 0
	ret

srst:	/* system_reset: shutdown -> finisher PASS, reboots -> finisher RESET */
	bnez	a6, not_supported
	li	t0, FINISHER
	li	t1, 0x5555
	beqz	a0, 1f
	li	t1, 0x7777
1:	sw	t1, 0(t0)
2:	j	2b

	.section .bss
	.align 4
stack:	.space 1024
stack_top:
