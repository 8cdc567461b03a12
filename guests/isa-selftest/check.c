/*
 * Group bookkeeping: one output line per group, "NAME: ok (N checks)" or
 * "NAME: FAIL check K at FILE:LINE (expected 0x..., got 0x...); F of N checks failed".
 */
#include "selftest.h"

static const char *group_name;
static uint32_t checks, failures, first_index, first_expected, first_got;
static const char *first_file;
static int first_line;

void group_begin(const char *name) {
  group_name = name;
  checks = failures = 0;
}

void check_eq(uint32_t got, uint32_t expected, const char *file, int line) {
  checks++;
  if (got == expected) return;
#ifdef SELFTEST_VERBOSE /* build with -DSELFTEST_VERBOSE to see every failure */
  kprintf("  %s check %u at %s:%d: expected 0x%08x, got 0x%08x\n", group_name, checks, file, line,
          expected, got);
#endif
  if (failures++ == 0) {
    first_index = checks;
    first_expected = expected;
    first_got = got;
    first_file = file;
    first_line = line;
  }
}

int group_end(void) {
  if (failures == 0) {
    kprintf("%s: ok (%u checks)\n", group_name, checks);
    return 0;
  }
  kprintf("%s: FAIL check %u at %s:%d (expected 0x%08x, got 0x%08x); %u of %u checks failed\n",
          group_name, first_index, first_file, first_line, first_expected, first_got, failures,
          checks);
  return 1;
}
