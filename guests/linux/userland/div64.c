/*
 * 64-bit division for rv32, which the compiler calls for u64 / and % (RV32M divides 32-bit
 * words only). Debian's riscv64-linux-gnu-gcc ships libgcc for rv64 alone, so these stand
 * in for libgcc's: restoring shift-and-subtract division, one quotient bit a step.
 */
typedef unsigned long long u64;
typedef long long s64;

u64 __udivmoddi4(u64 n, u64 d, u64 *rem);
u64 __udivdi3(u64 n, u64 d);
u64 __umoddi3(u64 n, u64 d);
s64 __divdi3(s64 n, s64 d);
s64 __moddi3(s64 n, s64 d);

u64 __udivmoddi4(u64 n, u64 d, u64 *rem) {
  u64 q = 0, r = 0;
  if (d == 0) return rem ? *rem = n : 0, ~0ull; /* as RISC-V's divu: all ones */
  if (!(n >> 32) && !(d >> 32)) {                 /* both fit in 32 bits: the hardware's */
    unsigned a = (unsigned)n, b = (unsigned)d;
    if (rem) *rem = a % b;
    return a / b;
  }
  for (int i = 0; i < 64; i++) { /* shifts by constants only (no libgcc calls) */
    r = r << 1 | n >> 63;
    n <<= 1, q <<= 1;
    if (r >= d) r -= d, q |= 1;
  }
  if (rem) *rem = r;
  return q;
}

u64 __udivdi3(u64 n, u64 d) { return __udivmoddi4(n, d, 0); }

u64 __umoddi3(u64 n, u64 d) {
  u64 r;
  __udivmoddi4(n, d, &r);
  return r;
}

s64 __divdi3(s64 n, s64 d) {
  u64 q = __udivmoddi4(n < 0 ? -(u64)n : (u64)n, d < 0 ? -(u64)d : (u64)d, 0);
  return (n < 0) != (d < 0) ? -(s64)q : (s64)q;
}

s64 __moddi3(s64 n, s64 d) {
  u64 r;
  __udivmoddi4(n < 0 ? -(u64)n : (u64)n, d < 0 ? -(u64)d : (u64)d, &r);
  return n < 0 ? -(s64)r : (s64)r;
}
