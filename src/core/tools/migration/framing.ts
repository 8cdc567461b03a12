/**
 * Record framing shared by the libxc and libxl layers, as Xen defines it: {u32 type,
 * u32 body_length, body, zero padding to a multiple of 8}; plus hyperlab's integrity layer,
 * which Xen's stream lacks (docs/migration.md, "Integrity"):
 *
 * - every record is followed by a RECORD_CHECKSUM record (optional type 0xC8590001) whose
 *   body is {u32 crc, u32 index}: the CRC-32C of the record's bytes as they stand in the
 *   stream (header, body, padding) and the record's index in its layer;
 * - just before END, a STREAM_CHECKSUM record (0xC8590002, itself followed by its
 *   RECORD_CHECKSUM) holds {u32 crc, u32 count}: a CRC-32C over the list of the layer's
 *   header checksum and every record checksum before it, in order (with, in the libxl
 *   layer, the embedded libxc stream's own stream checksum where that stream stands). It
 *   catches what per-record checksums cannot: records reordered, dropped or inserted whole.
 *
 * Both are optional records, so the framing stays Xen's: a reader that knows nothing of
 * them skips them. hyperlab's reader requires them, and verifies all of them before a
 * caller applies anything (the readers in libxc.ts and libxl.ts return only after END).
 */
import { ByteReader, ByteWriter, hex } from './bytes';
import { crc32c } from './crc32c';
import { REC_ALIGN, REC_LENGTH_MAX, XC } from './records';

const CHECKSUM_BODY = 8;

/** Adds entries to a stream checksum: a CRC-32C over u32 (little-endian) values. */
class ChecksumList {
  private crc = 0;
  private readonly word = new Uint8Array(4);
  add(v: number): void {
    new DataView(this.word.buffer).setUint32(0, v >>> 0, true);
    this.crc = crc32c(this.word, this.crc);
  }
  get value(): number {
    return this.crc;
  }
}

export class RecordWriter {
  private readonly list = new ChecksumList();
  private count = 0;

  /** `headerCrc`: the CRC-32C of the layer's header bytes (and of anything before it that it vouches for). */
  constructor(
    readonly w: ByteWriter,
    headerCrc: number,
  ) {
    this.list.add(headerCrc);
  }

  /** Write one record whose body `body` writes, then its RECORD_CHECKSUM. */
  record(type: number, body: (w: ByteWriter) => void = () => {}): void {
    const w = this.w,
      start = w.length;
    w.u32(type).u32(0);
    body(w);
    const length = w.length - start - 8;
    if (length > REC_LENGTH_MAX) throw new Error(`record ${hex(type)} of ${length} bytes exceeds REC_LENGTH_MAX`);
    w.patchU32(start + 4, length).zeros((REC_ALIGN - (length % REC_ALIGN)) % REC_ALIGN); // padding counts from the record, not the file
    const crc = crc32c(w.view8().subarray(start));
    this.list.add(crc);
    w.u32(XC.RECORD_CHECKSUM).u32(CHECKSUM_BODY).u32(crc).u32(this.count++);
  }

  /** Account for a stream embedded at this point (libxc inside libxl) by its stream checksum. */
  embedded(streamCrc: number): void {
    this.list.add(streamCrc);
  }

  /** Write STREAM_CHECKSUM and END. Returns the stream checksum. */
  end(): number {
    const crc = this.list.value,
      count = this.count;
    this.record(XC.STREAM_CHECKSUM, (w) => w.u32(crc).u32(count));
    this.w.u32(XC.END).u32(0);
    return crc;
  }
}

export interface RawRecord {
  type: number;
  body: Uint8Array;
  /** File offset of the record's header. */
  offset: number;
  /** Index of the record in its layer (checksum records not counted). */
  index: number;
}

/**
 * Reads a layer's records one at a time. `next` changes no state until a record and its
 * checksum have been read whole, so on a partial reader it can be retried once more bytes
 * have arrived (saveFile.ts's SaveFileReader does so).
 */
export class RecordReader {
  private readonly list = new ChecksumList();
  private count = 0;
  private streamChecked = false;
  private ended = false;
  /** The stream checksum, once verified. */
  streamCrc = 0;
  /** The record `next` returned last. */
  last: RawRecord | undefined;

