/*
 * zifencei: FENCE.I makes stores to instruction memory visible to later fetches by
 * the same hart (unprivileged spec chapter 3). The code buffer is rewritten between
 * calls, as a JIT or a program loader would.
 */
#include "selftest.h"

#define LI_A0(n) (0x00000513u | ((uint32_t)(n) << 20)) /* addi a0, x0, n */
#define RET      0x00008067u                           /* jalr x0, 0(ra) */

static uint32_t code[4] __attribute__((aligned(16)));

static uint32_t call_code(void) {
  uint32_t (*fn)(void) = (uint32_t (*)(void))(uintptr_t)code;
  return fn();
}

void test_zifencei(void) {
  for (uint32_t n = 1; n <= 3; n++) {
    code[0] = LI_A0(n);
    code[1] = RET;
    __asm__ volatile("fence.i" ::: "memory");
    CHECK(call_code(), n);
  }
  /* Patch the second instruction of a straight-line sequence. */
  code[0] = LI_A0(40);
  code[1] = 0x00250513u;  /* addi a0, a0, 2 */
  code[2] = RET;
  __asm__ volatile("fence.i" ::: "memory");
  CHECK(call_code(), 42);
  code[1] = 0x00550513u;  /* addi a0, a0, 5 */
  __asm__ volatile("fence.i" ::: "memory");
  CHECK(call_code(), 45);
}
