/*
 * Two commands for the guided labs (docs/labs.md):
 *
 * `dirty PAGES SECONDS` writes one word in each of PAGES pages, over and over, for SECONDS
 * seconds: a guest whose working set is dirtied faster than live migration's pre-copy
 * rounds can send it (lab 10).
 *
 * `smc N` rewrites its own code N times: a two-instruction function (addi a0, a0, IMM;
 * ret) in a page of its own gets a new immediate, a fence.i (RISC-V unprivileged spec,
 * "Zifencei": makes the stores visible to instruction fetch), and is called 50 times. The
 * sum of what it returned says whether the new code ran each time; on hyperlab each
 * rewrite of a translated page invalidates its translation (lab 11, docs/jit.md).
 */
#include "plat.h"

#define SMC_CALLS 50u

static int number(const char *cmd, const char *arg, uint32_t min, uint32_t max, uint32_t *out) {
  if (!arg || parse_u32(arg, out) || *out < min || *out > max) {
    kprintf("%s: expected a number from %u to %u\n", cmd, min, max);
    return -1;
  }
  return 0;
}

static uint32_t dirty_pages[4096];

int cmd_dirty(int argc, char **argv) {
  uint32_t want, secs;
  if (number("dirty", argc > 1 ? argv[1] : 0, 1, ARRAY_SIZE(dirty_pages), &want) || number("dirty", argc > 2 ? argv[2] : 0, 1, 3600, &secs)) {
    kprintf("usage: dirty PAGES SECONDS\n");
    return -1;
  }
  uint32_t got = 0;
  while (got < want && page_count(PG_FREE) > 64 && (dirty_pages[got] = page_alloc()) != 0) got++;
  kprintf("dirty: writing %u pages (%u KiB) for %u s (Ctrl-C stops)\n", got, got * 4, secs);
  con_drain();
  uint64_t t0 = time_ns(), end = t0 + (uint64_t)secs * 1000000000ull, now = t0;
  uint32_t sweeps = 0;
  while (now < end && !con_break()) {
    sweeps++;
    for (uint32_t i = 0; i < got; i++) WRITE_ONCE(*(volatile uint32_t *)dirty_pages[i], sweeps);
    now = time_ns();
  }
  for (uint32_t i = 0; i < got; i++) page_free(dirty_pages[i]);
  char s[32];
  fmt_seconds(s, sizeof s, now - t0, 3);
  kprintf("timing: dirty: %u sweeps of %u pages in %s s\n", sweeps, got, s);
  return 0;
}

/* The rewritten function, alone in its page (so only its own rewrites touch the page). */
static uint32_t smc_code[1024] __attribute__((aligned(4096)));

#define ADDI_A0_A0 0x00050513u /* addi a0, a0, 0 */
#define RET        0x00008067u /* jalr zero, 0(ra) */

int cmd_smc(int argc, char **argv) {
  uint32_t n = 100;
  if (argc > 1 && number("smc", argv[1], 1, 100000, &n)) return -1;
  typedef uint32_t (*fn_t)(uint32_t);
  fn_t fn = (fn_t)(uintptr_t)smc_code;
  uint32_t sum = 0, expect = 0;
  con_drain();
  uint64_t t0 = time_ns();
  for (uint32_t i = 0; i < n; i++) {
    uint32_t imm = (i * 7u + 1u) & 0x7ffu; /* positive 12-bit immediates */
    WRITE_ONCE(smc_code[0], ADDI_A0_A0 | (imm << 20));
    WRITE_ONCE(smc_code[1], RET);
    __asm__ volatile(".4byte 0x0000100f" ::: "memory"); /* fence.i (Zifencei) */
    for (uint32_t c = 0; c < SMC_CALLS; c++) sum += fn(0);
    expect += imm * SMC_CALLS;
  }
  char s[32];
  fmt_seconds(s, sizeof s, time_ns() - t0, 3);
  kprintf("smc: %u rewrites of its own code, each called %u times: sum %u, expected %u: %s\n", n, SMC_CALLS, sum, expect, sum == expect ? "ok" : "STALE CODE RAN");
  kprintf("timing: smc %u rewrites in %s s\n", n, s);
  return sum == expect ? 0 : -1;
}
