/*
 * The hvm teaching OS's network driver: virtio-net over virtio-mmio (virtio 1.x: 3.1.1
 * device initialization, 4.2.2 the MMIO transport, 2.7 split virtqueues, 5.1 the network
 * device), giving kernel/net.c its interface eth0 (include/netdev.h), as pv/netfront.c
 * does on pv. The first virtio-net found on the slots (from the last down, as Linux names
 * QEMU's first -device eth0) is eth0.
 *
 * Features: VIRTIO_F_VERSION_1, VIRTIO_NET_F_MAC (the MAC is in the config space; a device
 * without it is not used), VIRTIO_NET_F_STATUS (the link state is shown), VIRTIO_F_EVENT_IDX.
 * No offloads, no merged rx buffers: every packet is a 12-byte virtio_net_hdr (VERSION_1
 * keeps num_buffers) and a frame in one buffer (5.1.6).
 *
 * receiveq (0): VNET_BUFS buffers of 2 KiB (at least 1530 bytes, 5.1.6.3.1), descriptor i
 * = buffer i, all posted at start-up; each used one goes to net_input and is posted again.
 * The driver asks for an interrupt at every used buffer (used_event = what it has seen).
 * transmitq (1): VNET_BUFS buffers, descriptor i = buffer i; a used one is free again. The
 * driver asks for no transmit interrupts (it reaps used buffers when it next sends). Both
 * queues notify only when the device asks (avail_event, 2.7.10), like netfront's req_event.
 * Everything runs in the shell's thread; the interrupt handler only acknowledges and counts.
 */
#include "virtio_net.h"
#include "netdev.h"

#define VIRTIO_ID_NET 1u
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1u
#define VNET_HDR 12u
#define VNET_BUFS 16u     /* per queue, also the queue size */
#define VNET_BUF 2048u
#define RXQ 0u
#define TXQ 1u

#define fence() __asm__ volatile("fence rw, rw" ::: "memory")

struct vq {
  volatile struct vring_desc *desc;
  volatile uint16_t *aring;   /* flags, idx, ring[num], used_event */
  volatile uint32_t *uring;   /* flags|idx, ring[num] {id, len}, avail_event */
  uint16_t avail_idx, used_seen;
  uint32_t buf[VNET_BUFS];    /* buffer i, at descriptor i */
};

static struct {
  int used, event_idx, status_feature;
  uint32_t slot, base;
  uint8_t mac[6];
  struct vq q[2];
  uint32_t tx_busy;           /* bit per tx buffer in flight */
  struct net_counters c;
} vn;

static uint32_t rd(uint32_t off) { return mmio_read32(vn.base + off); }
static void wr(uint32_t off, uint32_t v) { mmio_write32(vn.base + off, v); }

static uint32_t page_or_panic(void) {
  uint32_t p = page_alloc();
  if (!p) panic("virtio-net: out of memory");
  return p;
}

static uint16_t used_idx(const struct vq *q) { return ((volatile uint16_t *)q->uring)[1]; }

/* Publish what was added since `old` and notify queue `qi` if the device asked (2.7.13, 2.7.10). */
static void kick(uint32_t qi, uint16_t old) {
  struct vq *q = &vn.q[qi];
  fence();
  q->aring[1] = q->avail_idx;
  fence();
  int notify;
  if (vn.event_idx) {
    uint16_t ev = (uint16_t)(q->uring[1 + 2 * VNET_BUFS] & 0xffff);   /* avail_event, after the used ring */
    notify = (uint16_t)(q->avail_idx - ev - 1) < (uint16_t)(q->avail_idx - old);
  } else {
    notify = !(q->uring[0] & 1u);   /* VIRTQ_USED_F_NO_NOTIFY */
  }
  if (notify) {
    wr(VMMIO_QUEUE_NOTIFY, qi);
    vn.c.notifies++;
  }
}

static void offer(struct vq *q, uint32_t i) {
  q->aring[2 + q->avail_idx % VNET_BUFS] = (uint16_t)i;
  q->avail_idx++;
}

