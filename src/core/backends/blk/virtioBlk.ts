/**
 * virtio-blk (virtio 1.x section 5.2): the hvm front door to Domain-0's block backend, on
 * the same images blkback serves (src/core/block). The transport and the virtqueue are in
 * src/core/devices/virtio; this file is the device type: its feature bits, its config
 * space (5.2.4) and its requests (5.2.6).
 *
 * A request is a chain of: a device-readable header {le32 type; le32 reserved; le64
 * sector}, the data (device-readable for T_OUT, device-writable for T_IN), and a
 * device-writable status byte, in any framing (VIRTIO_F_VERSION_1 implies ANY_LAYOUT,
 * 2.7.4.3). Sectors are always 512 bytes (5.2.6).
 *
 * blk_size (offered with VIRTIO_BLK_F_BLK_SIZE) is the disk's logical sector size, the
 * config's `sector-size=` (512 by default). 5.2.5: it tells the driver "the optimal sector
 * size", and "does not affect the units used in the protocol (always 512 bytes)". As QEMU
 * does for a disk with a larger logical_block_size (virtio_blk_sect_range_ok), a read or
 * write that is not whole logical sectors (its sector or its length) is answered IOERR and
 * counted `misaligned`, as blkback refuses it.
 *
 * Answers: VIRTIO_BLK_S_OK; VIRTIO_BLK_S_IOERR for a data length that is not a multiple of
 * 512 or larger than MAX_REQUEST_BYTES, a range past the end, a write to a read-only disk
 * (5.2.6.2: "MUST set the status byte to VIRTIO_BLK_S_IOERR for a write request if the
 * VIRTIO_BLK_F_RO feature if offered, and MUST NOT write any data") or an image failure;
 * VIRTIO_BLK_S_UNSUPP for every other type (discard, write zeroes, secure erase: not
 * offered). A chain too short to hold the header and the status byte has nowhere to put
 * an answer: the device needs a reset (QEMU's virtio-blk does the same, "missing headers").
 * Each answer counts in the same VbdStats as blkback's, so xentop's VBD columns cover both.
 */
import type { BlockImage } from '../../block/image';
import { DmaFault, type GuestDma } from '../../devices/virtio/guestDma';
import type { VirtioDeviceModel } from '../../devices/virtio/mmioDevice';
import { VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_ID_BLOCK } from '../../devices/virtio/virtio';
import { VirtqError, type SplitVirtqueue, type VirtqBuffer, type VirtqChain } from '../../devices/virtio/virtqueue';
import type { BlkRefusal } from './request';
import { newVbdStats, validSectorSize } from './blkback';

// Feature bits, 5.2.3.
export const VIRTIO_BLK_F_SIZE_MAX = 1;
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_F_BLK_SIZE = 6;
export const VIRTIO_BLK_F_FLUSH = 9;

// Request types and status values, 5.2.6.
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;
/** Length of the id string T_GET_ID returns. */
export const VIRTIO_BLK_ID_BYTES = 20;
const HEADER = 16;
const SECTOR = 512;

/** Queue size offered (QEMU's virtio-blk default queue-size is 256). */
export const VIRTIO_BLK_QUEUE_MAX = 256;
/** seg_max and size_max in the config: a request moves at most SEG_MAX * SIZE_MAX bytes (Linux sends at most 1280 KiB). */
export const VIRTIO_BLK_SEG_MAX = 126;
export const VIRTIO_BLK_SIZE_MAX = 32768;
export const MAX_REQUEST_BYTES = VIRTIO_BLK_SEG_MAX * VIRTIO_BLK_SIZE_MAX;

export interface VirtioBlkOptions {
  image: BlockImage;
  readOnly: boolean;
  /** The id T_GET_ID answers (at most 20 bytes are sent). */
  serial: string;
  dma: GuestDma;
  log?: (line: string) => void;
  /** The logical sector size in bytes, blk_size (xl.cfg's `sector-size=`): 512 when absent. */
  sectorSize?: number;
}

export class VirtioBlk implements VirtioDeviceModel {
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly numQueues = 1;
  readonly queueNumMax = VIRTIO_BLK_QUEUE_MAX;
  readonly features: readonly number[];
  readonly config = new Uint8Array(0x3c);
  /** The capacity in 512-byte sectors (the protocol's unit, 5.2.6). */
  readonly sectors: number;
  readonly sectorSize: number;
  readonly stats = newVbdStats();
  private buf = new Uint8Array(64 * 1024);
  private readonly hdr = new Uint8Array(HEADER);
  private readonly one = new Uint8Array(1);

  constructor(private readonly o: VirtioBlkOptions) {
    this.sectorSize = o.sectorSize ?? SECTOR;
    if (!validSectorSize(this.sectorSize)) throw new Error(`virtio-blk ${o.serial}: sector-size ${this.sectorSize} is not a power of two from 512 to 4096`);
    this.sectors = Math.floor(o.image.size / this.sectorSize) * (this.sectorSize / SECTOR);
    this.features = [
      VIRTIO_BLK_F_SIZE_MAX,
      VIRTIO_BLK_F_SEG_MAX,
      VIRTIO_BLK_F_BLK_SIZE,
      VIRTIO_BLK_F_FLUSH,
      ...(o.readOnly ? [VIRTIO_BLK_F_RO] : []),
      VIRTIO_F_INDIRECT_DESC,
      VIRTIO_F_EVENT_IDX,
    ];
    // struct virtio_blk_config (5.2.4), little-endian: capacity at 0 (le64, in 512-byte
    // sectors), size_max at 8, seg_max at 12, geometry at 16 (none), blk_size at 20.
    const v = new DataView(this.config.buffer);
    v.setUint32(0, this.sectors % 0x1_0000_0000, true);
    v.setUint32(4, Math.floor(this.sectors / 0x1_0000_0000), true);
    v.setUint32(8, VIRTIO_BLK_SIZE_MAX, true);
    v.setUint32(12, VIRTIO_BLK_SEG_MAX, true);
    v.setUint32(20, this.sectorSize, true);
  }

