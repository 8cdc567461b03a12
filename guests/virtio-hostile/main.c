/*
 * virtio-hostile: an hvm guest that attacks the virtio device in virtio-mmio slot 7
 * (0x10008000): the virtio-blk device of its first disk, or with no disk the virtio-net
 * device of its first vif (then on both of its queues, receiveq and transmitq, and the
 * bridge's frames land on its receive queue's wild descriptors). Round after round, from a fixed xorshift seed, it
 * writes random descriptors (addresses in its RAM, outside it, on MMIO, 64-bit; lengths
 * from 0 to 4 GiB; random flags and next), random avail entries and indices, notifies,
 * and pokes random registers with random widths, offsets and values; when the device
 * says DEVICE_NEEDS_RESET it resets and sets the queue up again. The device must answer
 * everything with status bytes, NEEDS_RESET or silence, never crash the host, and never
 * touch another domain (src/node/virtioHostile.test.ts runs it beside a victim,
 * src/node/isolation/netHostile.test.ts beside two domains pinging each other).
 * Prints its counts and passes. It runs ROUNDS rounds, or N with `rounds=N` in the
 * kernel command line (xl.cfg `cmdline`, the device tree's /chosen/bootargs).
 */
#include "runtime.h"

#define BASE 0x10008000u
#define ROUNDS 4000u  /* default */
#define NUM 8u

static uint8_t ring[2][3 * 4096] __attribute__((aligned(4096)));
static uint8_t bufs[4 * 4096] __attribute__((aligned(4096)));
static uint32_t x = 2463534242u;

static uint32_t rnd(void) {
  x ^= x << 13, x ^= x >> 17, x ^= x << 5;
  return x;
}

static void wr(uint32_t off, uint32_t v) { mmio_write32(BASE + off, v); }
static uint32_t rd(uint32_t off) { return mmio_read32(BASE + off); }

static uint32_t queues = 1;  /* virtio-blk: 1; virtio-net: 2 */
static uint32_t offered = 0x30000266u;  /* some of what virtio-blk offers: FLUSH, RO, INDIRECT, EVENT_IDX... */

static void setup(void) {
  wr(0x070, 0);
  wr(0x070, 1);
  wr(0x070, 3);
  wr(0x024, 0);
  wr(0x020, rnd() & offered);
  wr(0x024, 1);
  wr(0x020, 1);
  wr(0x070, 11);
  for (uint32_t q = 0; q < queues; q++) {
    wr(0x030, q);
    wr(0x038, NUM);
    wr(0x080, (uint32_t)(uintptr_t)ring[q]);
    wr(0x084, 0);
    wr(0x090, (uint32_t)(uintptr_t)ring[q] + 4096);
    wr(0x094, 0);
    wr(0x0a0, (uint32_t)(uintptr_t)ring[q] + 8192);
    wr(0x0a4, 0);
    wr(0x044, 1);
  }
  wr(0x070, 15);
}

static uint32_t wild_addr(void) {
  switch (rnd() % 9) {
  case 0: return (uint32_t)(uintptr_t)bufs + rnd() % sizeof bufs;
  case 1: return (uint32_t)(uintptr_t)ring + rnd() % sizeof ring;
  case 2: return 0;
  case 3: return 0x10000000u + (rnd() & 0xfff);  /* the UART */
  case 4: return BASE + (rnd() & 0x1ff);         /* the device itself */
  case 5: return 0x80100000u + (rnd() & 0x0fffffffu); /* past its image: free RAM, or past the RAM */
  case 6: return 0xfffff000u + (rnd() & 0xfff);
  case 7: return 0x00100000u;                   /* the test finisher */
  default: return rnd();
  }
}

static uint32_t wild_len(void) {
  static const uint32_t lens[] = {0, 1, 15, 16, 17, 512, 513, 4096, 65536, 0x7fffffffu, 0xffffffffu};
  return rnd() & 1 ? lens[rnd() % (sizeof lens / sizeof lens[0])] : rnd();
}