  constructor(
    /** Replaced by the incremental reader as bytes arrive. */
    public r: ByteReader,
    /** 'libxc' or 'libxl', for messages. */
    private readonly layer: string,
    private readonly typeName: (type: number) => string,
    headerCrc: number,
  ) {
    this.list.add(headerCrc);
  }

  /** One record, framing checked. `label` names it in messages (default: by its index and type). */
  private raw(label?: string): RawRecord & { crc: number } {
    const r: ByteReader = this.r,
      at = r.offset,
      start = r.pos;
    r.ensure(1, `the ${this.layer} stream ends before its END record`, at);
    r.need(8, 'record header');
    const type = r.u32('record type'),
      length = r.u32('record length');
    const what = label ?? `${this.layer} record ${this.count} (${this.typeName(type)})`;
    if (length > REC_LENGTH_MAX) r.fail(`${what} claims ${length} bytes, over the 128 MiB limit`, at);
    const padded = length + ((REC_ALIGN - (length % REC_ALIGN)) % REC_ALIGN);
    r.ensure(padded, `truncated: ${what} needs ${padded} bytes, ${r.remaining} left`, at);
    const body = r.bytesOf(length);
    for (const b of r.bytesOf(padded - length)) if (b !== 0) r.fail(`${what} has non-zero padding`, at);
    return { type, body, offset: at, index: this.count, crc: crc32c(r.bytes.subarray(start, r.pos)) };
  }

  /** The next record, checked; END once, then never again. */
  next(): RawRecord {
    const r: ByteReader = this.r;
    if (this.ended) r.fail('read past END');
    const rec = this.raw();
    const name = this.typeName(rec.type);
    if (rec.type === XC.END) {
      if (rec.body.length !== 0) r.fail(`${this.layer} END has a ${rec.body.length}-byte body`, rec.offset);
      if (!this.streamChecked) r.fail(`${this.layer} END without a stream checksum before it`, rec.offset);
      this.ended = true;
      return (this.last = { type: rec.type, body: rec.body, offset: rec.offset, index: rec.index });
    }
    if (rec.type === XC.RECORD_CHECKSUM) r.fail(`a ${this.layer} checksum record with no record before it`, rec.offset);
    if (this.streamChecked) r.fail(`${this.layer} record ${rec.index} (${name}) after the stream checksum, where only END may stand`, rec.offset);
    const ck = this.raw(`the checksum of ${this.layer} record ${rec.index} (${name})`);
    if (ck.type !== XC.RECORD_CHECKSUM || ck.body.length !== CHECKSUM_BODY) {
      r.fail(`${this.layer} record ${rec.index} (${name}) has no checksum record after it`, rec.offset);
    }
    const dv = new DataView(ck.body.buffer, ck.body.byteOffset, CHECKSUM_BODY),
      le = r.littleEndian;
    const stored = dv.getUint32(0, le),
      index = dv.getUint32(4, le);
    if (stored !== rec.crc) r.fail(`${this.layer} record ${rec.index} (${name}) is corrupt: checksum ${hex(rec.crc)}, stored ${hex(stored)}`, rec.offset);
    if (index !== rec.index) r.fail(`${this.layer} record ${rec.index} (${name}) is out of place: its checksum names record ${index}`, rec.offset);
    if (rec.type === XC.STREAM_CHECKSUM) {
      r.ensure(8, `truncated: the ${this.layer} stream ends before its END record`); // END must be there before any state changes
      if (rec.body.length !== 8) r.fail(`the ${this.layer} stream checksum record has a ${rec.body.length}-byte body`, rec.offset);
      const sv = new DataView(rec.body.buffer, rec.body.byteOffset, 8);
      const crc = sv.getUint32(0, le),
        count = sv.getUint32(4, le);
      if (count !== this.count) r.fail(`the ${this.layer} stream holds ${this.count} records where ${count} were written`, rec.offset);
      if (crc !== this.list.value)
        r.fail(`${this.layer} stream checksum ${hex(this.list.value)}, stored ${hex(crc)}: headers or records were changed, reordered or replaced`, rec.offset);
      this.streamChecked = true;
      this.streamCrc = crc;
      this.count++;
      return this.next();
    }
    this.list.add(rec.crc);
    this.count++;
    return (this.last = { type: rec.type, body: rec.body, offset: rec.offset, index: rec.index });
  }

  /** Account for an embedded stream by its (verified) stream checksum. */
  embedded(streamCrc: number): void {
    this.list.add(streamCrc);
  }
}
