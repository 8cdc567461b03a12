/*
 * sv32-perm: the permission rules of a leaf PTE (privileged spec 4.3.1, 4.3.2 and
 * 3.1.6.3): R/W/X combinations, reserved encodings, U pages and SUM, MXR, and
 * malformed tables. Every access is made from M-mode with MPRV = 1.
 */
#include "sv32.h"

#define OK 0x0b0b0b0bu

/* Load through TEST_VA(i) as `mode`: OK, or the exception cause if it faulted. */
static uint32_t load_as(int i, uint32_t mode) {
  trap_reset();
  uint32_t v = mprv_lw(TEST_VA(i), mode);
  if (mtrap.count) {
    CHECK(mtrap.tval, TEST_VA(i));
    return mtrap.cause;
  }
  return v == sv32_pages[1][0] ? OK : v;
}

static uint32_t store_as(int i, uint32_t mode) {
  trap_reset();
  mprv_sw(TEST_VA(i) + 8, 0x5700 + i, mode);
  if (mtrap.count) {
    CHECK(mtrap.tval, TEST_VA(i) + 8);
    return mtrap.cause;
  }
  return sv32_pages[1][2] == 0x5700u + i ? OK : sv32_pages[1][2];
}

static void test_rwx(void) {
  uintptr_t pa = (uintptr_t)sv32_pages[1];
  sv32_pages[1][0] = 0x1eaf1eaf;
  map_page(0, pa, PTE_V | PTE_R | PTE_AD);
  map_page(1, pa, PTE_V | PTE_R | PTE_W | PTE_AD);
  map_page(2, pa, PTE_V | PTE_X | PTE_AD);
  map_page(3, pa, PTE_V | PTE_W | PTE_AD);           /* W without R: reserved */
  map_page(4, pa, PTE_V | PTE_W | PTE_X | PTE_AD);   /* reserved too */
  map_page(5, pa, PTE_R | PTE_W | PTE_AD);           /* V = 0 */
  CHECK(load_as(0, PRV_S), OK);
  CHECK(store_as(0, PRV_S), EXC_STORE_PAGE);
  CHECK(load_as(1, PRV_S), OK);
  CHECK(store_as(1, PRV_S), OK);
  CHECK(load_as(2, PRV_S), EXC_LOAD_PAGE);
  CHECK(store_as(2, PRV_S), EXC_STORE_PAGE);
  CHECK(load_as(3, PRV_S), EXC_LOAD_PAGE);
  CHECK(store_as(3, PRV_S), EXC_STORE_PAGE);
  CHECK(load_as(4, PRV_S), EXC_LOAD_PAGE);
  CHECK(store_as(4, PRV_S), EXC_STORE_PAGE);
  CHECK(load_as(5, PRV_S), EXC_LOAD_PAGE);
  CHECK(store_as(5, PRV_S), EXC_STORE_PAGE);
  /* MXR: loads from executable pages succeed. */
  csr_write(mstatus, MSTATUS_MXR);
  CHECK(load_as(2, PRV_S), OK);
  CHECK(store_as(2, PRV_S), EXC_STORE_PAGE);
  CHECK(load_as(3, PRV_S), EXC_LOAD_PAGE);
  csr_write(mstatus, 0);
}

static void test_user_pages(void) {
  uintptr_t pa = (uintptr_t)sv32_pages[1];
  map_page(0, pa, PTE_V | PTE_R | PTE_W | PTE_U | PTE_AD);
  map_page(1, pa, PTE_V | PTE_R | PTE_W | PTE_AD);
  map_page(2, pa, PTE_V | PTE_X | PTE_U | PTE_AD);
  /* U accesses U pages only. */
  CHECK(load_as(0, PRV_U), OK);
  CHECK(store_as(0, PRV_U), OK);
  CHECK(load_as(1, PRV_U), EXC_LOAD_PAGE);
  CHECK(store_as(1, PRV_U), EXC_STORE_PAGE);
  /* S accesses U pages only with SUM. */
  CHECK(load_as(0, PRV_S), EXC_LOAD_PAGE);
  CHECK(store_as(0, PRV_S), EXC_STORE_PAGE);
  csr_write(mstatus, MSTATUS_SUM);
  CHECK(load_as(0, PRV_S), OK);
  CHECK(store_as(0, PRV_S), OK);
  CHECK(load_as(1, PRV_S), OK);
  CHECK(load_as(2, PRV_S), EXC_LOAD_PAGE);           /* X-only U page, no MXR */
  csr_write(mstatus, MSTATUS_SUM | MSTATUS_MXR);
  CHECK(load_as(2, PRV_S), OK);
  csr_write(mstatus, MSTATUS_MXR);                   /* MXR alone does not grant U pages */
  CHECK(load_as(2, PRV_S), EXC_LOAD_PAGE);
  CHECK(load_as(2, PRV_U), OK);                      /* ...but U may read X-only with MXR */
  csr_write(mstatus, 0);
  CHECK(load_as(2, PRV_U), EXC_LOAD_PAGE);
}

static void test_malformed(void) {
  /* A pointer PTE (V, RWX = 0) at the last level: page fault (4.3.2 step 4). */
  map_page(0, (uintptr_t)sv32_pages[1], PTE_V);
  CHECK(load_as(0, PRV_S), EXC_LOAD_PAGE);
  /* D set without A, read-only with D: legal, the access succeeds. */
  map_page(1, (uintptr_t)sv32_pages[1], PTE_V | PTE_R | PTE_A | PTE_D);
  CHECK(load_as(1, PRV_S), OK);
  /* G bit is just a hint for the TLB. */
  map_page(2, (uintptr_t)sv32_pages[1], PTE_V | PTE_R | PTE_G | PTE_AD);
  CHECK(load_as(2, PRV_S), OK);
}

void test_sv32_perm(void) {
  sv32_on(0);
  test_rwx();
  test_user_pages();
  test_malformed();
  sv32_off();
}
