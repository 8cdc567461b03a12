/**
 * A whole save file (or `xl migrate` stream): the xl header with the domain's config, then
 * the libxl stream, which carries the libxc stream. `readSaveFile` checks every byte
 * (every record's checksum, the stream checksums, every layout and ordering rule) before it
 * returns, so a caller builds nothing from a stream that is not whole.
 */
import { ByteReader, ByteWriter } from './bytes';
import { crc32c } from './crc32c';
import type { DeviceStateEntry } from './deviceState';
import type { LibxcImage, LibxcLimits } from './libxc';
import { readLibxlStream, writeLibxlStream, type LibxlRead } from './libxl';
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

/**
 * Read a save file. `limits` may depend on the embedded config (its maxmem and vcpus), so
 * it may be a function of the header.
 */
export function readSaveFile(bytes: Uint8Array, limits: LibxcLimits | ((h: XlHeader) => LibxcLimits)): SaveRead {
  const r = new ByteReader(bytes, 0, true, 'save file');
  const header = readXlHeader(r);
  const prefix = crc32c(bytes.subarray(0, r.pos));
  const lim = typeof limits === 'function' ? limits(header) : limits;
  const read = readLibxlStream(r, lim, prefix);
  if (r.remaining !== 0) r.fail(`${r.remaining} bytes after the stream's END`);
  return { header, ...read };
}
