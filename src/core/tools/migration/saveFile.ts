/**
 * A whole save file (or `xl migrate` stream): the xl header with the domain's config, then
 * the libxl stream, which carries the libxc stream. `readSaveFile` checks every byte
 * (every record's checksum, the stream checksums, every layout and ordering rule) before it
 * returns, so a caller builds nothing from a stream that is not whole.
 */
import { ByteReader, ByteWriter, NeedMore } from './bytes';
import { crc32c } from './crc32c';
import type { DeviceStateEntry } from './deviceState';
import type { RawRecord } from './framing';
import { LibxcRestore, type LibxcImage, type LibxcLimits } from './libxc';
import { LibxlRestore, writeLibxlStream, type LibxlRead } from './libxl';
import { readXlHeader, writeXlHeader, type XlHeader } from './xlHeader';

export interface SaveImage {
  config: string;
  /** The image, or a writer of the libxc stream (see LibxlContent). */
  libxc: LibxcImage | ((w: ByteWriter) => number);
  emulator?: DeviceStateEntry[];
  extra?: { type: number; body: Uint8Array }[];
}

export interface SaveRead extends LibxlRead {
  header: XlHeader;
}

/** Bytes a save file of `img` takes, about (pages dominate: 4 KiB and 8 bytes of pfn each). */
function estimate(img: SaveImage): number {
  if (typeof img.libxc === 'function') return 1 << 20;
  let n = 64 * 1024 + img.config.length + img.libxc.vcpus.length * 512;
  for (const p of img.libxc.pages.values()) n += p === 'zero' ? 8 : 4104;
  return n + Math.ceil(img.libxc.pages.size / 1024) * 48;
}

export function writeSaveFile(img: SaveImage): Uint8Array {
  const w = new ByteWriter(true, estimate(img));
  writeXlHeader(w, { config: img.config, json: false });
  const prefix = crc32c(w.view8());
  writeLibxlStream(w, img, prefix);
  return w.finish();
}

type Phase = 'xl' | 'libxl header' | 'libxl' | 'libxc header' | 'libxc' | 'done';

/**
 * Reads a save file or migration stream as its bytes arrive (`push` each chunk). Every
 * record is verified (its checksum, its layout, its place) before it counts, and
 * `onRecord` hears of it only then: a receiver may copy a PAGE_DATA batch into the new
 * domain's memory as it comes, while that domain is not running. The stream checksums (and
 * the rest of the stream) are verified at END, which `push` reports by returning the result;
 * a receiver unpauses nothing before that.
 */
export class SaveFileReader {
  private buf: Uint8Array = new Uint8Array(0);
  private len = 0;
  /** File offset of buf[0]: bytes before it were read and let go (see append). */
  private base = 0;
  private r = new ByteReader(this.buf, 0, true, 'save file');
  private phase: Phase = 'xl';
  private header: XlHeader | undefined;
  private limits: LibxcLimits | undefined;
  private libxl: LibxlRestore | undefined;
  private libxc: LibxcRestore | undefined;
  private result: SaveRead | undefined;

  constructor(
    private readonly limitsFor: LibxcLimits | ((h: XlHeader) => LibxcLimits),
    private readonly onRecord?: (layer: 'libxc' | 'libxl', rec: RawRecord) => void,
  ) {}

  /** Bytes received so far. */
  get received(): number {
    return this.base + this.len;
  }

  /**
   * Take more bytes. Returns the verified result once the stream's END has been read (and,
   * when `last`, refuses anything after it); undefined while more is needed. With `last`,
   * a stream that stops short is refused. Throws StreamError on a bad stream. The reader
   * keeps (views of) the bytes: the caller must not reuse `chunk`'s memory.
   */
  push(chunk: Uint8Array, last = false): SaveRead | undefined {
    if (this.phase === 'done') {
      if (chunk.length > 0) this.r.fail(`${chunk.length} bytes after the stream's END`);
      return this.result;
    }
    this.append(chunk);
    const r = new ByteReader(this.buf.subarray(0, this.len), this.base, true, 'save file');
    r.pos = this.r.pos;
    r.partial = !last;
    this.r = r;
    if (this.libxl) this.libxl.recs.r = r;
    if (this.libxc) this.libxc.recs.r = r;
    for (;;) {
      const at = r.pos;
      try {
        if (this.stepOnce()) break;
      } catch (e) {
        if (e !== NeedMore.instance) throw e;
        r.pos = at;
        return undefined;
      }
    }
    if (r.remaining !== 0) r.fail(`${r.remaining} bytes after the stream's END`);
    return this.result;
  }

  private append(chunk: Uint8Array): void {
    if (this.len === 0 && this.buf.length === 0) {
      this.buf = chunk; // the common case of one whole file: no copy
      this.len = chunk.length;
      return;
    }
    // Once the libxc stream is being read, the bytes of the records already read are not
    // needed any more (what was kept of them, page data, are views that keep their own
    // buffer alive): start a new buffer at the first unread byte. A migration's sender
    // sends whole records per message, so usually nothing is left unread and the chunk
    // itself becomes the buffer, with no copy. Growing one buffer for the whole stream
    // instead cost a migration receiver most of its time (copies, and the host's first
    // touch of every new, larger buffer: ~100 ms per 5 MB stream, measured).
    const keep = this.libxc ? this.r.pos : 0;
    if (keep > 0) {
      const tail = this.buf.subarray(keep, this.len);
      this.base += keep;
      this.r.pos = 0;
      if (tail.length === 0) {
        this.buf = chunk;
        this.len = chunk.length;
        return;
      }
      const next = new Uint8Array(Math.max(tail.length + chunk.length, 2 * tail.length));
      next.set(tail);
      next.set(chunk, tail.length);
      this.buf = next;
      this.len = tail.length + chunk.length;
      return;
    }
    if (this.len + chunk.length > this.buf.length) {
      const next = new Uint8Array(Math.max(this.len + chunk.length, this.buf.length * 2));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
  }

  /** One unit of progress; true when the stream is complete. */
  private stepOnce(): boolean {
    const r = this.r;
    switch (this.phase) {
      case 'xl': {
        const header = readXlHeader(r);
        this.header = header;
        this.limits = typeof this.limitsFor === 'function' ? this.limitsFor(header) : this.limitsFor;
        this.phase = 'libxl header';
        return false;
      }
      case 'libxl header':
        this.libxl = new LibxlRestore(r, crc32c(r.bytes.subarray(0, r.pos)));
        this.phase = 'libxl';
        return false;
      case 'libxl': {
        const x = this.libxl!;
        const what = x.step();
        this.onRecord?.('libxl', x.recs.last!);
        if (what === 'libxc') this.phase = 'libxc header';
        if (what !== 'end') return false;
        this.result = { header: this.header!, ...x.result() };
        this.phase = 'done';
        return true;
      }
      case 'libxc header':
        this.libxc = new LibxcRestore(r, this.limits!);
        this.phase = 'libxc';
        return false;
      case 'libxc': {
        const x = this.libxc!;
        const ended = x.step();
        this.onRecord?.('libxc', x.recs.last!);
        if (ended) {
          this.libxl!.libxcDone(x.out);
          this.phase = 'libxl';
        }
        return false;
      }
      case 'done':
        return true;
    }
  }
}

/**
 * Read a whole save file. `limits` may depend on the embedded config (its maxmem and
 * vcpus), so it may be a function of the header.
 */
export function readSaveFile(bytes: Uint8Array, limits: LibxcLimits | ((h: XlHeader) => LibxcLimits)): SaveRead {
  return new SaveFileReader(limits).push(bytes, true)!;
}