/* `rounds=N` anywhere in the device tree blob (its bootargs), else ROUNDS. */
static uint32_t rounds_from(const uint8_t *fdt) {
  if (!fdt || fdt[0] != 0xd0 || fdt[1] != 0x0d || fdt[2] != 0xfe || fdt[3] != 0xed) return ROUNDS;
  uint32_t size = (uint32_t)fdt[4] << 24 | (uint32_t)fdt[5] << 16 | (uint32_t)fdt[6] << 8 | fdt[7];
  if (size > 1u << 20) return ROUNDS;
  for (uint32_t i = 0; i + 7 < size; i++) {
    if (memcmp(fdt + i, "rounds=", 7)) continue;
    uint32_t n = 0;
    for (uint32_t k = i + 7; k < size && fdt[k] >= '0' && fdt[k] <= '9' && n < 100000000u; k++) n = n * 10 + (fdt[k] - '0');
    return n ? n : ROUNDS;
  }
  return ROUNDS;
}

int main(uint32_t hartid, const void *fdt) {
  (void)hartid;
  uint32_t rounds = rounds_from(fdt);
  uint32_t id = rd(8);
  if (rd(0) != 0x74726976u || (id != 1 && id != 2)) {
    kprintf("virtio-hostile: no virtio-blk or virtio-net at 0x%08x\n", BASE);
    return 1;
  }
  if (id == 1) {
    queues = 2;
    offered = 0x30010028u;  /* MTU, MAC, STATUS, INDIRECT, EVENT_IDX */
    kprintf("virtio-hostile: attacking virtio-net at 0x%08x\n", BASE);
  }
  setup();
  uint32_t resets = 0, pokes = 0, notifies = 0;
  uint16_t idx = 0;
  for (uint32_t round = 0; round < rounds; round++) {
    uint32_t what = rnd() % 16;
    uint32_t q = queues > 1 ? rnd() % queues : 0;
    volatile uint32_t *desc = (volatile uint32_t *)(uintptr_t)ring[q];
    volatile uint16_t *avail = (volatile uint16_t *)(uintptr_t)(ring[q] + 4096);
    if (what < 10) {
      for (uint32_t i = 0; i < NUM; i++) {
        desc[4 * i] = wild_addr();
        desc[4 * i + 1] = rnd() % 16 == 0 ? rnd() : 0; /* the high word */
        desc[4 * i + 2] = wild_len();
        desc[4 * i + 3] = (rnd() & 7) | (rnd() % 12) << 16;
      }
      /* Sometimes a header that names a real request (read, write, flush, get id, junk). */
      uint32_t *h = (uint32_t *)(uintptr_t)bufs;
      h[0] = rnd() % 10, h[1] = 0, h[2] = rnd() % 4096, h[3] = rnd() % 64 == 0 ? rnd() : 0;
      avail[2 + rnd() % (NUM + 1)] = (uint16_t)(rnd() % 12);
      idx = rnd() % 8 == 0 ? (uint16_t)rnd() : (uint16_t)(idx + 1 + rnd() % 3);
      avail[1] = idx;
      avail[0] = (uint16_t)(rnd() & 1);
      wr(0x050, rnd() % 8 == 0 ? rnd() : q);
      notifies++;
    } else if (what < 13) {
      uint32_t off = rnd() & 0x3ff, v = rnd();
      switch (rnd() % 3) {
      case 0: mmio_write8(BASE + off, (uint8_t)v); break;
      case 1: *(volatile uint16_t *)(uintptr_t)(BASE + (off & ~1u)) = (uint16_t)v; break;
      default: mmio_write32(BASE + (off & ~3u), v); break;
      }
      pokes++;
    } else {
      uint32_t off = rnd() & 0x3ff;
      (void)(rnd() & 1 ? mmio_read8(BASE + off) : mmio_read32(BASE + (off & ~3u)));
    }
    uint32_t st = rd(0x070);
    if (st & 64 || !(st & 4) || rnd() % 64 == 0) {
      resets++;
      idx = 0;
      setup();
    }
    wr(0x064, rd(0x060)); /* acknowledge whatever interrupt came */
  }
  kprintf("virtio-hostile: %u rounds, %u notifies, %u register pokes, %u resets\n", rounds, notifies, pokes, resets);
  kprintf("virtio-hostile: PASS\n");
  return 0;
}
