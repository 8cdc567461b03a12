/**
 * The libxl stream ("LibxlFmt", version 2; Xen's docs/specs/libxl-migration-stream.pandoc):
 * the toolstack's layer around the libxc stream.
 *
 *   header (16 bytes, big-endian): u64 ident "LibxlFmt", u32 version 2, u32 options (bit 0
 *     big-endian records, bit 1 converted from a legacy stream)
 *   LIBXC_CONTEXT (empty), immediately followed by the libxc stream (libxc.ts)
 *   EMULATOR_CONTEXT (hvm): {u32 emulator_id, u32 index}, then the device models' state
 *     (deviceState.ts); hyperlab's emulator id is 0x48590001
 *   END
 *
 * Each record carries its checksum and the layer its stream checksum, as in the libxc
 * layer (framing.ts). The libxl stream checksum starts from the CRC of the xl header and
 * the libxl header and takes the embedded libxc stream in by that stream's own (verified)
 * stream checksum: one value vouches for the whole file.
 */
import { ByteReader, hex, type ByteWriter } from './bytes';
import { crc32c } from './crc32c';
import { readDeviceState, writeDeviceState, type DeviceStateEntry } from './deviceState';
import { RecordReader, RecordWriter, type RawRecord } from './framing';
import { decodeDiskChunk, type DiskChunk } from './diskImage';
import { readLibxcStream, writeLibxcStream, type LibxcImage, type LibxcLimits, type LibxcRead } from './libxc';
import {
  EMULATOR,
  isOptional,
  LIBXL_HDR_SIZE,
  LIBXL_IDENT_HI,
  LIBXL_IDENT_LO,
  LIBXL_OPT_BIG_ENDIAN,
  LIBXL_OPT_LEGACY,
  LIBXL_VERSION,
  XL,
  xlName,
} from './records';

export interface LibxlContent {
  /** The domain image, or a function that writes the libxc stream and returns its stream checksum (LibxcWriter.end). */
  libxc: LibxcImage | ((w: ByteWriter) => number);
  /** The device models' state (hvm domains), in EMULATOR_CONTEXT. */
  emulator?: DeviceStateEntry[];
  /** More records before END, as a newer writer would add (the version-tolerance tests use it). */
  extra?: { type: number; body: Uint8Array }[];
}

export interface LibxlRead {
  libxc: LibxcRead;
  emulator?: DeviceStateEntry[];
  /** DISK_IMAGE chunks (`xl save --copy-storage`), in stream order. */
  disks?: DiskChunk[];
  skipped: { type: number; offset: number; length: number }[];
}

/** `prefixCrc`: the CRC-32C of what precedes the stream and is vouched for by it (the xl header). */
export function writeLibxlStream(w: ByteWriter, c: LibxlContent, prefixCrc = 0): void {
  const start = w.length;
  w.u32(LIBXL_IDENT_HI, false).u32(LIBXL_IDENT_LO, false).u32(LIBXL_VERSION, false).u32(0, false);
  const rec = new RecordWriter(w, crc32c(w.view8().subarray(start), prefixCrc));
  rec.record(XL.LIBXC_CONTEXT);
  rec.embedded(typeof c.libxc === 'function' ? c.libxc(w) : writeLibxcStream(w, c.libxc));
  if (c.emulator !== undefined) {
    const entries = c.emulator;
    rec.record(XL.EMULATOR_CONTEXT, (b) => {
      b.u32(EMULATOR.HYPERLAB).u32(0);
      writeDeviceState(b, entries);
    });
  }
  for (const e of c.extra ?? []) rec.record(e.type, (b) => b.bytes(e.body));
  rec.end();
}

/**
 * The libxl layer's rules, one verified record at a time; `step` says when the libxc stream
 * starts (the caller reads it, then hands over its stream checksum with `libxcDone`).
 */
export class LibxlRestore {
  readonly recs: RecordReader;
  libxc: LibxcRead | undefined;
  emulator: DeviceStateEntry[] | undefined;
  readonly disks: DiskChunk[] = [];
  readonly skipped: LibxlRead['skipped'] = [];
  private libxcStarted = false;

