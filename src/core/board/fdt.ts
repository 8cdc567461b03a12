/**
 * A flattened device tree (DTB) writer, following the Devicetree Specification v0.4,
 * chapter 5 ("Flattened Devicetree (DTB) Format"): version 17 (last compatible 16),
 * a 40-byte big-endian header, the memory reservation block (empty unless asked for,
 * 8-byte aligned, ended by a zero entry), the structure block (FDT_BEGIN_NODE,
 * FDT_PROP, FDT_END_NODE, FDT_END tokens, everything padded to 4 bytes) and the
 * strings block, where each property name is stored once.
 *
 * Trees are plain data built with `node(name, props, children)` and the `prop.*`
 * helpers; phandles are numbers handed out by a `PhandleAllocator` and written as an
 * ordinary "phandle" property. The reader is in fdtReader.ts.
 */

export const FDT_MAGIC = 0xd00d_feed;
export const FDT_BEGIN_NODE = 0x1;
export const FDT_END_NODE = 0x2;
export const FDT_PROP = 0x3;
export const FDT_NOP = 0x4;
export const FDT_END = 0x9;
export const FDT_VERSION = 17;
export const FDT_LAST_COMP_VERSION = 16;
export const FDT_HEADER_SIZE = 40;

export interface FdtProp {
  readonly name: string;
  /** Raw big-endian value bytes. */
  readonly value: Uint8Array;
}

export interface FdtNode {
  /** Node name with unit address ("serial@10000000"); "" for the root. */
  readonly name: string;
  readonly props: FdtProp[];
  readonly children: FdtNode[];
}

export interface FdtReservation {
  address: number;
  size: number;
}

export function node(name: string, props: FdtProp[] = [], children: FdtNode[] = []): FdtNode {
  return { name, props, children };
}

/** Hands out phandles 1, 2, 3... (0 and 0xffffffff are invalid phandles). */
export class PhandleAllocator {
  private last = 0;
  next(): number {
    return ++this.last;
  }
}

function checkU32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < -0x8000_0000 || v > 0xffff_ffff) {
    throw new RangeError(`${what}: ${v} is not a 32-bit cell value`);
  }
  return v >>> 0;
}

