/**
 * A blkif request as the backend takes it: decoded from a private copy of its ring slot
 * (RING_COPY_REQUEST), every field the guest wrote checked before it is used. A request
 * that fails a check is answered BLKIF_RSP_ERROR (or BLKIF_RSP_EOPNOTSUPP for an
 * operation the backend does not do) and counted under the reason; it never reaches
 * the disk or another domain's memory.
 */
import * as B from '../../xen/public/blkif';

/** Why a request was refused: the counter it goes under. */
export type BlkRefusal =
  | 'badSegments' // nr_segments 0 or more than 11 for a read or write
  | 'badSector' // first_sect > last_sect, or last_sect past the page
  | 'misaligned' // not whole logical sectors on a disk whose sector-size is more than 512
  | 'pastEnd' // sectors past the end of the disk
  | 'readOnly' // a write to a read-only disk
  | 'badGrant' // a grant the copy refused (bad ref, not granted to Domain-0, read-only, foreign frame)
  | 'ioError' // the image layer failed
  | 'closed' // a request while the device is closing
  | 'notSupported'; // an operation the backend does not do (EOPNOTSUPP)

export interface BlkSegment {
  gref: number;
  firstSect: number;
  lastSect: number;
}

export interface BlkRequest {
  operation: number;
  /** The id as the guest wrote it: 8 bytes, echoed in the response. */
  idLo: number;
  idHi: number;
  /** First sector (512 bytes) on the disk. */
  sector: number;
  /** Sectors in all segments. */
  nrSectors: number;
  segments: BlkSegment[];
}

export type Decoded = { ok: true; req: BlkRequest } | { ok: false; operation: number; idLo: number; idHi: number; why: BlkRefusal };

/**
 * Decode and check one request. `diskSectors`: the disk's size in 512-byte sectors;
 * `sectorSize`: its logical sector size in bytes (`sector-size`, a power of two, 512..4096).
 *
 * On a disk whose sector-size is more than 512, sector_number, first_sect and last_sect
 * still count 512-byte units (what Linux's xen-blkback and blkfront do: blkif.h's
 * "feature-large-sector-size" is not offered, docs/storage.md), and a read or write must
 * be whole logical sectors: sector_number and every segment's first sector and length a
 * multiple of sectorSize / 512, else it is refused as `misaligned` (xen-blkback's
 * "Misaligned I/O request" check in dispatch_rw_block_io, which tests sector_number and
 * each segment's count; first_sect is checked too, so the data sits on a sector boundary
 * in its page).
 */
export function decodeRequest(slot: Uint8Array, diskSectors: number, readOnly: boolean, sectorSize = B.BLKIF_SECTOR_SIZE): Decoded {
  const v = new DataView(slot.buffer, slot.byteOffset, slot.byteLength);
  const operation = v.getUint8(B.BLKIF_REQ_OPERATION);
  const idLo = v.getUint32(B.BLKIF_REQ_ID, true);
  const idHi = v.getUint32(B.BLKIF_REQ_ID + 4, true);
  const fail = (why: BlkRefusal): Decoded => ({ ok: false, operation, idLo, idHi, why });
  if (operation === B.BLKIF_OP_FLUSH_DISKCACHE) {
    // nr_segments and sector_number mean nothing for a flush (Linux's blkfront sends 0s).
    return { ok: true, req: { operation, idLo, idHi, sector: 0, nrSectors: 0, segments: [] } };
  }
  if (operation !== B.BLKIF_OP_READ && operation !== B.BLKIF_OP_WRITE) return fail('notSupported');
  const nseg = v.getUint8(B.BLKIF_REQ_NR_SEGMENTS);
  if (nseg === 0 || nseg > B.BLKIF_MAX_SEGMENTS_PER_REQUEST) return fail('badSegments');
  const segments: BlkSegment[] = [];
  let nrSectors = 0;
  for (let i = 0; i < nseg; i++) {
    const at = B.BLKIF_REQ_SEG + i * B.BLKIF_SEG_SIZE;
    const seg = {
      gref: v.getUint32(at + B.BLKIF_SEG_GREF, true),
      firstSect: v.getUint8(at + B.BLKIF_SEG_FIRST_SECT),
      lastSect: v.getUint8(at + B.BLKIF_SEG_LAST_SECT),
    };
    if (seg.firstSect > seg.lastSect || seg.lastSect >= B.BLKIF_SECTORS_PER_PAGE) return fail('badSector');
    nrSectors += seg.lastSect - seg.firstSect + 1;
    segments.push(seg);
  }
  const lo = v.getUint32(B.BLKIF_REQ_SECTOR_NUMBER, true);
  const hi = v.getUint32(B.BLKIF_REQ_SECTOR_NUMBER + 4, true);
  // A sector number of 2^53 or more is past any disk hyperlab opens; keep the arithmetic exact.
  if (hi >= 0x20_0000) return fail('pastEnd');
  const sector = hi * 2 ** 32 + lo;
  if (sector + nrSectors > diskSectors) return fail('pastEnd');
  const per = sectorSize / B.BLKIF_SECTOR_SIZE; // 512-byte units in one logical sector
  if (per > 1) {
    if (sector % per !== 0) return fail('misaligned');
    for (const s of segments) if (s.firstSect % per !== 0 || (s.lastSect - s.firstSect + 1) % per !== 0) return fail('misaligned');
  }
  if (operation === B.BLKIF_OP_WRITE && readOnly) return fail('readOnly');
  return { ok: true, req: { operation, idLo, idHi, sector, nrSectors, segments } };
}

/** Write a response into its ring slot (machine bytes at `at`): id, operation, status. */
export function encodeResponse(u8: Uint8Array, at: number, idLo: number, idHi: number, operation: number, status: number): void {
  const v = new DataView(u8.buffer, u8.byteOffset + at, B.BLKIF_RESPONSE_SIZE);
  v.setUint32(B.BLKIF_RSP_ID, idLo, true);
  v.setUint32(B.BLKIF_RSP_ID + 4, idHi, true);
  v.setUint8(B.BLKIF_RSP_OPERATION, operation);
  v.setUint8(B.BLKIF_RSP_OPERATION + 1, 0);
  v.setInt16(B.BLKIF_RSP_STATUS, status, true);
  v.setUint32(12, 0, true);
}
