/*
 * cpubench guest: runs the benchmark for a fixed number of iterations, checks the
 * result against the known CRC (config.h) and reports. All lines are deterministic
 * except the one starting with "timing:", which the differential tests drop
 * (docs/guests.md). Time is read from the CLINT's mtime (10 MHz on `virt`).
 */
#include "bench.h"
#include "config.h"
#include "runtime.h"

int main(void) {
  struct bench_result r;
  uart_puts("cpubench: linked list, matrix multiply, state machine, CRC16\n");
  kprintf("iterations: %u\n", CPUBENCH_ITERATIONS);
  uint64_t t0 = clint_mtime();
  bench_run(CPUBENCH_ITERATIONS, &r);
  uint64_t ticks = clint_mtime() - t0;
  kprintf("crc: list 0x%04x matrix 0x%04x state 0x%04x total 0x%04x\n", r.list, r.matrix,
          r.state, r.total);
  if (ticks == 0) ticks = 1;
  uint64_t ms = ticks / (VIRT_TIMEBASE_HZ / 1000);
  uint64_t per_s_x100 = (uint64_t)CPUBENCH_ITERATIONS * VIRT_TIMEBASE_HZ * 100 / ticks;
  kprintf("timing: %llu ticks, %llu.%03llu s, %llu.%02llu iterations/s\n", ticks, ms / 1000,
          ms % 1000, per_s_x100 / 100, per_s_x100 % 100);
  if (r.total != CPUBENCH_EXPECTED_TOTAL) {
    kprintf("cpubench: FAIL (expected total 0x%04x)\n", CPUBENCH_EXPECTED_TOTAL);
    return 1;
  }
  uart_puts("cpubench: PASS\n");
  return 0;
}
