/**
 * PAGE_DATA (libxc record 0x01), Xen's layout: {u32 count, u32 reserved}, `count` u64 pfn
 * entries (bits 63-60 the XEN_DOMCTL_PFINFO_* type, 59-52 reserved, 51-0 the pfn), then
 * 4096 bytes for each entry whose type carries data, in entry order. At most 1024 entries
 * per record (Xen's MAX_BATCH_SIZE: 4 MiB of pages).
 *
 * A zero page is sent as XALLOC ("allocate only"): it costs its 8-byte pfn entry and no
 * data, and Xen's own restore code would treat it the same way (populate the pfn, write
 * nothing: a populated frame reads as zeros). XTAB marks a pfn that is no longer part of
 * the domain (ballooned out during a live migration). The x86 page-table types (L1TAB to
 * L4TAB and their _PIN forms) mean nothing for an RV32 domain and are refused, as are
 * BROKEN (hyperlab has no machine-check model) and the reserved types 5-8.
 */
import { ByteReader, type ByteWriter } from './bytes';

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
export const MAX_BATCH_SIZE = 1024;

export const PFINFO = {
  NOTAB: 0x0,
  L1TAB: 0x1,
  L2TAB: 0x2,
  L3TAB: 0x3,
  L4TAB: 0x4,
  L1TAB_PIN: 0x9,
  L2TAB_PIN: 0xa,
  L3TAB_PIN: 0xb,
  L4TAB_PIN: 0xc,
  BROKEN: 0xd,
  XALLOC: 0xe,
  XTAB: 0xf,
} as const;

/** One page of a batch: its contents, a zero page, or a pfn that left the domain. */
export interface PageEntry {
  pfn: number;
  data: Uint8Array | 'zero' | 'invalid';
}

export function isZeroPage(p: Uint8Array): boolean {
  if (p.byteOffset % 4 === 0) {
    const w = new Int32Array(p.buffer, p.byteOffset, p.length >> 2);
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
    return true;
  }
  for (let i = 0; i < p.length; i++) if (p[i] !== 0) return false;
  return true;
}

function typeOf(e: PageEntry): number {
  if (e.data === 'zero') return PFINFO.XALLOC;
  if (e.data === 'invalid') return PFINFO.XTAB;
  return isZeroPage(e.data) ? PFINFO.XALLOC : PFINFO.NOTAB;
}

/** Write one PAGE_DATA body (1 to 1024 entries). */
export function writePageData(w: ByteWriter, batch: readonly PageEntry[]): void {
  if (batch.length === 0 || batch.length > MAX_BATCH_SIZE) throw new Error(`a PAGE_DATA batch holds 1 to ${MAX_BATCH_SIZE} pages, not ${batch.length}`);
  const types = batch.map(typeOf);
  w.u32(batch.length).u32(0);
  batch.forEach((e, i) => {
    if (!Number.isInteger(e.pfn) || e.pfn < 0 || e.pfn >= 2 ** 32) throw new Error(`pfn ${e.pfn} out of range`);
    w.u32(e.pfn).u32(types[i]! << 28);
  });
  batch.forEach((e, i) => {
    if (types[i] !== PFINFO.NOTAB) return;
    const data = e.data as Uint8Array;
    if (data.length !== PAGE_SIZE) throw new Error(`page ${e.pfn} has ${data.length} bytes`);
    w.bytes(data);
  });
}

/** Decode one PAGE_DATA body; refuses pfns at or above `maxPfn`. */
export function readPageData(body: Uint8Array, base: number, maxPfn: number, le = true): PageEntry[] {
  const r = new ByteReader(body, base, le, 'PAGE_DATA');
  const count = r.u32('count');
  r.skip(4);
  if (count === 0 || count > MAX_BATCH_SIZE) r.fail(`count ${count}, where a batch holds 1 to ${MAX_BATCH_SIZE} pages`, base);
  const expectHeader = 8 + 8 * count;
  if (body.length < expectHeader) r.fail(`page count mismatch: ${count} pfns need ${expectHeader} bytes of header, the record has ${body.length}`, base);
  const entries: { pfn: number; type: number }[] = [];
  let withData = 0;
  for (let i = 0; i < count; i++) {
    const at = r.offset;
    const [lo, hi] = r.u64('pfn');
    const type = hi >>> 28;
    if (((hi >>> 20) & 0xff) !== 0) r.fail(`pfn entry ${i}: reserved bits 59-52 set`, at);
    const pfn = (hi & 0xf_ffff) * 0x1_0000_0000 + lo;
    if (pfn >= maxPfn) r.fail(`pfn ${pfn.toString(16)} is beyond the domain's ${maxPfn.toString(16)} frames`, at);
    if (type !== PFINFO.NOTAB && type !== PFINFO.XALLOC && type !== PFINFO.XTAB)
      r.fail(`pfn ${pfn.toString(16)}: page type 0x${type.toString(16)} is not one an RV32 domain has`, at);
    if (type === PFINFO.NOTAB) withData++;
    entries.push({ pfn, type });
  }
  if (body.length !== expectHeader + withData * PAGE_SIZE) {
    r.fail(
      `page count mismatch: ${withData} of ${count} pfns carry data (${withData * PAGE_SIZE} bytes), the record holds ${body.length - expectHeader}`,
      base,
    );
  }
  return entries.map(({ pfn, type }) => ({
    pfn,
    data: type === PFINFO.NOTAB ? r.bytesOf(PAGE_SIZE, 'page') : type === PFINFO.XALLOC ? 'zero' : 'invalid',
  }));
}
