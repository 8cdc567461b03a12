/*
 * rv32m: multiplication and division (unprivileged spec chapter 7), including the
 * defined results for division by zero and overflow (table 7.1): no traps.
 */
#include "insn.h"
#include "selftest.h"

#define INT_MIN_ 0x80000000u

void test_rv32m(void) {
  CHECK(RR("mul", 7, 6), 42);
  CHECK(RR("mul", 0xffffffff, 0xffffffff), 1);
  CHECK(RR("mul", 0x12345678, 0x9abcdef0), 0x242d2080);
  CHECK(RR("mul", INT_MIN_, 0xffffffff), INT_MIN_);
  CHECK(RR("mulh", 0xffffffff, 0xffffffff), 0);        /* (-1)*(-1) = 1 */
  CHECK(RR("mulh", INT_MIN_, INT_MIN_), 0x40000000);
  CHECK(RR("mulh", INT_MIN_, 1), 0xffffffff);
  CHECK(RR("mulh", 0x12345678, 0x9abcdef0), 0xf8cc93d6);
  CHECK(RR("mulhu", 0xffffffff, 0xffffffff), 0xfffffffe);
  CHECK(RR("mulhu", INT_MIN_, 2), 1);
  CHECK(RR("mulhu", 0x12345678, 0x9abcdef0), 0x0b00ea4e);
  CHECK(RR("mulhsu", 0xffffffff, 0xffffffff), 0xffffffff); /* -1 * (2^32-1) */
  CHECK(RR("mulhsu", 1, 0xffffffff), 0);
  CHECK(RR("mulhsu", INT_MIN_, 0xffffffff), 0x80000000);
  CHECK(RR("mulhsu", 0x12345678, 0x9abcdef0), 0x0b00ea4e);

  CHECK(RR("div", 20, 6), 3);
  CHECK(RR("div", (uint32_t)-20, 6), (uint32_t)-3);      /* rounds towards zero */
  CHECK(RR("div", 20, (uint32_t)-6), (uint32_t)-3);
  CHECK(RR("div", (uint32_t)-20, (uint32_t)-6), 3);
  CHECK(RR("rem", (uint32_t)-20, 6), (uint32_t)-2);      /* sign of the dividend */
  CHECK(RR("rem", 20, (uint32_t)-6), 2);
  CHECK(RR("divu", 0xffffffff, 2), 0x7fffffff);
  CHECK(RR("remu", 0xffffffff, 10), 5);
  /* Division by zero: quotient all ones, remainder = dividend. */
  CHECK(RR("div", 123, 0), 0xffffffff);
  CHECK(RR("div", (uint32_t)-123, 0), 0xffffffff);
  CHECK(RR("divu", 123, 0), 0xffffffff);
  CHECK(RR("rem", (uint32_t)-123, 0), (uint32_t)-123);
  CHECK(RR("remu", 123, 0), 123);
  /* Signed overflow: INT_MIN / -1 = INT_MIN, remainder 0. */
  CHECK(RR("div", INT_MIN_, 0xffffffff), INT_MIN_);
  CHECK(RR("rem", INT_MIN_, 0xffffffff), 0);
  CHECK(RR("divu", INT_MIN_, 0xffffffff), 0);
  CHECK(RR("remu", INT_MIN_, 0xffffffff), INT_MIN_);
  CHECK(RR("div", INT_MIN_, 1), INT_MIN_);
  /* rd = x0 discards the result (a HINT-like no-op, must not trap). */
  uint32_t z;
  __asm__ volatile("div x0, %1, %1\n\tmv %0, x0" : "=r"(z) : "r"(0));
  CHECK(z, 0);
}
