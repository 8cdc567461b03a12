/*
 * Recompute cpubench's expected CRCs on the build host, independently of any RISC-V
 * machine:  cc -O2 -I guests/cpubench guests/cpubench/host/host_check.c \
 *             guests/cpubench/{crc,list,matrix,state,run}.c -o /tmp/cpubench-host
 *           /tmp/cpubench-host [iterations]
 */
#include <stdio.h>
#include <stdlib.h>

#include "../bench.h"
#include "../config.h"

int main(int argc, char **argv) {
  uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], 0, 0) : CPUBENCH_ITERATIONS;
  struct bench_result r;
  bench_run(n, &r);
  printf("iterations %u: list 0x%04x matrix 0x%04x state 0x%04x total 0x%04x\n", n, r.list,
         r.matrix, r.state, r.total);
  return 0;
}