  get readOnly(): boolean {
    return this.o.readOnly;
  }

  get image(): BlockImage {
    return this.o.image;
  }

  reset(): void {
    // Requests complete synchronously: nothing is in flight to cancel.
  }

  processQueue(q: SplitVirtqueue): void {
    for (let n = 0; n < q.num; n++) {
      const c = q.pop();
      if (!c) return;
      q.push(c.head, this.handle(c));
    }
  }

  /** Serve one chain; returns the bytes written into its device-writable buffers (the used length). */
  private handle(c: VirtqChain): number {
    if (c.readLen < HEADER || c.writeLen < 1) throw new VirtqError(`virtio-blk: request ${c.head} has no room for its header or status byte`);
    try {
      this.gather(c.readable, 0, this.hdr);
      const h = new DataView(this.hdr.buffer);
      const type = h.getUint32(0, true);
      const sector = h.getUint32(8, true) + h.getUint32(12, true) * 0x1_0000_0000;
      let written = 0;
      let status: number;
      switch (type) {
        case VIRTIO_BLK_T_IN: {
          const len = c.writeLen - 1;
          status = this.check(sector, len, false);
          if (status === VIRTIO_BLK_S_OK) {
            const data = this.data(len);
            status = this.io(() => this.o.image.readSectors(sector, data));
            if (status === VIRTIO_BLK_S_OK) {
              this.scatter(c.writable, data);
              written = len;
              this.stats.rdReq++;
              this.stats.rdSect += len / SECTOR;
            }
          }
          break;
        }
        case VIRTIO_BLK_T_OUT: {
          const len = c.readLen - HEADER;
          status = this.check(sector, len, true);
          if (status === VIRTIO_BLK_S_OK) {
            const data = this.data(len);
            this.gather(c.readable, HEADER, data);
            status = this.io(() => this.o.image.writeSectors(sector, data));
            if (status === VIRTIO_BLK_S_OK) {
              this.stats.wrReq++;
              this.stats.wrSect += len / SECTOR;
            }
          }
          break;
        }
        case VIRTIO_BLK_T_FLUSH:
          status = this.io(() => this.o.image.flush());
          if (status === VIRTIO_BLK_S_OK) this.stats.flReq++;
          break;
        case VIRTIO_BLK_T_GET_ID: {
          const id = new Uint8Array(Math.min(VIRTIO_BLK_ID_BYTES, c.writeLen - 1));
          id.set(new TextEncoder().encode(this.o.serial).subarray(0, id.length));
          this.scatter(c.writable, id);
          written = id.length;
          status = VIRTIO_BLK_S_OK;
          break;
        }
        default:
          this.stats.refused.notSupported++;
          status = VIRTIO_BLK_S_UNSUPP;
      }
      this.one[0] = status;
      this.writeStatus(c.writable, this.one);
      return written + 1;
    } catch (e) {
      if (e instanceof DmaFault) throw new VirtqError(`virtio-blk: ${e.message}`);
      throw e;
    }
  }

  /** OK, or IOERR with the reason counted. */
  private check(sector: number, len: number, write: boolean): number {
    let why: BlkRefusal | undefined;
    if (write && this.o.readOnly) why = 'readOnly';
    else if (len % SECTOR !== 0 || len > MAX_REQUEST_BYTES) why = 'badSegments';
    else if (sector + len / SECTOR > this.sectors) why = 'pastEnd';
    else if ((sector * SECTOR) % this.sectorSize !== 0 || len % this.sectorSize !== 0) why = 'misaligned';
    if (why === undefined) return VIRTIO_BLK_S_OK;
    this.stats.refused[why]++;
    return VIRTIO_BLK_S_IOERR;
  }

  private io(fn: () => void): number {
    try {
      fn();
      return VIRTIO_BLK_S_OK;
    } catch (e) {
      this.stats.refused.ioError++;
      this.o.log?.(`virtio-blk ${this.o.serial}: ${e instanceof Error ? e.message : String(e)}`);
      return VIRTIO_BLK_S_IOERR;
    }
  }

  private data(len: number): Uint8Array {
    if (this.buf.length < len) this.buf = new Uint8Array(len);
    return this.buf.subarray(0, len);
  }

  /** Copy the chain's readable bytes from offset `skip` into `dst`. */
  private gather(bufs: readonly VirtqBuffer[], skip: number, dst: Uint8Array): void {
    let done = 0;
    for (const b of bufs) {
      if (done === dst.length) return;
      if (skip >= b.len) {
        skip -= b.len;
        continue;
      }
      const n = Math.min(b.len - skip, dst.length - done);
      this.o.dma.read(b.addr + skip, dst.subarray(done, done + n));
      done += n;
      skip = 0;
    }
  }

  /** Copy `src` into the chain's writable buffers from their start. */
  private scatter(bufs: readonly VirtqBuffer[], src: Uint8Array): void {
    let done = 0;
    for (const b of bufs) {
      if (done === src.length) return;
      const n = Math.min(b.len, src.length - done);
      this.o.dma.write(b.addr, src.subarray(done, done + n));
      done += n;
    }
  }

  /** The status byte is the last byte of the device-writable part. */
  private writeStatus(bufs: readonly VirtqBuffer[], st: Uint8Array): void {
    for (let i = bufs.length - 1; i >= 0; i--) {
      const b = bufs[i]!;
      if (b.len > 0) {
        this.o.dma.write(b.addr + b.len - 1, st);
        return;
      }
    }
  }
}
