/*
 * machine: the machine-level information and WARL registers (privileged spec 3.1):
 * misa, the ID registers, mstatus/medeleg/mideleg/mie/mip write masks, mtvec modes.
 * Bits whose behaviour QEMU 7.2 leaves outside RV32IMA (F, V, H) are not checked.
 */
#include "selftest.h"

#define MISA_MXL32 (1u << 30)
#define MISA_EXT(c) (1u << ((c) - 'A'))

/* mstatus fields that RV32IMA with S and U must implement as writable (3.1.6). */
#define MSTATUS_WRITABLE (MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | \
  MSTATUS_SPP | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | \
  MSTATUS_TW | MSTATUS_TSR)
/* Exceptions that can be delegated (3.1.8): all but ecall-from-M (11); 10 and 14
 * are reserved and not checked. */
#define MEDELEG_DELEGABLE 0xb3ffu
#define S_INTERRUPTS ((1u << IRQ_SSI) | (1u << IRQ_STI) | (1u << IRQ_SEI))
#define M_INTERRUPTS ((1u << IRQ_MSI) | (1u << IRQ_MTI) | (1u << IRQ_MEI))

static void test_ids(void) {
  uint32_t misa = csr_read(misa);
  uint32_t need = MISA_MXL32 | MISA_EXT('I') | MISA_EXT('M') | MISA_EXT('A') | MISA_EXT('S') |
                  MISA_EXT('U');
  CHECK(misa & need, need);
  CHECK(misa >> 30, 1);                   /* MXL = 1: XLEN 32 */
  CHECK(misa & MISA_EXT('E'), 0);
  CHECK(csr_read(mhartid), 0);
  CHECK(csr_read(mvendorid), 0);          /* 0: "not implemented / non-commercial" */
  uint32_t v;
  __asm__ volatile("csrr %0, 0xf15" : "=r"(v)); /* mconfigptr (1.12): 0 = none */
  CHECK(v, 0);
  __asm__ volatile("csrr %0, 0x30a" : "=r"(v)); /* menvcfg (1.12) */
  CHECK(v & 1, 0);
  CHECK(csr_read(mstatush), 0);           /* MBE = SBE = 0: little-endian */
}

static void test_mstatus(void) {
  csr_write(mstatus, 0xffffffffu);
  uint32_t v = csr_read(mstatus);
  CHECK(v & MSTATUS_WRITABLE, MSTATUS_WRITABLE);
  CHECK(v & (1u << 6), 0);                /* UBE = 0: little-endian */
  csr_write(mstatus, 0);
  CHECK(csr_read(mstatus) & MSTATUS_WRITABLE, 0);
  /* MPP is WARL: M and S and U are legal values. */
  for (uint32_t m = 0; m <= 3; m += (m == 1 ? 2 : 1)) {
    csr_write(mstatus, MPP(m));
    CHECK((csr_read(mstatus) & MSTATUS_MPP) >> 11, m);
  }
  csr_write(mstatus, 0);
  /* sstatus is a restricted view of mstatus (4.1.1). */
  csr_write(sstatus, 0xffffffffu);
  v = csr_read(mstatus);
  CHECK(v & (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR),
        MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR);
  CHECK(v & (MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_TVM |
             MSTATUS_TW | MSTATUS_TSR), 0);
  csr_write(mstatus, MSTATUS_MIE | MSTATUS_TVM | MSTATUS_SUM);
  CHECK(csr_read(sstatus) & (MSTATUS_MIE | MSTATUS_TVM | MSTATUS_SUM), MSTATUS_SUM);
  csr_write(mstatus, 0);
}