function checkU64(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what}: ${v} is not a u64 value`);
  return v;
}

function cellsToBytes(cells: readonly number[], what: string): Uint8Array {
  const out = new Uint8Array(4 * cells.length);
  const view = new DataView(out.buffer);
  cells.forEach((c, i) => view.setUint32(4 * i, checkU32(c, what)));
  return out;
}

function u64Cells(v: number, what: string): number[] {
  checkU64(v, what);
  return [Math.floor(v / 0x1_0000_0000), v % 0x1_0000_0000];
}

/** Bytes of a string: ASCII only (the spec's "printable characters"), no NUL. */
function asciiBytes(s: string, what: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0x7f) throw new RangeError(`${what}: character ${c} not allowed in a DTB string`);
    out.push(c);
  }
  return out;
}

function stringList(list: readonly string[], what: string): Uint8Array {
  const bytes: number[] = [];
  for (const s of list) bytes.push(...asciiBytes(s, what), 0);
  return Uint8Array.from(bytes);
}

/** Property constructors. Cell values are big-endian u32s; u64 values take two cells. */
export const prop = {
  /** A property with no value (e.g. "interrupt-controller", "ranges"). */
  empty: (name: string): FdtProp => ({ name, value: new Uint8Array(0) }),
  u32: (name: string, v: number): FdtProp => ({ name, value: cellsToBytes([v], name) }),
  /** Any list of cells: <a b c ...>. */
  u32s: (name: string, vs: readonly number[]): FdtProp => ({ name, value: cellsToBytes(vs, name) }),
  u64: (name: string, v: number): FdtProp => ({ name, value: cellsToBytes(u64Cells(v, name), name) }),
  /** Pairs of u64s, e.g. reg = <addr-hi addr-lo size-hi size-lo ...> with 2/2 cells. */
  u64Pairs: (name: string, pairs: readonly (readonly [number, number])[]): FdtProp => ({
    name,
    value: cellsToBytes(
      pairs.flatMap(([a, b]) => [...u64Cells(a, name), ...u64Cells(b, name)]),
      name,
    ),
  }),
  string: (name: string, s: string): FdtProp => ({ name, value: stringList([s], name) }),
  strings: (name: string, list: readonly string[]): FdtProp => ({ name, value: stringList(list, name) }),
  bytes: (name: string, data: Uint8Array): FdtProp => ({ name, value: data.slice() }),
};

/** A byte buffer that grows, with big-endian word writes. */
class ByteSink {
  private buf = new Uint8Array(1024);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf[this.length++] = (v >>> 24) & 0xff;
    this.buf[this.length++] = (v >>> 16) & 0xff;
    this.buf[this.length++] = (v >>> 8) & 0xff;
    this.buf[this.length++] = v & 0xff;
  }
  bytes(b: ArrayLike<number>): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  align(n: number): void {
    while (this.length % n !== 0) this.bytes([0]);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function checkName(name: string, what: string, allowEmpty: boolean): void {
  if (name.length === 0 && !allowEmpty) throw new RangeError(`${what} name is empty`);
  if (name.includes('/')) throw new RangeError(`${what} name "${name}" contains '/'`);
}

export interface EncodeFdtOptions {
  /** Header boot_cpuid_phys; default 0. */
  bootCpuid?: number;
  /** Memory reservation entries; default none. */
  reservations?: readonly FdtReservation[];
}

/** Serialise a tree (whose root has name "") into a DTB blob. */
export function encodeFdt(root: FdtNode, options: EncodeFdtOptions = {}): Uint8Array {
  if (root.name !== '') throw new RangeError(`root node must be named "", not "${root.name}"`);
  const strings = new ByteSink();
  const stringOffsets = new Map<string, number>();
  const nameOffset = (name: string): number => {
    let off = stringOffsets.get(name);
    if (off === undefined) {
      off = strings.length;
      strings.bytes([...asciiBytes(name, 'property name'), 0]);
      stringOffsets.set(name, off);
    }
    return off;
  };

  const struct = new ByteSink();
  const emit = (n: FdtNode, path: string): void => {
    checkName(n.name, `node under ${path || '/'}`, n === root);
    struct.u32(FDT_BEGIN_NODE);
    struct.bytes([...asciiBytes(n.name, 'node name'), 0]);
    struct.align(4);
    const seen = new Set<string>();
    for (const p of n.props) {
      checkName(p.name, `property of ${path || '/'}`, false);
      if (seen.has(p.name)) throw new RangeError(`duplicate property ${p.name} in ${path || '/'}`);
      seen.add(p.name);
      struct.u32(FDT_PROP);
      struct.u32(p.value.length);
      struct.u32(nameOffset(p.name));
      struct.bytes(p.value);
      struct.align(4);
    }
    const names = new Set<string>();
    for (const c of n.children) {
      if (names.has(c.name)) throw new RangeError(`duplicate node ${c.name} in ${path || '/'}`);
      names.add(c.name);
      emit(c, `${path}/${c.name}`);
    }
    struct.u32(FDT_END_NODE);
  };
  emit(root, '');
  struct.u32(FDT_END);

  const reservations = options.reservations ?? [];
  const offRsvmap = FDT_HEADER_SIZE; // already 8-byte aligned
  const offStruct = offRsvmap + 16 * (reservations.length + 1);
  const offStrings = offStruct + struct.length;
  const total = offStrings + strings.length;

  const out = new ByteSink();
  for (const v of [
    FDT_MAGIC,
    total,
    offStruct,
    offStrings,
    offRsvmap,
    FDT_VERSION,
    FDT_LAST_COMP_VERSION,
    checkU32(options.bootCpuid ?? 0, 'boot cpuid'),
    strings.length,
    struct.length,
  ]) {
    out.u32(v);
  }
  for (const r of reservations) {
    for (const c of [...u64Cells(r.address, 'reservation'), ...u64Cells(r.size, 'reservation')]) out.u32(c);
  }
  for (let i = 0; i < 4; i++) out.u32(0);
  out.bytes(struct.result());
  out.bytes(strings.result());
  return out.result();
}
