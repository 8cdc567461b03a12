/**
 * Loading ELF32 little-endian RISC-V executables (System V gABI; RISC-V ELF psABI for
 * e_machine 243 and the e_flags bits), the way QEMU's load_elf (include/hw/elf_ops.h)
 * loads a `-kernel` for `virt`:
 *
 *   - PT_LOAD segments go to their physical address p_paddr: p_filesz bytes from the
 *     file, then zeroes up to p_memsz; segments with p_memsz 0 are skipped;
 *   - the entry point is e_entry, translated from virtual to physical when it lies in
 *     an executable segment whose p_vaddr differs from p_paddr.
 *
 * Everything is validated before the first byte is written, so a bad image never
 * half-loads, and every problem is an ImageError with a one-line message.
 */
import { ImageError } from './imageError';
import { readElfSymbols, type ElfSymbol } from './elfSymbols';

export type { ElfSymbol } from './elfSymbols';

export const EM_RISCV = 243;
const ELF_HEADER_SIZE = 52;
const PHDR_SIZE = 32;
const ET_REL = 1,
  ET_EXEC = 2,
  ET_DYN = 3,
  ET_CORE = 4;
const PT_LOAD = 1,
  PT_DYNAMIC = 2,
  PT_INTERP = 3;
const PF_X = 1;
const PN_XNUM = 0xffff;
/** RISC-V psABI e_flags. */
const EF_RISCV_RVC = 0x1,
  EF_RISCV_FLOAT_ABI = 0x6,
  EF_RISCV_RVE = 0x8;
const FLOAT_ABIS = ['soft', 'single', 'double', 'quad'] as const;
const MACHINES: Record<number, string> = {
  3: 'x86',
  8: 'MIPS',
  20: 'PowerPC',
  21: 'PowerPC64',
  40: 'ARM',
  62: 'x86-64',
  183: 'AArch64',
  258: 'LoongArch',
};

/** Where loaded bytes go. `bytes` is a view into the image: copy it, do not keep it. */
export interface ImageSink {
  write(paddr: number, bytes: Uint8Array): void;
  zero(paddr: number, len: number): void;
}

export interface LoadedSegment {
  paddr: number;
  memsz: number;
}

export interface LoadedImage {
  entry: number;
  segments: LoadedSegment[];
  symbols: ElfSymbol[];
}

export interface ElfSegment extends LoadedSegment {
  /** Index of the program header. */
  index: number;
  vaddr: number;
  offset: number;
  filesz: number;
  /** p_flags: PF_X 1, PF_W 2, PF_R 4. */
  flags: number;
}

export interface ElfInfo {
  entry: number;
  /** e_flags (EF_RISCV_*). */
  flags: number;
  /** PT_LOAD segments with p_memsz > 0, in program header order. */
  segments: ElfSegment[];
  symbols: ElfSymbol[];
}

