/*
 * The matrix kernel: multiply-accumulate in nested loops. C = A * B for 12x12
 * matrices of small signed values, then a row-wise reduction with shifts and a
 * column-wise maximum.
 */
#include "bench.h"

#define N 12

static int32_t a[N][N], b[N][N], c[N][N];

uint16_t kernel_matrix(uint32_t seed) {
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < N; j++) {
      a[i][j] = (int32_t)(prng_next(&seed) & 0x3ff) - 512;
      b[i][j] = (int32_t)(prng_next(&seed) & 0x3ff) - 512;
    }
  }
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < N; j++) {
      int32_t acc = 0;
      for (int k = 0; k < N; k++) acc += a[i][k] * b[k][j];
      c[i][j] = acc;
    }
  }
  uint16_t crc = 0xffff;
  for (int i = 0; i < N; i++) {
    uint32_t row = 0;
    for (int j = 0; j < N; j++) row = (row << 3 | row >> 29) ^ (uint32_t)(c[i][j] >> 4);
    crc = crc16_u32(crc, row);
  }
  for (int j = 0; j < N; j++) {
    int32_t max = c[0][j];
    for (int i = 1; i < N; i++)
      if (c[i][j] > max) max = c[i][j];
    crc = crc16_u32(crc, (uint32_t)max);
  }
  return crc;
}
