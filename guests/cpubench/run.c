/* The benchmark loop proper, shared by the guest (main.c) and the host check. */
#include "bench.h"

void bench_run(uint32_t iterations, struct bench_result *r) {
  uint16_t list = 0, matrix = 0, state = 0, total = 0xffff;
  for (uint32_t i = 0; i < iterations; i++) {
    uint32_t seed = 0x2545f491u ^ (i * 0x9e3779b9u);
    if (seed == 0) seed = 1; /* xorshift must not start at 0 */
    list = kernel_list(seed);
    matrix = kernel_matrix(seed ^ 0x5bd1e995u);
    state = kernel_state(seed ^ 0x1b873593u);
    total = crc16_u32(total, (uint32_t)list << 16 | matrix);
    total = crc16_u32(total, state);
  }
  r->list = list;
  r->matrix = matrix;
  r->state = state;
  r->total = total;
}
