/**
 * A virtio-mmio transport (virtio 1.x spec section 4.2.2; the legacy layout of section
 * 4.2.4), as QEMU's hw/virtio/virtio-mmio.c. QEMU's riscv `virt` machine creates eight of
 * them, at 0x10001000 + 0x1000 * i on PLIC sources 1..8, with 0x200-byte register
 * windows, in legacy mode (its `force-legacy` property defaults to on, so Version reads 1).
 *
 * ONLY THE EMPTY SLOT IS IMPLEMENTED: a transport with no device plugged in, which is what
 * QEMU gives `virt` guests started without -device virtio-*. QEMU (virtio_mmio_read with
 * no backend) then answers
 *
 *   MagicValue 0x74726976 ("virt"), Version 1 (legacy) or 2, VendorID 0x554d4551 ("QEMU")
 *
 * and 0 everywhere else, DeviceID included, which tells a driver (Linux's virtio_mmio
 * probe) that the slot is there but empty. Writes are ignored and the interrupt line is
 * never raised. QEMU decodes the exact offset whatever the access width and then keeps
 * the low bytes, so a byte load at offset 0 reads 0x76 and one at offset 1 reads 0; so
 * does this model. Offsets past the 0x200-byte window are not decoded (the bus faults).
 *
 * To plug a device in later: give the transport a backend (device id, feature bits,
 * queues, config space) and route reads and writes through the register offsets below
 * when one is present, as virtio_mmio_read/write do after their `!vdev` early return.
 */
import type { AccessWidth, IrqLine, MmioDevice } from '../bus/mmio';

/** Size of the register window (QEMU's "virtio-mmio" region; config space ends at 0x200). */
export const VIRTIO_MMIO_SIZE = 0x200;

/** "virt" little-endian. */
export const VIRTIO_MMIO_MAGIC = 0x7472_6976;
/** Version register: 1 for the legacy interface (4.2.4), 2 for virtio 1.x (4.2.2). */
export const VIRTIO_MMIO_VERSION_LEGACY = 1;
export const VIRTIO_MMIO_VERSION_MODERN = 2;
/** QEMU's VendorID: "QEMU" little-endian. */
export const VIRTIO_MMIO_VENDOR_QEMU = 0x554d_4551;

// Register offsets, virtio 1.x section 4.2.2 (R = read-only, W = write-only).
export const VIRTIO_MMIO_MAGIC_VALUE = 0x000; // R
export const VIRTIO_MMIO_VERSION = 0x004; // R
export const VIRTIO_MMIO_DEVICE_ID = 0x008; // R: 0 = no device
export const VIRTIO_MMIO_VENDOR_ID = 0x00c; // R
export const VIRTIO_MMIO_DEVICE_FEATURES = 0x010; // R
export const VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014; // W
export const VIRTIO_MMIO_DRIVER_FEATURES = 0x020; // W
export const VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024; // W
export const VIRTIO_MMIO_QUEUE_SEL = 0x030; // W
export const VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034; // R
export const VIRTIO_MMIO_QUEUE_NUM = 0x038; // W
export const VIRTIO_MMIO_QUEUE_READY = 0x044; // RW
export const VIRTIO_MMIO_QUEUE_NOTIFY = 0x050; // W
export const VIRTIO_MMIO_INTERRUPT_STATUS = 0x060; // R
export const VIRTIO_MMIO_INTERRUPT_ACK = 0x064; // W
export const VIRTIO_MMIO_STATUS = 0x070; // RW
export const VIRTIO_MMIO_QUEUE_DESC_LOW = 0x080; // W
export const VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084; // W
export const VIRTIO_MMIO_QUEUE_DRIVER_LOW = 0x090; // W (the "avail" ring)
export const VIRTIO_MMIO_QUEUE_DRIVER_HIGH = 0x094; // W
export const VIRTIO_MMIO_QUEUE_DEVICE_LOW = 0x0a0; // W (the "used" ring)
export const VIRTIO_MMIO_QUEUE_DEVICE_HIGH = 0x0a4; // W
export const VIRTIO_MMIO_SHM_SEL = 0x0ac; // W
export const VIRTIO_MMIO_SHM_LEN_LOW = 0x0b0; // R
export const VIRTIO_MMIO_SHM_LEN_HIGH = 0x0b4; // R
export const VIRTIO_MMIO_SHM_BASE_LOW = 0x0b8; // R
export const VIRTIO_MMIO_SHM_BASE_HIGH = 0x0bc; // R
export const VIRTIO_MMIO_QUEUE_RESET = 0x0c0; // RW
export const VIRTIO_MMIO_CONFIG_GENERATION = 0x0fc; // R
/** Device-specific configuration space starts here (both layouts). */
export const VIRTIO_MMIO_CONFIG = 0x100;

// Legacy-only registers, section 4.2.4 (Version 1). In the legacy layout 0x010/0x014 are
// HostFeatures/HostFeaturesSel and 0x020/0x024 GuestFeatures/GuestFeaturesSel.
export const VIRTIO_MMIO_GUEST_PAGE_SIZE = 0x028; // W
export const VIRTIO_MMIO_QUEUE_ALIGN = 0x03c; // W
export const VIRTIO_MMIO_QUEUE_PFN = 0x040; // RW

/** InterruptStatus bits. */
export const VIRTIO_MMIO_INT_VRING = 1 << 0;
export const VIRTIO_MMIO_INT_CONFIG = 1 << 1;

export interface VirtioMmioOptions {
  /** The transport's interrupt (PLIC source 1..8 on `virt`); an empty slot never raises it. */
  irq: IrqLine;
  name?: string;
  /** Legacy interface (Version 1), as QEMU `virt` by default; false for Version 2. */
  legacy?: boolean;
}

export class VirtioMmioTransport implements MmioDevice {
  readonly name: string;
  readonly size = VIRTIO_MMIO_SIZE;
  readonly legacy: boolean;
  readonly irq: IrqLine;

  constructor(options: VirtioMmioOptions) {
    this.name = options.name ?? 'virtio-mmio';
    this.legacy = options.legacy ?? true;
    this.irq = options.irq;
  }

  /** The device behind the transport: always 0 (none) for now. */
  get deviceId(): number {
    return 0;
  }

  read(offset: number, width: AccessWidth): number {
    let v: number;
    switch (offset) {
      case VIRTIO_MMIO_MAGIC_VALUE:
        v = VIRTIO_MMIO_MAGIC;
        break;
      case VIRTIO_MMIO_VERSION:
        v = this.legacy ? VIRTIO_MMIO_VERSION_LEGACY : VIRTIO_MMIO_VERSION_MODERN;
        break;
      case VIRTIO_MMIO_VENDOR_ID:
        v = VIRTIO_MMIO_VENDOR_QEMU;
        break;
      default:
        return 0; // DeviceID 0 and every other register of an empty slot
    }
    return width === 4 ? v >>> 0 : v & ((1 << (8 * width)) - 1);
  }

  write(_offset: number, _width: AccessWidth, _value: number): void {
    // An empty slot ignores every write (QEMU virtio_mmio_write with no backend).
  }
}