static int setup_queue(uint32_t qi) {
  struct vq *q = &vn.q[qi];
  wr(VMMIO_QUEUE_SEL, qi);
  if (rd(VMMIO_QUEUE_NUM_MAX) < VNET_BUFS) return -1;
  q->desc = (volatile struct vring_desc *)(uintptr_t)page_or_panic();
  q->aring = (volatile uint16_t *)(uintptr_t)page_or_panic();
  q->uring = (volatile uint32_t *)(uintptr_t)page_or_panic();
  for (uint32_t i = 0; i < VNET_BUFS; i += PAGE_SIZE / VNET_BUF) {
    uint32_t p = page_or_panic();
    for (uint32_t k = 0; k < PAGE_SIZE / VNET_BUF; k++) q->buf[i + k] = p + k * VNET_BUF;
  }
  for (uint32_t i = 0; i < VNET_BUFS; i++)
    q->desc[i] = (struct vring_desc){q->buf[i], VNET_BUF, (uint16_t)(qi == RXQ ? VRING_DESC_F_WRITE : 0), 0};
  if (qi == TXQ) q->aring[0] = 1;   /* VIRTQ_AVAIL_F_NO_INTERRUPT (without EVENT_IDX) */
  wr(VMMIO_QUEUE_NUM, VNET_BUFS);
  wr(VMMIO_QUEUE_DESC_LO, (uint32_t)(uintptr_t)q->desc);
  wr(VMMIO_QUEUE_DESC_HI, 0);
  wr(VMMIO_QUEUE_DRV_LO, (uint32_t)(uintptr_t)q->aring);
  wr(VMMIO_QUEUE_DRV_HI, 0);
  wr(VMMIO_QUEUE_DEV_LO, (uint32_t)(uintptr_t)q->uring);
  wr(VMMIO_QUEUE_DEV_HI, 0);
  wr(VMMIO_QUEUE_READY, 1);
  return 0;
}

