/*
 * The virtio-mmio transport as the hvm teaching OS's drivers see it (virtio 1.x section
 * 4.2.2, modern Version 2) and the split virtqueue's descriptor (2.7.5): shared by the
 * virtio-blk driver (virtio_blk.c) and the virtio-net driver (virtio_net.c). The eight
 * slots of QEMU's virt board are probed for MagicValue "virt", Version 2 and a DeviceID.
 */
#ifndef TOS_VIRTIO_MMIO_H
#define TOS_VIRTIO_MMIO_H

#include "hvm.h"

#define VIRT_VIRTIO_BASE  0x10001000u
#define VIRT_VIRTIO_COUNT 8u
#define VIRT_VIRTIO_IRQ   1u   /* slot i interrupts on PLIC source 1 + i */

/* virtio-mmio registers (4.2.2). */
#define VMMIO_MAGIC        0x000
#define VMMIO_VERSION      0x004
#define VMMIO_DEVICE_ID    0x008
#define VMMIO_DEV_FEATURES 0x010
#define VMMIO_DEV_FEAT_SEL 0x014
#define VMMIO_DRV_FEATURES 0x020
#define VMMIO_DRV_FEAT_SEL 0x024
#define VMMIO_QUEUE_SEL    0x030
#define VMMIO_QUEUE_NUM_MAX 0x034
#define VMMIO_QUEUE_NUM    0x038
#define VMMIO_QUEUE_READY  0x044
#define VMMIO_QUEUE_NOTIFY 0x050
#define VMMIO_INT_STATUS   0x060
#define VMMIO_INT_ACK      0x064
#define VMMIO_STATUS       0x070
#define VMMIO_QUEUE_DESC_LO 0x080
#define VMMIO_QUEUE_DESC_HI 0x084
#define VMMIO_QUEUE_DRV_LO 0x090
#define VMMIO_QUEUE_DRV_HI 0x094
#define VMMIO_QUEUE_DEV_LO 0x0a0
#define VMMIO_QUEUE_DEV_HI 0x0a4
#define VMMIO_CONFIG       0x100

#define VIRTIO_S_ACK 1u
#define VIRTIO_S_DRIVER 2u
#define VIRTIO_S_DRIVER_OK 4u
#define VIRTIO_S_FEATURES_OK 8u
#define VIRTIO_S_NEEDS_RESET 64u

/* Reserved feature bits (6). */
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VRING_DESC_F_NEXT 1u
#define VRING_DESC_F_WRITE 2u

struct vring_desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags, next;
};

#endif
