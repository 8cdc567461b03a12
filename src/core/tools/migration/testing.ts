/** Helpers for the stream tests: sample domain images and a walker over a stream's records. */
import { captureHart, type HartState } from '../../cpu/hartState';
import { li, makeHart, type Insn } from '../../cpu/testing';
import { HVM_SAVE } from './deviceState';
import type { LibxcImage, LibxcLimits } from './libxc';
import { PAGE_SIZE } from './pageData';
import { ECS } from './pvState';
import { IHDR_SIZE, DHDR_SIZE, LIBXL_HDR_SIZE } from './records';
import { XL_HEADER_SIZE } from './xlHeader';

export const LIMITS: LibxcLimits = { maxPfn: 0x100, maxVcpus: 4 };
export const CONFIG = 'name = "demo"\ntype = "hvm"\nmemory = 1\nvcpus = 2\n';

const LOOP: Insn[] = [...li(5, 0x0bad_cafe), ['addi', { rd: 1, rs1: 1, imm: 3 }], ['mul', { rd: 2, rs1: 1, rs2: 5 }], ['jal', { imm: -8 }]];

/** The state of a hart that has run a few hundred instructions, as hart `hartid`. */
export function sampleHart(hartid = 0, steps = 301): HartState {
  const h = makeHart(LOOP);
  h.mscratch = 0x1234_5678 + hartid;
  h.run(steps);
  const s = captureHart(h);
  return { ...s, hartid, csr: { ...s.csr, mhartid: hartid } };
}

export function page(fill: (i: number) => number): Uint8Array {
  return Uint8Array.from({ length: PAGE_SIZE }, (_, i) => fill(i) & 0xff);
}

export function sampleImage(kind: 'hvm' | 'pv' = 'hvm'): LibxcImage {
  const pages = new Map<number, Uint8Array | 'zero'>([
    [0, page((i) => i * 7 + 1)],
    [1, 'zero'],
    [2, page((i) => (i >> 3) ^ 0x5a)],
    [0xff, page(() => 0xee)],
  ]);
  const img: LibxcImage = { kind, xenMajor: 4, xenMinor: 19, pages, vcpus: [sampleHart(0), sampleHart(1, 517)] };
  if (kind === 'hvm') {
    img.hvmContext = [
      { typecode: HVM_SAVE.HEADER, instance: 0, data: Uint8Array.of(0x42, 0x4c, 0x59, 0x48, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0) },
      { typecode: HVM_SAVE.CLINT, instance: 0, data: Uint8Array.of(1, 2, 3) },
      { typecode: HVM_SAVE.PLIC, instance: 0, data: new Uint8Array(0) },
    ];
  } else {
    img.sharedInfo = page((i) => (i < 64 ? i : 0));
    img.evtchn = [
      { port: 1, state: ECS.INTERDOMAIN, vcpu: 0, a: 0, b: 7 },
      { port: 2, state: ECS.VIRQ, vcpu: 1, a: 0, b: 0 },
      { port: 5, state: ECS.UNBOUND, vcpu: 0, a: 0, b: 0 },
    ];
    img.grants = { frames: [0xf0, 0xf1], maptrack: [{ handle: 0, granter: 0, ref: 8, gfn: 0x9000, readonly: true }] };
    img.xenstore = [
      { path: 'name', value: new TextEncoder().encode('demo'), perms: ['n0', 'r1'] },
      { path: 'device/vbd/768/state', value: new TextEncoder().encode('4'), perms: ['n1', 'r0'] },
    ];
  }
  return img;
}

export interface RecordSpan {
  offset: number;
  type: number;
  length: number;
  /** Bytes the record takes with its padding. */
  size: number;
}

/** The records from `start` (a stream's first record) up to and including END. */
export function records(bytes: Uint8Array, start: number): RecordSpan[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: RecordSpan[] = [];
  for (let at = start; ;) {
    const type = dv.getUint32(at, true),
      length = dv.getUint32(at + 4, true);
    const size = 8 + Math.ceil(length / 8) * 8;
    out.push({ offset: at, type, length, size });
    if (type === 0) return out;
    at += size;
  }
}

/** Where the libxc stream starts in a save file written by writeSaveFile. */
export function libxcStart(config = CONFIG): number {
  return XL_HEADER_SIZE + 4 + new TextEncoder().encode(config).length + LIBXL_HDR_SIZE + 8 + 16;
}

/** Where the libxc records start (after the image and domain headers). */
export function libxcRecords(config = CONFIG): number {
  return libxcStart(config) + IHDR_SIZE + DHDR_SIZE;
}
