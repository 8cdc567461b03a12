/*
 * cpubench: a CoreMark-style CPU benchmark written for hyperlab. Each iteration runs
 * three kernels on data derived from the iteration number (a linked list, a matrix
 * multiply, a number-scanning state machine) and folds their results into CRC16s.
 * The kernels are plain portable C (no RISC-V specifics), so the expected CRCs can be
 * recomputed on any host: see host_check.c.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>

/* xorshift32 (Marsaglia 2003): a tiny deterministic generator. */
static inline uint32_t prng_next(uint32_t *s) {
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}

uint16_t crc16_update(uint16_t crc, uint8_t byte); /* CRC-16/CCITT, poly 0x1021 */
uint16_t crc16_u32(uint16_t crc, uint32_t v);      /* 4 bytes, little-endian order */

uint16_t kernel_list(uint32_t seed);
uint16_t kernel_matrix(uint32_t seed);
uint16_t kernel_state(uint32_t seed);

struct bench_result {
  uint16_t list, matrix, state, total;
};
void bench_run(uint32_t iterations, struct bench_result *r);

#endif
