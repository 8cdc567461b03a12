/**
 * Numbers of the virtio 1.x specification (OASIS virtio v1.2) that every device and
 * transport shares: device status bits (section 2.1), reserved feature bits (section 6),
 * split-virtqueue descriptor and ring flags (section 2.7), and the device ids (section 5).
 */

// Device status field, section 2.1.
export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
export const VIRTIO_CONFIG_S_DRIVER = 2;
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
export const VIRTIO_CONFIG_S_FEATURES_OK = 8;
/** The device hit an error it cannot recover from: the driver must reset it (2.1.2). */
export const VIRTIO_CONFIG_S_NEEDS_RESET = 64;
export const VIRTIO_CONFIG_S_FAILED = 128;

// Reserved feature bits, section 6.
export const VIRTIO_F_INDIRECT_DESC = 28;
export const VIRTIO_F_EVENT_IDX = 29;
export const VIRTIO_F_VERSION_1 = 32;

// Split virtqueue descriptor flags, section 2.7.5.
export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
/** Size of one descriptor {le64 addr; le32 len; le16 flags; le16 next}. */
export const VIRTQ_DESC_SIZE = 16;

// Ring flags, sections 2.7.6 and 2.7.8.
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
export const VIRTQ_USED_F_NO_NOTIFY = 1;

/** Device ids, section 5. */
export const VIRTIO_ID_NET = 1;
export const VIRTIO_ID_BLOCK = 2;

/** Feature bit `bit` as it appears in 32-bit feature word `bit >> 5`. */
export function featureWord(bits: readonly number[], word: number): number {
  let w = 0;
  for (const b of bits) if (b >>> 5 === word) w |= 1 << (b & 31);
  return w >>> 0;
}

/** Whether bit `bit` is set in a feature set kept as 32-bit words. */
export function hasFeature(words: ArrayLike<number>, bit: number): boolean {
  return ((words[bit >>> 5] ?? 0) & (1 << (bit & 31))) !== 0;
}