export interface ElfLoadOptions {
  /** Accept images built with the C extension (EF_RISCV_RVC); default false. */
  allowCompressed?: boolean;
  /** If given, every segment must lie inside this physical range (guest RAM). */
  ram?: { base: number; size: number };
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** Validate an ELF image and describe what loading it would do. Writes nothing. */
export function parseElf(bytes: Uint8Array, options: ElfLoadOptions = {}): ElfInfo {
  if (bytes.length === 0) throw new ImageError('image is empty');
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ImageError('not an ELF file');
  }
  checkIdent(bytes);
  if (bytes.length < ELF_HEADER_SIZE) {
    throw new ImageError(`ELF header is truncated (${bytes.length} bytes, need ${ELF_HEADER_SIZE})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (off: number) => view.getUint16(off, true);
  const u32 = (off: number) => view.getUint32(off, true);

  checkType(u16(16));
  const machine = u16(18);
  if (machine !== EM_RISCV) {
    throw new ImageError(`ELF is for ${MACHINES[machine] ?? 'another architecture'} (e_machine ${machine}), not RISC-V`);
  }
  if (u32(20) !== 1) throw new ImageError(`ELF version ${u32(20)} is not 1 (EV_CURRENT)`);
  const entryVaddr = u32(24),
    phoff = u32(28),
    shoff = u32(32),
    flags = u32(36);
  const ehsize = u16(40),
    phentsize = u16(42),
    phnum = u16(44),
    shentsize = u16(46),
    shnum = u16(48);
  if (ehsize !== ELF_HEADER_SIZE) throw new ImageError(`ELF header size ${ehsize} is not ${ELF_HEADER_SIZE}`);
  checkFlags(flags, options);

  if (phnum === 0) throw new ImageError('ELF has no program headers');
  if (phnum === PN_XNUM) throw new ImageError('ELF uses extended program header numbering (PN_XNUM)');
  if (phentsize !== PHDR_SIZE) throw new ImageError(`ELF program header size ${phentsize} is not ${PHDR_SIZE}`);
  if (phoff + phnum * PHDR_SIZE > bytes.length) throw new ImageError('ELF program header table lies outside the file');

  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * PHDR_SIZE;
    const type = u32(at);
    if (type === PT_INTERP) throw new ImageError('ELF needs a dynamic linker (PT_INTERP); link the guest statically');
    if (type === PT_DYNAMIC) throw new ImageError('ELF is dynamically linked (PT_DYNAMIC); link the guest statically');
    if (type !== PT_LOAD) continue;
    const seg: ElfSegment = {
      index: i,
      offset: u32(at + 4),
      vaddr: u32(at + 8),
      paddr: u32(at + 12),
      filesz: u32(at + 16),
      memsz: u32(at + 20),
      flags: u32(at + 24),
    };
    checkSegment(seg, bytes.length, options);
    if (seg.memsz > 0) segments.push(seg);
  }
  if (segments.length === 0) throw new ImageError('ELF has no loadable segments');
  checkOverlaps(segments);

  const entry = translateEntry(entryVaddr, segments);
  if (!segments.some((s) => entry >= s.paddr && entry - s.paddr < s.memsz)) {
    throw new ImageError(`entry point ${hex(entry)} lies outside every loaded segment`);
  }
  const align = options.allowCompressed ? 2 : 4;
  if (entry % align !== 0) throw new ImageError(`entry point ${hex(entry)} is not ${align}-byte aligned`);

  const symbols = readElfSymbols(bytes, view, shoff, shentsize, shnum);
  return { entry, flags, segments, symbols };
}

/** Validate, then copy every PT_LOAD segment into guest memory through `sink`. */
export function loadElf(bytes: Uint8Array, sink: ImageSink, options: ElfLoadOptions = {}): LoadedImage {
  const info = parseElf(bytes, options);
  for (const s of info.segments) {
    if (s.filesz > 0) sink.write(s.paddr, bytes.subarray(s.offset, s.offset + s.filesz));
    if (s.memsz > s.filesz) sink.zero(s.paddr + s.filesz, s.memsz - s.filesz);
  }
  return {
    entry: info.entry,
    segments: info.segments.map((s) => ({ paddr: s.paddr, memsz: s.memsz })),
    symbols: info.symbols,
  };
}

function checkIdent(bytes: Uint8Array): void {
  const cls = bytes[4];
  if (cls === 2) throw new ImageError('ELF is 64-bit; hyperlab runs RV32 guests');
  if (cls !== undefined && cls !== 1) throw new ImageError(`ELF class ${cls} is invalid`);
  const data = bytes[5];
  if (data === 2) throw new ImageError('ELF is big-endian; RISC-V guests are little-endian');
  if (data !== undefined && data !== 1) throw new ImageError(`ELF data encoding ${data} is invalid`);
  const version = bytes[6];
  if (version !== undefined && version !== 1) throw new ImageError(`ELF identification version ${version} is not 1`);
  if (bytes.length < 16) throw new ImageError(`ELF header is truncated (${bytes.length} bytes, need ${ELF_HEADER_SIZE})`);
}

function checkType(type: number): void {
  switch (type) {
    case ET_EXEC:
      return;
    case ET_REL:
      throw new ImageError('ELF is a relocatable object (ET_REL); link it into an executable first');
    case ET_DYN:
      throw new ImageError('ELF is position-independent (ET_DYN); link the guest as a static executable (no -pie)');
    case ET_CORE:
      throw new ImageError('ELF is a core dump, not an executable');
    default:
      throw new ImageError(`ELF type ${type} is not an executable (ET_EXEC)`);
  }
}

function checkFlags(flags: number, options: ElfLoadOptions): void {
  if (flags & EF_RISCV_RVE) throw new ImageError('ELF targets RV32E (16 registers); hyperlab runs RV32I guests');
  const abi = FLOAT_ABIS[(flags & EF_RISCV_FLOAT_ABI) >> 1]!;
  if (abi !== 'soft') {
    throw new ImageError(`ELF uses the ${abi}-float ABI; hyperlab's hart has no F/D (build with -mabi=ilp32)`);
  }
  if (flags & EF_RISCV_RVC && !options.allowCompressed) {
    throw new ImageError("ELF uses compressed instructions (RVC); hyperlab's hart is RV32IMA (build with -march=rv32ima)");
  }
}

function checkSegment(s: ElfSegment, fileLength: number, options: ElfLoadOptions): void {
  if (s.offset + s.filesz > fileLength) throw new ImageError(`segment ${s.index} lies outside the file`);
  if (s.filesz > s.memsz) {
    throw new ImageError(`segment ${s.index} has file size ${hex(s.filesz)} larger than its memory size ${hex(s.memsz)}`);
  }
  if (s.paddr + s.memsz > 2 ** 32) {
    throw new ImageError(`segment ${s.index} (${hex(s.paddr)}+${hex(s.memsz)}) runs past the end of the 32-bit address space`);
  }
  const ram = options.ram;
  if (ram && s.memsz > 0 && (s.paddr < ram.base || s.paddr + s.memsz > ram.base + ram.size)) {
    throw new ImageError(
      `segment ${s.index} (${hex(s.paddr)}..${hex(s.paddr + s.memsz)}) lies outside guest RAM ` + `(${hex(ram.base)}..${hex(ram.base + ram.size)})`,
    );
  }
}

function checkOverlaps(segments: readonly ElfSegment[]): void {
  const sorted = [...segments].sort((a, b) => a.paddr - b.paddr);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!,
      b = sorted[i]!;
    if (a.paddr + a.memsz > b.paddr) {
      throw new ImageError(`segments ${a.index} and ${b.index} overlap at ${hex(b.paddr)}`);
    }
  }
}

/** elf_ops.h: e_entry is virtual; move it into the executable segment's physical range. */
function translateEntry(entry: number, segments: readonly ElfSegment[]): number {
  for (const s of segments) {
    if (s.vaddr !== s.paddr && s.flags & PF_X && entry >= s.vaddr && entry - s.vaddr < s.filesz) {
      return entry - s.vaddr + s.paddr;
    }
  }
  return entry;
}
