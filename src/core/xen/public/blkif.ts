/**
 * io/blkif.h for a 32-bit RISC-V guest (ilp32 aligns uint64_t to 8, so the layout is
 * x86_64's, not i386's: request 112 bytes, response 16, 32 slots per ring page). Sector
 * numbers, first_sect and last_sect are always in 512-byte units, whatever `sector-size`
 * says. The guest's copy is guests/teaching-os/pv/blkif.h; blkifAbi.test.ts checks that
 * the two agree.
 */
import { ringSize } from './ring';

// Operations
export const BLKIF_OP_READ = 0,
  BLKIF_OP_WRITE = 1,
  BLKIF_OP_WRITE_BARRIER = 2,
  BLKIF_OP_FLUSH_DISKCACHE = 3,
  BLKIF_OP_RESERVED_1 = 4,
  BLKIF_OP_DISCARD = 5,
  BLKIF_OP_INDIRECT = 6;
// Response status
export const BLKIF_RSP_EOPNOTSUPP = -2,
  BLKIF_RSP_ERROR = -1,
  BLKIF_RSP_OKAY = 0;

/** "could be 12 if the ring indexes weren't stored in the same page" (blkif.h). */
export const BLKIF_MAX_SEGMENTS_PER_REQUEST = 11;
/** Sectors of 512 bytes in one granted 4 KiB frame: first_sect..last_sect lie in 0..7. */
export const BLKIF_SECTORS_PER_PAGE = 8;
export const BLKIF_SECTOR_SIZE = 512;

/** struct blkif_request_segment { grant_ref_t gref; uint8_t first_sect, last_sect; } (8 bytes with padding). */
export const BLKIF_SEG_GREF = 0,
  BLKIF_SEG_FIRST_SECT = 4,
  BLKIF_SEG_LAST_SECT = 5,
  BLKIF_SEG_SIZE = 8;

/** struct blkif_request: operation, nr_segments, handle, id (u64), sector_number (u64), seg[11]. */
export const BLKIF_REQ_OPERATION = 0,
  BLKIF_REQ_NR_SEGMENTS = 1,
  BLKIF_REQ_HANDLE = 2,
  BLKIF_REQ_ID = 8,
  BLKIF_REQ_SECTOR_NUMBER = 16,
  BLKIF_REQ_SEG = 24,
  BLKIF_REQUEST_SIZE = 112;

/** struct blkif_response: id (u64), operation (u8), status (i16). */
export const BLKIF_RSP_ID = 0,
  BLKIF_RSP_OPERATION = 8,
  BLKIF_RSP_STATUS = 10,
  BLKIF_RESPONSE_SIZE = 16;

/** Slots in one ring page: __RING_SIZE of the request/response union. */
export const BLKIF_RING_SIZE = ringSize(Math.max(BLKIF_REQUEST_SIZE, BLKIF_RESPONSE_SIZE));

/** The backend's `info` node: VDISK_* flags. */
export const VDISK_CDROM = 1,
  VDISK_REMOVABLE = 2,
  VDISK_READONLY = 4;

/**
 * The frontend's `protocol` node names its ring layout (io/protocols.h). Xen defines none
 * for RISC-V; hyperlab names the native RV32 layout "riscv32-abi" (docs/storage.md). A
 * frontend that writes no protocol uses the native layout, as Linux's blkback assumes.
 */
export const XEN_IO_PROTO_ABI_NATIVE = 'riscv32-abi';
