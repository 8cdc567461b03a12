/*
 * sv32: Sv32 address translation (privileged spec 4.3): satp, 4 KiB pages and
 * 4 MiB megapages, page faults versus access faults, instruction fetch through the
 * MMU, SFENCE.VMA, A/D bits, and S versus U pages for execution. Data accesses are
 * mostly made from M-mode with MPRV = 1 and MPP = S or U (3.1.6.3), which
 * translates them exactly as S or U would.
 */
#include "sv32.h"

#define RAM_BASE 0x80000000u

static uint32_t root[1024] __attribute__((aligned(4096)));
static uint32_t root_user[1024] __attribute__((aligned(4096)));
uint32_t sv32_l2[1024] __attribute__((aligned(4096)));
uint32_t sv32_pages[4][1024] __attribute__((aligned(4096)));

void sv32_on(int user_root) {
  for (int i = 0; i < 1024; i++) root[i] = root_user[i] = sv32_l2[i] = 0;
  root[RAM_BASE >> 22] = make_pte(RAM_BASE, PTE_V | PTE_R | PTE_W | PTE_X | PTE_AD);
  root_user[RAM_BASE >> 22] = make_pte(RAM_BASE, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_AD);
  root[TEST_VA(0) >> 22] = root_user[TEST_VA(0) >> 22] = make_pte((uintptr_t)sv32_l2, PTE_V);
  root[ALIAS_VA >> 22] = make_pte(RAM_BASE, PTE_V | PTE_R | PTE_AD);
  root[BAD_MEGA_VA >> 22] = make_pte(RAM_BASE + 0x1000, PTE_V | PTE_R | PTE_AD);
  csr_write(satp, SATP_SV32 | (uint32_t)((uintptr_t)(user_root ? root_user : root) >> 12));
  __asm__ volatile("sfence.vma" ::: "memory");
}

void sv32_off(void) {
  csr_write(satp, 0);
  __asm__ volatile("sfence.vma" ::: "memory");
}

void map_page(int i, uintptr_t pa, uint32_t flags) {
  sv32_l2[i] = make_pte(pa, flags);
  __asm__ volatile("sfence.vma" ::: "memory");
}

static volatile uint32_t marker = 0x5eed1234;

static void test_satp(void) {
  csr_write(satp, 0xffffffffu);           /* MODE, all 9 ASID bits and PPN (4.1.11) */
  CHECK(csr_read(satp), 0xffffffffu);
  csr_write(satp, 0);
  CHECK(csr_read(satp), 0);
  sv32_on(0);
  CHECK(csr_read(satp), SATP_SV32 | (uint32_t)((uintptr_t)root >> 12));
  /* M-mode is never translated; S is. */
  CHECK(marker, 0x5eed1234);
  CHECK(mprv_lw((uintptr_t)&marker, PRV_S), 0x5eed1234);
}

static void test_mappings(void) {
  map_page(0, (uintptr_t)sv32_pages[0], PTE_V | PTE_R | PTE_W | PTE_AD);
  sv32_pages[0][1] = 0xabcd0001;
  mprv_sw(TEST_VA(0), 0x600df00d, PRV_S);
  CHECK(sv32_pages[0][0], 0x600df00d);
  CHECK(mprv_lw(TEST_VA(0) + 4, PRV_S), 0xabcd0001);
  /* Megapage: VA offset bits 21:0 pass through. */
  CHECK(mprv_lw(ALIAS_VA + ((uintptr_t)&marker - RAM_BASE), PRV_S), 0x5eed1234);
  /* Misaligned megapage (PPN[0] != 0): page fault (4.3.2 step 6). */
  trap_reset();
  CHECK(mprv_lw(BAD_MEGA_VA + 8, PRV_S), NOT_LOADED);
  CHECK(mtrap.cause, EXC_LOAD_PAGE);
  CHECK(mtrap.tval, BAD_MEGA_VA + 8);
  /* Invalid root entry: load and store page faults, tval = the virtual address. */
  trap_reset();
  CHECK(mprv_lw(UNMAPPED_VA + 0x10, PRV_S), NOT_LOADED);
  CHECK(mtrap.cause, EXC_LOAD_PAGE);
  CHECK(mtrap.tval, UNMAPPED_VA + 0x10);
  trap_reset();
  mprv_sw(UNMAPPED_VA + 0x20, 1, PRV_S);
  CHECK(mtrap.cause, EXC_STORE_PAGE);
  CHECK(mtrap.tval, UNMAPPED_VA + 0x20);
  /* A valid PTE to a physical address with nothing behind it: access fault. */
  map_page(1, 0, PTE_V | PTE_R | PTE_W | PTE_AD);
  trap_reset();
  CHECK(mprv_lw(TEST_VA(1) + UNMAPPED_ADDR, PRV_S), NOT_LOADED);
  CHECK(mtrap.cause, EXC_LOAD_ACCESS);
  CHECK(mtrap.tval, TEST_VA(1) + UNMAPPED_ADDR);
  /* The same from real S-mode code. */
  trap_reset();
  CHECK(run_in_mode(PRV_S, probe_lw, TEST_VA(0) + 4), 0xabcd0001);
  CHECK(run_in_mode(PRV_S, probe_lw, UNMAPPED_VA), NOT_LOADED);
  CHECK(mtrap.count, 1);
  CHECK(mtrap.cause, EXC_LOAD_PAGE);
  CHECK(mtrap.status & MSTATUS_MPP, MPP(PRV_S));
}