static int setup(void) {
  wr(VMMIO_STATUS, 0);
  wr(VMMIO_STATUS, VIRTIO_S_ACK);
  wr(VMMIO_STATUS, VIRTIO_S_ACK | VIRTIO_S_DRIVER);
  wr(VMMIO_DEV_FEAT_SEL, 0);
  uint32_t f0 = rd(VMMIO_DEV_FEATURES);
  wr(VMMIO_DEV_FEAT_SEL, 1);
  if (!(rd(VMMIO_DEV_FEATURES) & 1u)) return kprintf("virtio-net: slot %u: no VIRTIO_F_VERSION_1 (a legacy device): skipped\n", vn.slot), -1;
  if (!(f0 & (1u << VIRTIO_NET_F_MAC))) return kprintf("virtio-net: slot %u offers no MAC: skipped\n", vn.slot), -1;
  uint32_t want = f0 & ((1u << VIRTIO_NET_F_MAC) | (1u << VIRTIO_NET_F_STATUS) | (1u << VIRTIO_F_EVENT_IDX));
  wr(VMMIO_DRV_FEAT_SEL, 0);
  wr(VMMIO_DRV_FEATURES, want);
  wr(VMMIO_DRV_FEAT_SEL, 1);
  wr(VMMIO_DRV_FEATURES, 1u);
  wr(VMMIO_STATUS, VIRTIO_S_ACK | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
  if (!(rd(VMMIO_STATUS) & VIRTIO_S_FEATURES_OK)) return kprintf("virtio-net: slot %u refused our features\n", vn.slot), -1;
  vn.event_idx = (want >> VIRTIO_F_EVENT_IDX) & 1;
  vn.status_feature = (want >> VIRTIO_NET_F_STATUS) & 1;
  if (setup_queue(RXQ) || setup_queue(TXQ)) return kprintf("virtio-net: slot %u: queues too small\n", vn.slot), -1;
  for (uint32_t i = 0; i < 6; i++) vn.mac[i] = mmio_read8(vn.base + VMMIO_CONFIG + i);
  /* Every receive buffer posted before DRIVER_OK (3.1.1 step 7 allows it: the device uses none before). */
  struct vq *rx = &vn.q[RXQ];
  for (uint32_t i = 0; i < VNET_BUFS; i++) offer(rx, i);
  if (vn.event_idx) rx->aring[2 + VNET_BUFS] = 0;   /* used_event: interrupt at the first used buffer */
  fence();
  rx->aring[1] = rx->avail_idx;
  wr(VMMIO_STATUS, VIRTIO_S_ACK | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK);
  if (rd(VMMIO_STATUS) & VIRTIO_S_NEEDS_RESET) return kprintf("virtio-net: slot %u needs a reset right after set-up\n", vn.slot), -1;
  wr(VMMIO_QUEUE_NOTIFY, RXQ);   /* tell it about the buffers */
  vn.c.notifies++;
  uint32_t src = VIRT_VIRTIO_IRQ + vn.slot;
  mmio_write32(PLIC_PRIORITY(src), 1);
  mmio_write32(PLIC_ENABLE0, mmio_read32(PLIC_ENABLE0) | 1u << src);
  return 0;
}

void vnet_init(void) {
  for (int slot = (int)VIRT_VIRTIO_COUNT - 1; slot >= 0; slot--) {
    uint32_t base = VIRT_VIRTIO_BASE + 0x1000u * (uint32_t)slot;
    if (mmio_read32(base + VMMIO_MAGIC) != 0x74726976u || mmio_read32(base + VMMIO_DEVICE_ID) != VIRTIO_ID_NET) continue;
    if (mmio_read32(base + VMMIO_VERSION) != 2u) {
      kprintf("virtio-net: slot %d is a legacy (Version 1) device: skipped\n", slot);
      continue;
    }
    memset(&vn, 0, sizeof vn);
    vn.slot = (uint32_t)slot;
    vn.base = base;
    if (setup()) continue;
    vn.used = 1;
    int up = !vn.status_feature || (mmio_read8(base + VMMIO_CONFIG + 6) & VIRTIO_NET_S_LINK_UP);   /* status, le16: bit 0 */
    kprintf("net: eth0 (virtio-net on virtio-mmio@0x%08x, PLIC source %u): mac %02x:%02x:%02x:%02x:%02x:%02x, link %s\n", base,
            VIRT_VIRTIO_IRQ + vn.slot, vn.mac[0], vn.mac[1], vn.mac[2], vn.mac[3], vn.mac[4], vn.mac[5], up ? "up" : "down");
    return;
  }
}

int vnet_isr(uint32_t src) {
  if (!vn.used || src != VIRT_VIRTIO_IRQ + vn.slot) return 0;
  uint32_t st = rd(VMMIO_INT_STATUS);
  wr(VMMIO_INT_ACK, st);
  vn.c.events++;
  return 1;
}

int vnet_has_work(void) { return vn.used && used_idx(&vn.q[RXQ]) != vn.q[RXQ].used_seen; }

/* ---- include/netdev.h ---- */

int netdev_mac(uint8_t mac[6]) {
  if (!vn.used) return PLAT_ENOTSUP;
  memcpy(mac, vn.mac, 6);
  return 0;
}

void netdev_counters(struct net_counters *c) { *c = vn.c; }

/* Used transmit buffers are free again. */
static void reap_tx(void) {
  struct vq *q = &vn.q[TXQ];
  uint16_t idx = used_idx(q);
  fence();
  for (; q->used_seen != idx; q->used_seen++) {
    uint32_t id = q->uring[1 + 2 * (q->used_seen % VNET_BUFS)];
    if (id < VNET_BUFS) vn.tx_busy &= ~(1u << id);
    else vn.c.tx_errors++;
  }
}

int netdev_send(const void *frame, uint32_t len) {
  if (!vn.used || len < 14 || len > VNET_BUF - VNET_HDR) return -1;
  reap_tx();
  uint32_t b = 0;
  while (b < VNET_BUFS && (vn.tx_busy & (1u << b))) b++;
  if (b == VNET_BUFS) {
    vn.c.tx_errors++;
    return -1;
  }
  struct vq *q = &vn.q[TXQ];
  uint8_t *p = (uint8_t *)(uintptr_t)q->buf[b];
  memset(p, 0, VNET_HDR);   /* no offloads: flags 0, GSO_NONE */
  memcpy(p + VNET_HDR, frame, len);
  q->desc[b].len = VNET_HDR + len;
  vn.tx_busy |= 1u << b;
  uint16_t old = q->avail_idx;
  offer(q, b);
  if (vn.event_idx) q->aring[2 + VNET_BUFS] = (uint16_t)(q->used_seen + 0x8000u);   /* used_event far away: no tx interrupts */
  kick(TXQ, old);
  vn.c.tx_packets++;
  vn.c.tx_bytes += len;
  return 0;
}

void netdev_poll(void) {
  if (!vn.used) return;
  struct vq *q = &vn.q[RXQ];
  uint16_t old = q->avail_idx;
  for (;;) {
    uint16_t idx = used_idx(q);
    fence();
    for (; q->used_seen != idx; q->used_seen++) {
      uint32_t id = q->uring[1 + 2 * (q->used_seen % VNET_BUFS)];
      uint32_t len = q->uring[2 + 2 * (q->used_seen % VNET_BUFS)];
      if (id >= VNET_BUFS) {   /* not one of ours: a broken device; the buffer is lost */
        vn.c.rx_errors++;
        continue;
      }
      if (len >= VNET_HDR + 14 && len <= VNET_BUF) {
        vn.c.rx_packets++;
        vn.c.rx_bytes += len - VNET_HDR;
        net_input((const uint8_t *)(uintptr_t)q->buf[id] + VNET_HDR, len - VNET_HDR);
      } else
        vn.c.rx_errors++;
      offer(q, id);
    }
    if (vn.event_idx) q->aring[2 + VNET_BUFS] = q->used_seen;   /* interrupt at the next used buffer */
    fence();
    if (used_idx(q) == q->used_seen) break;   /* nothing slipped in before used_event was set */
  }
  if (q->avail_idx != old) kick(RXQ, old);
}
