/*
 * Sv32 page tables for the sv32 groups (privileged spec 4.3). The first 4 MiB of
 * RAM (code, data, stacks, these tables) are identity-mapped by one megapage;
 * test pages are mapped at TEST_VA(i) through sv32_l2.
 */
#ifndef SV32_H
#define SV32_H

#include "selftest.h"

#define PTE_V 0x01u
#define PTE_R 0x02u
#define PTE_W 0x04u
#define PTE_X 0x08u
#define PTE_U 0x10u
#define PTE_G 0x20u
#define PTE_A 0x40u
#define PTE_D 0x80u
#define PTE_AD (PTE_A | PTE_D)

#define SATP_SV32 0x80000000u
#define TEST_VA(i) (0x40000000u + (uint32_t)(i) * 4096u)
#define UNMAPPED_VA 0x50000000u  /* root entry 320 stays invalid */
#define ALIAS_VA 0x00400000u     /* megapage alias of RAM at 0x80000000 */
#define BAD_MEGA_VA 0x00800000u  /* misaligned megapage */

extern uint32_t sv32_l2[1024];
extern uint32_t sv32_pages[4][1024];

static inline uint32_t make_pte(uintptr_t pa, uint32_t flags) {
  return (uint32_t)(pa >> 12) << 10 | flags;
}

void sv32_on(int user_root);  /* build the tables, satp = root (or the U root) */
void sv32_off(void);
void map_page(int i, uintptr_t pa, uint32_t flags);  /* TEST_VA(i) -> pa, then sfence */

#endif