#define LI_A0(n) (0x00000513u | ((uint32_t)(n) << 20))
#define RET 0x00008067u

static void test_fetch(void) {
  sv32_pages[3][0] = LI_A0(0x5a5);
  sv32_pages[3][1] = RET;
  __asm__ volatile("fence.i" ::: "memory");
  uint32_t (*jump)(uint32_t) = (uint32_t (*)(uint32_t))(uintptr_t)probe_jump;
  map_page(3, (uintptr_t)sv32_pages[3], PTE_V | PTE_R | PTE_X | PTE_A);
  map_page(4, (uintptr_t)sv32_pages[3], PTE_V | PTE_R | PTE_W | PTE_AD);
  trap_reset();
  CHECK(run_in_mode(PRV_S, jump, TEST_VA(3)), 0x5a5);
  CHECK(mtrap.count, 0);
  /* No X: instruction page fault, mepc = mtval = the target (4.3.2). */
  trap_reset();
  run_in_mode(PRV_S, jump, TEST_VA(4));
  CHECK(mtrap.count, 1);
  CHECK(mtrap.cause, EXC_INSN_PAGE);
  CHECK(mtrap.epc, TEST_VA(4));
  CHECK(mtrap.tval, TEST_VA(4));
  trap_reset();
  run_in_mode(PRV_S, jump, UNMAPPED_VA + 0x40);
  CHECK(mtrap.cause, EXC_INSN_PAGE);
  CHECK(mtrap.tval, UNMAPPED_VA + 0x40);
}

/* SFENCE.VMA orders PTE updates before later translations (4.2.1). */
static void test_sfence(void) {
  sv32_pages[0][0] = 0xaaaa0000;
  sv32_pages[1][0] = 0xbbbb1111;
  map_page(5, (uintptr_t)sv32_pages[0], PTE_V | PTE_R | PTE_A);
  CHECK(mprv_lw(TEST_VA(5), PRV_S), 0xaaaa0000);
  sv32_l2[5] = make_pte((uintptr_t)sv32_pages[1], PTE_V | PTE_R | PTE_A);
  __asm__ volatile("sfence.vma %0, zero" : : "r"(TEST_VA(5)) : "memory");
  CHECK(mprv_lw(TEST_VA(5), PRV_S), 0xbbbb1111);
  sv32_l2[5] = make_pte((uintptr_t)sv32_pages[0], PTE_V | PTE_R | PTE_A);
  __asm__ volatile("sfence.vma zero, %0" : : "r"(0) : "memory");   /* ASID 0 */
  CHECK(mprv_lw(TEST_VA(5), PRV_S), 0xaaaa0000);
  sv32_l2[5] = 0;
  __asm__ volatile("sfence.vma" ::: "memory");
  trap_reset();
  CHECK(mprv_lw(TEST_VA(5), PRV_S), NOT_LOADED);
  CHECK(mtrap.cause, EXC_LOAD_PAGE);
}

/* A and D (4.3.1): QEMU 7.2 sets them in hardware (atomically, on the walk) rather
 * than raising a page fault, so that is what is expected. */
static void test_accessed_dirty(void) {
  map_page(6, (uintptr_t)sv32_pages[2], PTE_V | PTE_R | PTE_W);
  trap_reset();
  mprv_lw(TEST_VA(6), PRV_S);
  CHECK(mtrap.count, 0);
  CHECK(sv32_l2[6] & PTE_AD, PTE_A);
  mprv_sw(TEST_VA(6), 7, PRV_S);
  CHECK(mtrap.count, 0);
  CHECK(sv32_l2[6] & PTE_AD, PTE_AD);
  CHECK(sv32_pages[2][0], 7);
  map_page(7, (uintptr_t)sv32_pages[2], PTE_V | PTE_R | PTE_W);
  mprv_sw(TEST_VA(7) + 4, 8, PRV_S);                 /* a store sets both */
  CHECK(sv32_l2[7] & PTE_AD, PTE_AD);
  sv32_off();
}

/* U-mode runs from U pages; S-mode may never execute U pages (4.3.1), even with SUM. */
static void test_user(void) {
  sv32_on(1);
  map_page(0, (uintptr_t)sv32_pages[0], PTE_V | PTE_R | PTE_W | PTE_U | PTE_AD);
  map_page(1, (uintptr_t)sv32_pages[0], PTE_V | PTE_R | PTE_W | PTE_AD);
  sv32_pages[0][0] = 0x0123abcd;
  trap_reset();
  CHECK(run_in_mode(PRV_U, probe_lw, TEST_VA(0)), 0x0123abcd);
  CHECK(mtrap.count, 0);
  CHECK(run_in_mode(PRV_U, probe_lw, TEST_VA(1)), NOT_LOADED);
  CHECK(mtrap.cause, EXC_LOAD_PAGE);
  CHECK(mtrap.tval, TEST_VA(1));
  trap_reset();
  abort_lower_on_trap = 1;
  csr_write(mstatus, MSTATUS_SUM);
  CHECK(run_in_mode(PRV_S, probe_lw, TEST_VA(0)), RUN_ABORTED);
  CHECK(mtrap.cause, EXC_INSN_PAGE);
  CHECK(exit_mode, PRV_S);
  csr_write(mstatus, 0);
  sv32_off();
}

void test_sv32(void) {
  test_satp();
  test_mappings();
  test_fetch();
  test_sfence();
  test_accessed_dirty();
  test_user();
}
