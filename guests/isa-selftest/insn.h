/*
 * Inline-assembly helpers that force one specific instruction to execute, so the
 * compiler cannot fold the operation at build time.
 */
#ifndef INSN_H
#define INSN_H

#include <stdint.h>

#define RR(op, a, b) ({ uint32_t r_; \
  __asm__ volatile(op " %0, %1, %2" : "=r"(r_) : "r"((uint32_t)(a)), "r"((uint32_t)(b))); r_; })
#define RI(op, a, imm) ({ uint32_t r_; \
  __asm__ volatile(op " %0, %1, %2" : "=r"(r_) : "r"((uint32_t)(a)), "i"(imm)); r_; })
/* 1 if the branch `op a, b` is taken. */
#define BR(op, a, b) ({ uint32_t r_; \
  __asm__ volatile("li %0, 1\n\t" op " %1, %2, 1f\n\tli %0, 0\n1:" \
                   : "=&r"(r_) : "r"((uint32_t)(a)), "r"((uint32_t)(b))); r_; })
/* AMO: returns the old memory value, *p gets op(old, v). */
#define AMO(op, p, v) ({ uint32_t r_; \
  __asm__ volatile(op " %0, %2, (%1)" : "=r"(r_) : "r"(p), "r"((uint32_t)(v)) : "memory"); r_; })

#endif
