/*
 * Page frames: one state byte per 4 KiB page of RAM (free, used, reserved, or given back
 * to the hypervisor by the balloon). The array lives in the first pages after the kernel.
 */
#include "tos.h"

static uint8_t *state;
static uint32_t ram_base, nr_pages;
static uint32_t counts[4];

void page_init(uint32_t base, uint32_t pages, uint32_t first_free) {
  ram_base = base;
  nr_pages = pages;
  state = (uint8_t *)(uintptr_t)first_free;
  memset(state, PG_FREE, pages);
  memset(counts, 0, sizeof counts);
  counts[PG_FREE] = pages;
  page_reserve(base, first_free - base + pages);  /* the kernel image and this array */
}

uint32_t page_total(void) { return nr_pages; }
uint32_t page_base(void) { return ram_base; }
uint32_t page_count(enum page_state st) { return counts[st]; }
enum page_state page_get(uint32_t pfn) { return pfn < nr_pages ? (enum page_state)state[pfn] : PG_RESERVED; }

void page_set(uint32_t pfn, enum page_state st) {
  if (pfn >= nr_pages) return;
  counts[state[pfn]]--;
  counts[st]++;
  state[pfn] = (uint8_t)st;
}

void page_reserve(uint32_t addr, uint32_t len) {
  if (!len || addr + len <= ram_base) return;
  uint32_t first = addr < ram_base ? 0 : (addr - ram_base) >> PAGE_SHIFT;
  uint32_t last = (addr + len - 1 - ram_base) >> PAGE_SHIFT;
  for (uint32_t p = first; p <= last && p < nr_pages; p++) page_set(p, PG_RESERVED);
}

uint32_t page_alloc(void) {
  int32_t p = page_find(PG_FREE, 0);
  if (p < 0) return 0;
  page_set((uint32_t)p, PG_USED);
  uint32_t addr = ram_base + ((uint32_t)p << PAGE_SHIFT);
  memset((void *)(uintptr_t)addr, 0, PAGE_SIZE);
  return addr;
}

void page_free(uint32_t addr) {
  uint32_t p = (addr - ram_base) >> PAGE_SHIFT;
  if (page_get(p) == PG_USED) page_set(p, PG_FREE);
}

int32_t page_find_free_high(uint32_t below) {
  if (below > nr_pages) below = nr_pages;
  while (below--)
    if (state[below] == PG_FREE) return (int32_t)below;
  return -1;
}

int32_t page_find(enum page_state st, uint32_t from) {
  for (uint32_t p = from; p < nr_pages; p++)
    if (state[p] == st) return (int32_t)p;
  return -1;
}
