/**
 * The xl save-file header (Xen's tools/xl/xl.h, struct save_file_header), which starts both
 * a save file and an `xl migrate` stream:
 *
 *   magic[32]          "Xen saved domain, xl format\n \0 \r"
 *   u32 byteorder      0x01020304 in the domain's byte order (little-endian here)
 *   u32 mandatory_flags  bit 0 JSON config, bit 1 stream v2; an unknown flag: refuse
 *   u32 optional_flags   an unknown flag: refuse
 *   u32 optional_data_len
 *   optional data: u32 config length, then the config file (Unix text)
 *
 * hyperlab embeds the domain's xl.cfg text (mandatory_flags = STREAMv2, no JSON flag: Xen's
 * xl reads such a config as a config file, as xl before 4.5 wrote it). The header is not a
 * record, so it carries no checksum of its own: its CRC-32C opens the libxl layer's stream
 * checksum (libxl.ts), which therefore vouches for the config too.
 */
import { ByteReader, hex, type ByteWriter } from './bytes';

export const SAVEFILE_MAGIC = new TextEncoder().encode('Xen saved domain, xl format\n \0 \r');
export const SAVEFILE_BYTEORDER = 0x0102_0304;
export const XL_MANDATORY_FLAG_JSON = 1 << 0;
export const XL_MANDATORY_FLAG_STREAMV2 = 1 << 1;
export const XL_HEADER_SIZE = 48;

export interface XlHeader {
  /** The domain's config file. */
  config: string;
  /** The config is libxl JSON rather than xl.cfg text. */
  json: boolean;
}

export function writeXlHeader(w: ByteWriter, h: XlHeader): void {
  const config = new TextEncoder().encode(h.config);
  w.bytes(SAVEFILE_MAGIC)
    .u32(SAVEFILE_BYTEORDER)
    .u32(XL_MANDATORY_FLAG_STREAMV2 | (h.json ? XL_MANDATORY_FLAG_JSON : 0))
    .u32(0)
    .u32(4 + config.length)
    .u32(config.length)
    .bytes(config);
}

const CONFIG_MAX = 1 << 20;

export function readXlHeader(r: ByteReader): XlHeader {
  const at = r.offset;
  r.ensure(XL_HEADER_SIZE, `truncated: the xl header needs ${XL_HEADER_SIZE} bytes, ${r.remaining} present`, at);
  const magic = r.bytesOf(32, 'magic');
  if (!magic.every((b, i) => b === SAVEFILE_MAGIC[i])) r.fail('not an xl save file (bad magic)', at);
  const order = r.u32('byteorder');
  if (order !== SAVEFILE_BYTEORDER) r.fail(`byte order mark ${hex(order)}: not a little-endian save file`, at + 32);
  const mandatory = r.u32('mandatory_flags'),
    optional = r.u32('optional_flags'),
    optLen = r.u32('optional_data_len');
  const unknown = mandatory & ~(XL_MANDATORY_FLAG_JSON | XL_MANDATORY_FLAG_STREAMV2);
  if (unknown !== 0) r.fail(`unknown mandatory flags ${hex(unknown)}`, at + 36);
  if ((mandatory & XL_MANDATORY_FLAG_STREAMV2) === 0) r.fail('a legacy (v1) stream, which hyperlab does not read', at + 36);
  if (optional !== 0) r.fail(`unknown optional flags ${hex(optional)}`, at + 40);
  r.ensure(optLen, `truncated: ${optLen} bytes of optional data, ${r.remaining} present`, at + 44);
  let config = '';
  if (optLen >= 4) {
    const len = r.u32('config length');
    if (len > optLen - 4 || len > CONFIG_MAX) r.fail(`config length ${len} exceeds the optional data (${optLen - 4} bytes)`, at + 48);
    try {
      config = new TextDecoder('utf-8', { fatal: true }).decode(r.bytesOf(len, 'config'));
    } catch {
      r.fail('the embedded config is not UTF-8 text', at + 52);
    }
    r.skip(optLen - 4 - len, 'optional data'); // a newer xl's optional data: skipped, as Xen's xl does
  } else {
    r.skip(optLen, 'optional data');
  }
  return { config, json: (mandatory & XL_MANDATORY_FLAG_JSON) !== 0 };
}