  /** Reads the libxl header from `r`; `prefixCrc` as for writeLibxlStream. */
  constructor(r: ByteReader, prefixCrc = 0) {
    const start = r.pos,
      at = r.offset;
    r.ensure(LIBXL_HDR_SIZE, `truncated: the libxl header needs ${LIBXL_HDR_SIZE} bytes, ${r.remaining} present`, at);
    const hi = r.u32('ident', false),
      lo = r.u32('ident', false),
      version = r.u32('version', false),
      options = r.u32('options', false);
    if (hi !== LIBXL_IDENT_HI || lo !== LIBXL_IDENT_LO) r.fail('not a libxl stream (ident is not "LibxlFmt")', at);
    if (version !== LIBXL_VERSION) r.fail(`libxl stream version ${version}; hyperlab reads version ${LIBXL_VERSION}`, at + 8);
    if ((options & LIBXL_OPT_BIG_ENDIAN) !== 0) r.fail('a big-endian stream; RV32 streams are little-endian', at + 12);
    if ((options & LIBXL_OPT_LEGACY) !== 0) r.fail('a stream converted from the legacy format, which never held an RV32 domain', at + 12);
    if (options !== 0) r.fail(`reserved option bits ${hex(options)}`, at + 12);
    this.recs = new RecordReader(r, 'libxl', xlName, crc32c(r.bytes.subarray(start, r.pos), prefixCrc));
  }

  private fail(rec: RawRecord, why: string): never {
    return this.recs.r.fail(`libxl record ${rec.index} (${xlName(rec.type)}): ${why}`, rec.offset);
  }

  /** The libxc stream that followed LIBXC_CONTEXT has been read and verified. */
  libxcDone(libxc: LibxcRead): void {
    this.libxc = libxc;
    this.recs.embedded(libxc.streamCrc);
  }

  /** Read the next record: 'libxc' when the libxc stream follows, 'end' at a verified END. */
  step(): 'libxc' | 'end' | undefined {
    const rec = this.recs.next();
    if (rec.index === 0 && rec.type !== XL.LIBXC_CONTEXT) this.fail(rec, 'the stream must open with LIBXC_CONTEXT');
    switch (rec.type) {
      case XL.END:
        if (this.libxc === undefined) this.fail(rec, 'the stream holds no libxc context');
        return 'end';
      case XL.LIBXC_CONTEXT:
        if (this.libxcStarted) this.fail(rec, 'appears twice');
        if (rec.body.length !== 0) this.fail(rec, 'has a body');
        this.libxcStarted = true;
        return 'libxc';
      case XL.EMULATOR_CONTEXT: {
        if (this.emulator !== undefined) this.fail(rec, 'appears twice');
        if (this.libxc?.kind !== 'hvm') this.fail(rec, 'device model state for a pv domain');
        const b = new ByteReader(rec.body, rec.offset + 8, true, 'EMULATOR_CONTEXT');
        const id = b.u32('emulator_id'),
          index = b.u32('index');
        if (id !== EMULATOR.HYPERLAB) this.fail(rec, `emulator ${hex(id)} is not hyperlab's device models`);
        if (index !== 0) this.fail(rec, `emulator index ${index}; hyperlab has one`);
        this.emulator = readDeviceState(rec.body.subarray(8), rec.offset + 16, 'EMULATOR_CONTEXT');
        return undefined;
      }
      case XL.DISK_IMAGE:
        this.disks.push(decodeDiskChunk(rec.body, rec.offset + 8));
        return undefined;
      case XL.EMULATOR_XENSTORE_DATA:
        return this.fail(rec, "hyperlab's device models keep nothing in xenstore");
      case XL.CHECKPOINT_END:
      case XL.CHECKPOINT_STATE:
        return this.fail(rec, 'checkpointed streams (Remus, COLO) are not supported');
      default:
        if (!isOptional(rec.type)) this.fail(rec, 'unknown mandatory record: this stream needs a newer hyperlab');
        this.skipped.push({ type: rec.type, offset: rec.offset, length: rec.body.length });
        return undefined;
    }
  }

  result(): LibxlRead {
    const out: LibxlRead = { libxc: this.libxc!, skipped: this.skipped };
    if (this.emulator !== undefined) out.emulator = this.emulator;
    if (this.disks.length > 0) out.disks = this.disks;
    return out;
  }
}

/** Read and check a whole libxl stream (and the libxc stream in it) from `r`. */
export function readLibxlStream(r: ByteReader, limits: LibxcLimits, prefixCrc = 0): LibxlRead {
  const x = new LibxlRestore(r, prefixCrc);
  for (;;) {
    const what = x.step();
    if (what === 'end') return x.result();
    if (what === 'libxc') x.libxcDone(readLibxcStream(r, limits));
  }
}
