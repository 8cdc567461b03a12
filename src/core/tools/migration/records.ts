/**
 * Record type numbers of the two stream layers: Xen's (libxc: xg_sr_stream_format.h;
 * libxl: libxl_sr_stream_format.h) and hyperlab's own.
 *
 * hyperlab's numbers: Xen hands out record types upwards from 0 (libxc has reached 0x12,
 * libxl 0x05) and leaves 0x00000013-0x7FFFFFFF to future mandatory records and
 * 0x80000000-0xFFFFFFFF to future optional ones. hyperlab takes the block whose top half is
 * "HY" (0x4859): 0x4859xxxx for its mandatory records and 0xC859xxxx (the same with bit 31,
 * "optional", set) for its optional ones: 1.2 billion types above where Xen allocates, and
 * recognisable in a hex dump. The same block serves the domain header's type (Xen has used
 * 1-4) and the libxl emulator id (Xen has used 0-2).
 */
export const REC_ALIGN = 8;
/** Xen's limit on one record's body (REC_LENGTH_MAX, "somewhat arbitrary - 128MB"). */
export const REC_LENGTH_MAX = 128 << 20;
/** Bit 31 of a record type: the record may be skipped by a reader that does not know it. */
export const REC_TYPE_OPTIONAL = 0x8000_0000;

export function isOptional(type: number): boolean {
  return (type & REC_TYPE_OPTIONAL) !== 0;
}

// ---- libxc stream ("XENF", version 3) --------------------------------------------------
export const IHDR_MARKER_HI = 0xffff_ffff,
  IHDR_MARKER_LO = 0xffff_ffff;
export const IHDR_ID = 0x5845_4e46; // "XENF"
export const IHDR_VERSION = 3;
export const IHDR_OPT_BIG_ENDIAN = 1;
export const IHDR_SIZE = 24;
export const DHDR_SIZE = 16;

/** Domain header types: Xen's 1-4, then hyperlab's RISC-V ones. */
export const DHDR_TYPE = {
  X86_PV: 1,
  X86_HVM: 2,
  X86_PVH: 3,
  ARM: 4,
  HYPERLAB_RV32_HVM: 0x4859_0001,
  HYPERLAB_RV32_PV: 0x4859_0002,
} as const;

export const XC = {
  END: 0x00,
  PAGE_DATA: 0x01,
  X86_PV_INFO: 0x02,
  X86_PV_P2M_FRAMES: 0x03,
  X86_PV_VCPU_BASIC: 0x04,
  X86_PV_VCPU_EXTENDED: 0x05,
  X86_PV_VCPU_XSAVE: 0x06,
  SHARED_INFO: 0x07,
  X86_TSC_INFO: 0x08,
  HVM_CONTEXT: 0x09,
  HVM_PARAMS: 0x0a,
  TOOLSTACK: 0x0b,
  X86_PV_VCPU_MSRS: 0x0c,
  VERIFY: 0x0d,
  CHECKPOINT: 0x0e,
  CHECKPOINT_DIRTY_PFN_LIST: 0x0f,
  STATIC_DATA_END: 0x10,
  X86_CPUID_POLICY: 0x11,
  X86_MSR_POLICY: 0x12,
  // hyperlab's mandatory records
  RV32_VCPU_CONTEXT: 0x4859_0010,
  PV_EVTCHN_TABLE: 0x4859_0011,
  PV_GRANT_TABLE: 0x4859_0012,
  PV_XENSTORE_SUBTREE: 0x4859_0013,
  RV32_VCPU_TIMERS: 0x4859_0014,
  PV_XENSTORE_WATCHES: 0x4859_0015,
  // hyperlab's optional records (both layers)
  RECORD_CHECKSUM: 0xc859_0001,
  STREAM_CHECKSUM: 0xc859_0002,
} as const;

// ---- libxl stream ("LibxlFmt", version 2) ----------------------------------------------
export const LIBXL_IDENT_HI = 0x4c69_6278,
  LIBXL_IDENT_LO = 0x6c46_6d74; // "LibxlFmt"
export const LIBXL_VERSION = 2;
export const LIBXL_OPT_BIG_ENDIAN = 1,
  LIBXL_OPT_LEGACY = 2;
export const LIBXL_HDR_SIZE = 16;

export const XL = {
  END: 0x00,
  LIBXC_CONTEXT: 0x01,
  EMULATOR_XENSTORE_DATA: 0x02,
  EMULATOR_CONTEXT: 0x03,
  CHECKPOINT_END: 0x04,
  CHECKPOINT_STATE: 0x05,
  RECORD_CHECKSUM: XC.RECORD_CHECKSUM,
  STREAM_CHECKSUM: XC.STREAM_CHECKSUM,
  /** hyperlab's, optional: a chunk of a disk's contents (`xl save --copy-storage`; diskImage.ts). */
  DISK_IMAGE: 0xc859_0010,
} as const;

/** EMULATOR_CONTEXT's emulator ids: Xen's (0 unknown, 1 qemu-traditional, 2 qemu-upstream) and hyperlab's device models. */
export const EMULATOR = { UNKNOWN: 0, QEMU_TRADITIONAL: 1, QEMU_UPSTREAM: 2, HYPERLAB: 0x4859_0001 } as const;

// ---- names, for messages ---------------------------------------------------------------
function namer(table: Record<string, number>): (type: number) => string {
  const names = new Map<number, string>();
  for (const [k, v] of Object.entries(table)) names.set(v, k);
  return (type) => names.get(type) ?? `type 0x${(type >>> 0).toString(16).padStart(8, '0')}`;
}
export const xcName = namer(XC);
export const xlName = namer(XL);
