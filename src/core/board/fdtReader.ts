/**
 * A minimal DTB reader: parses a flattened device tree (versions 16 and 17, Devicetree
 * Specification v0.4 chapter 5) back into the FdtNode tree of fdt.ts, checking every
 * offset and length so that a malformed blob gives an FdtError and nothing else.
 * Used by tests and by the UI to show the tree a guest booted with.
 */
import { FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_HEADER_SIZE, FDT_MAGIC, FDT_NOP, FDT_PROP, type FdtNode, type FdtProp, type FdtReservation } from './fdt';

export class FdtError extends Error {
  override readonly name = 'FdtError';
}

export interface DecodedFdt {
  version: number;
  lastCompatibleVersion: number;
  bootCpuid: number;
  reservations: FdtReservation[];
  root: FdtNode;
}

export function decodeFdt(bytes: Uint8Array): DecodedFdt {
  if (bytes.length < FDT_HEADER_SIZE) throw new FdtError('blob is shorter than a DTB header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const word = (off: number) => view.getUint32(off);
  if (word(0) !== FDT_MAGIC) throw new FdtError('not a device tree blob (bad magic)');
  const total = word(4),
    offStruct = word(8),
    offStrings = word(12),
    offRsv = word(16);
  const version = word(20),
    lastComp = word(24),
    bootCpuid = word(28);
  const sizeStrings = word(32);
  if (total > bytes.length) throw new FdtError(`totalsize ${total} exceeds the ${bytes.length}-byte blob`);
  if (lastComp > 17 || version < 16) throw new FdtError(`unsupported DTB version ${version}`);
  // size_dt_struct appeared in version 17; for 16 the block runs to the strings.
  const sizeStruct = version >= 17 ? word(36) : Math.max(0, offStrings - offStruct);
  const within = (off: number, len: number) => off <= total && len <= total - off;
  if (offStruct % 4 !== 0 || !within(offStruct, sizeStruct)) throw new FdtError('structure block lies outside the blob');
  if (!within(offStrings, sizeStrings)) throw new FdtError('strings block lies outside the blob');
  if (offRsv % 8 !== 0 || !within(offRsv, 16)) throw new FdtError('memory reservation block lies outside the blob');

  const reservations: FdtReservation[] = [];
  for (let off = offRsv; ; off += 16) {
    if (!within(off, 16)) throw new FdtError('memory reservation block is not terminated');
    const address = word(off) * 0x1_0000_0000 + word(off + 4);
    const size = word(off + 8) * 0x1_0000_0000 + word(off + 12);
    if (address === 0 && size === 0) break;
    reservations.push({ address, size });
  }

  const end = offStruct + sizeStruct;
  let pos = offStruct;
  const token = (): number => {
    if (pos + 4 > end) throw new FdtError('structure block ends early');
    const t = word(pos);
    pos += 4;
    return t;
  };
  /** NUL-terminated string at `off`, not crossing `limit`. */
  const cstring = (off: number, limit: number, what: string): string => {
    let s = '';
    for (let i = off; i < limit; i++) {
      const c = bytes[i]!;
      if (c === 0) return s;
      s += String.fromCharCode(c);
    }
    throw new FdtError(`${what} is not NUL-terminated`);
  };

  const stack: FdtNode[] = [];
  let root: FdtNode | undefined;
  for (;;) {
    const t = token();
    if (t === FDT_NOP) continue;
    if (t === FDT_BEGIN_NODE) {
      const name = cstring(pos, end, 'node name');
      pos += (name.length + 1 + 3) & ~3;
      const n: FdtNode = { name, props: [], children: [] };
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(n);
      else if (root) throw new FdtError('more than one root node');
      else root = n;
      stack.push(n);
    } else if (t === FDT_PROP) {
      const n = stack[stack.length - 1];
      if (!n) throw new FdtError('property outside any node');
      const len = token();
      const nameOff = token();
      if (len > end - pos) throw new FdtError('property value runs past the structure block');
      if (nameOff >= sizeStrings) throw new FdtError('property name offset lies outside the strings block');
      const name = cstring(offStrings + nameOff, offStrings + sizeStrings, 'property name');
      n.props.push({ name, value: bytes.slice(pos, pos + len) });
      pos += (len + 3) & ~3;
    } else if (t === FDT_END_NODE) {
      if (!stack.pop()) throw new FdtError('unbalanced FDT_END_NODE');
    } else if (t === FDT_END) {
      if (stack.length !== 0 || !root) throw new FdtError('FDT_END inside a node or before the root');
      break;
    } else {
      throw new FdtError(`unknown structure token 0x${t.toString(16)} at offset ${pos - 4}`);
    }
  }
  if (!root) throw new FdtError('no root node');
  if (root.name !== '') throw new FdtError(`root node is named "${root.name}"`);
  return { version, lastCompatibleVersion: lastComp, bootCpuid, reservations, root };
}

// ---- queries -------------------------------------------------------------------------

/**
 * The node at `path` ("/soc/serial@10000000"). A component without a unit address
 * also matches a node that has one ("/soc/serial"), if exactly one does.
 */
export function findNode(root: FdtNode, path: string): FdtNode | undefined {
  let n: FdtNode | undefined = root;
  for (const part of path.split('/').filter((p) => p.length > 0)) {
    const kids: FdtNode[] = n.children;
    let next: FdtNode | undefined = kids.find((c) => c.name === part);
    if (!next && !part.includes('@')) {
      const matches = kids.filter((c) => c.name.split('@')[0] === part);
      if (matches.length === 1) next = matches[0];
    }
    if (!next) return undefined;
    n = next;
  }
  return n;
}

export function getProp(n: FdtNode, name: string): FdtProp | undefined {
  return n.props.find((p) => p.name === name);
}

/** All cells of a property, or undefined if absent or not a multiple of 4 bytes. */
export function getU32s(n: FdtNode, name: string): number[] | undefined {
  const p = getProp(n, name);
  if (!p || p.value.length % 4 !== 0) return undefined;
  const view = new DataView(p.value.buffer, p.value.byteOffset, p.value.byteLength);
  return Array.from({ length: p.value.length / 4 }, (_, i) => view.getUint32(4 * i));
}

export function getU32(n: FdtNode, name: string): number | undefined {
  const cells = getU32s(n, name);
  return cells && cells.length === 1 ? cells[0] : undefined;
}

/** A string-list property, or undefined if absent or not NUL-terminated. */
export function getStrings(n: FdtNode, name: string): string[] | undefined {
  const p = getProp(n, name);
  if (!p || p.value.length === 0 || p.value[p.value.length - 1] !== 0) return undefined;
  let text = '';
  for (let i = 0; i < p.value.length - 1; i++) text += String.fromCharCode(p.value[i]!);
  return text.split('\0');
}

export function getString(n: FdtNode, name: string): string | undefined {
  const list = getStrings(n, name);
  return list && list.length === 1 ? list[0] : undefined;
}
