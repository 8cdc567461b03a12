/**
 * A read-only consistency check of a qcow2 image, in the spirit of `qemu-img check`: every
 * cluster's stored refcount must equal the number of references to it (header, L1 table,
 * refcount table and blocks, L2 tables, data clusters) and the COPIED flags must match
 * refcount 1. Leaks (refcount above references) are reported apart from errors.
 */
import { readQcow2Header } from './qcow2';
import type { ByteStore } from './store';

export interface CheckResult {
  /** Clusters whose refcount is below their references, or other corruption. */
  errors: string[];
  /** Clusters with a refcount but fewer references. */
  leaks: number;
  /** Data clusters in use (standard, not zero). */
  dataClusters: number;
}

const TWO32 = 0x1_0000_0000;

export function checkQcow2(store: ByteStore, name = 'image'): CheckResult {
  const h = readQcow2Header(store, name);
  const cs = 2 ** h.clusterBits;
  const errors: string[] = [];
  const refs = new Map<number, number>();
  const ref = (off: number, bytes: number): void => {
    for (let c = Math.floor(off / cs); c < Math.ceil((off + bytes) / cs); c++) refs.set(c, (refs.get(c) ?? 0) + 1);
  };
  ref(0, cs);
  ref(h.l1Offset, h.l1Size * 8);
  ref(h.refTableOffset, h.refTableClusters * cs);
  const rd = (off: number, len: number): DataView => {
    const b = new Uint8Array(len);
    store.read(off, b);
    return new DataView(b.buffer);
  };
  let dataClusters = 0;
  const l1 = rd(h.l1Offset, h.l1Size * 8);
  const copiedChecks: [string, number, boolean][] = [];
  for (let i = 0; i < h.l1Size; i++) {
    const hi = l1.getUint32(i * 8);
    const off = (hi & 0xffffff) * TWO32 + l1.getUint32(i * 8 + 4);
    if (off === 0) continue;
    ref(off, cs);
    copiedChecks.push([`L2 table ${i}`, off, (hi & 0x80000000) !== 0]);
    const l2 = rd(off, cs);
    for (let j = 0; j < cs / 8; j++) {
      const ehi = l2.getUint32(j * 8);
      const elo = l2.getUint32(j * 8 + 4);
      const host = (ehi & 0xffffff) * TWO32 + ((elo & 0xfffffe00) >>> 0);
      if (host === 0) continue;
      ref(host, cs);
      if ((elo & 1) === 0) dataClusters++;
      copiedChecks.push([`cluster ${i}:${j}`, host, (ehi & 0x80000000) !== 0]);
    }
  }
  const rbEntries = (cs * 8) / 2 ** h.refcountOrder;
  const table = rd(h.refTableOffset, h.refTableClusters * cs);
  const stored = new Map<number, number>();
  for (let t = 0; t < (h.refTableClusters * cs) / 8; t++) {
    const off = table.getUint32(t * 8) * TWO32 + table.getUint32(t * 8 + 4);
    if (off === 0) continue;
    ref(off, cs);
    const b = rd(off, cs);
    for (let i = 0; i < rbEntries; i++) {
      const v = refcountAt(b, i, h.refcountOrder);
      if (v !== 0) stored.set(t * rbEntries + i, v);
    }
  }
  let leaks = 0;
  for (const [c, n] of refs) {
    const s = stored.get(c) ?? 0;
    if (s < n) errors.push(`cluster ${c}: refcount ${s} below its ${n} references`);
    else if (s > n) leaks++;
  }
  for (const [c, s] of stored) if (!refs.has(c) && s > 0) leaks++;
  for (const [what, off, copied] of copiedChecks) {
    if (copied !== ((stored.get(off / cs) ?? 0) === 1))
      errors.push(`${what}: COPIED flag ${copied ? 'set' : 'clear'} with refcount ${stored.get(off / cs) ?? 0}`);
  }
  return { errors, leaks, dataClusters };
}

function refcountAt(b: DataView, i: number, order: number): number {
  switch (order) {
    case 3:
      return b.getUint8(i);
    case 4:
      return b.getUint16(i * 2);
    case 5:
      return b.getUint32(i * 4);
    case 6:
      return b.getUint32(i * 8) * TWO32 + b.getUint32(i * 8 + 4);
    default: {
      const bits = 2 ** order;
      const bit = i * bits;
      return (b.getUint8(bit >> 3) >> (bit & 7)) & ((1 << bits) - 1);
    }
  }
}