static void test_delegation_masks(void) {
  csr_write(medeleg, 0xffffffffu);
  CHECK(csr_read(medeleg) & MEDELEG_DELEGABLE, MEDELEG_DELEGABLE);
  csr_write(medeleg, 0);
  CHECK(csr_read(medeleg), 0);
  csr_write(mideleg, 0xffffffffu);
  CHECK(csr_read(mideleg) & (S_INTERRUPTS | M_INTERRUPTS), S_INTERRUPTS);
  csr_write(mideleg, 0);
  CHECK(csr_read(mideleg) & (S_INTERRUPTS | M_INTERRUPTS), 0); /* with H, VS bits read 1 */
  csr_write(mie, 0xffffffffu);
  CHECK(csr_read(mie) & (S_INTERRUPTS | M_INTERRUPTS), S_INTERRUPTS | M_INTERRUPTS);
  csr_write(mie, 0);
  CHECK(csr_read(mie), 0);
  /* mip: SSIP, STIP, SEIP are writable from M; MSIP/MTIP/MEIP mirror the CLINT and PLIC. */
  csr_write(mip, 0xffffffffu);
  CHECK(csr_read(mip) & (S_INTERRUPTS | M_INTERRUPTS), S_INTERRUPTS);
  csr_write(mip, 0);
  CHECK(csr_read(mip) & (S_INTERRUPTS | M_INTERRUPTS), 0);
  /* sie/sip show only what mideleg delegates (4.1.3). */
  csr_write(sie, 0xffffffffu);
  CHECK(csr_read(sie), 0);
  csr_write(mideleg, S_INTERRUPTS);
  csr_write(sie, 0xffffffffu);
  CHECK(csr_read(sie) & (S_INTERRUPTS | M_INTERRUPTS), S_INTERRUPTS);
  CHECK(csr_read(mie) & (S_INTERRUPTS | M_INTERRUPTS), S_INTERRUPTS);
  csr_write(sip, 1u << IRQ_SSI);          /* only SSIP is writable through sip */
  CHECK(csr_read(mip) & S_INTERRUPTS, 1u << IRQ_SSI);
  csr_write(sip, 0);
  CHECK(csr_read(mip) & S_INTERRUPTS, 0);
  csr_write(sie, 0);
  csr_write(mideleg, 0);
}

/* mtvec/stvec (3.1.7): MODE 0 = direct, 1 = vectored; 2 and 3 are reserved and QEMU
 * 7.2 ignores such writes, so only "the reserved mode did not stick" is checked. */
static void test_tvec(void) {
  csr_write(mtvec, 0x80000100u);
  CHECK(csr_read(mtvec), 0x80000100u);
  csr_write(mtvec, 0x80000101u);
  CHECK(csr_read(mtvec), 0x80000101u);
  csr_write(mtvec, 0x80000202u);
  CHECK(csr_read(mtvec) & 2, 0);
  csr_write(stvec, 0x80000300u);
  CHECK(csr_read(stvec), 0x80000300u);
  csr_write(stvec, 0x80000401u);
  CHECK(csr_read(stvec), 0x80000401u);
  csr_write(stvec, 0x80000503u);
  CHECK(csr_read(stvec) & 2, 0);
  csr_write(mtvec, (uintptr_t)trap_entry);
}

/* Other full-width registers. xepc[1:0] should read 0 without C (3.1.14), but
 * QEMU 7.2 keeps them, so only bits 31:2 are checked. */
static void test_scratch_epc(void) {
  uint32_t saved = csr_read(mscratch); /* the trap stack (crt0.S) */
  csr_write(mscratch, 0xffffffffu);
  CHECK(csr_read(mscratch), 0xffffffffu);
  csr_write(mscratch, saved);
  csr_write(mepc, 0xfffffffcu);
  CHECK(csr_read(mepc), 0xfffffffcu);
  csr_write(mepc, 0xffffffffu);
  CHECK(csr_read(mepc) | 3, 0xffffffffu);
  csr_write(sepc, 0x80001234u);
  CHECK(csr_read(sepc), 0x80001234u);
  csr_write(mtval, 0x12345678u);
  CHECK(csr_read(mtval), 0x12345678u);
  csr_write(stval, 0x9abcdef0u);
  CHECK(csr_read(stval), 0x9abcdef0u);
  csr_write(mcause, 0x80000007u);
  CHECK(csr_read(mcause), 0x80000007u);
  csr_write(scause, 2);
  CHECK(csr_read(scause), 2);
}

void test_machine(void) {
  test_ids();
  test_mstatus();
  test_delegation_masks();
  test_tvec();
  test_scratch_epc();
}
