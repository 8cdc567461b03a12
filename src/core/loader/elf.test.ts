import { describe, expect, it } from 'vitest';
import { loadElf, parseElf, type ElfLoadOptions, type LoadedImage } from './elf';
import { ImageError } from './imageError';

/**
 * A small valid ELF32 RISC-V executable, built by hand:
 *   0x000 ELF header, 0x034 two program headers (text R+X, data R+W with .bss),
 *   0x100 text (16 bytes), 0x110 data (8 bytes), 0x118 .strtab, 0x140 .symtab (4 symbols),
 *   0x180 section headers [null, .text, .symtab, .strtab].
 */
function buildElf(patch?: (v: DataView) => void): Uint8Array {
  const bytes = new Uint8Array(0x180 + 4 * 40);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 243, true); // EM_RISCV
  v.setUint32(20, 1, true);
  v.setUint32(24, 0x8000_0004, true); // e_entry
  v.setUint32(28, 0x34, true); // e_phoff
  v.setUint32(32, 0x180, true); // e_shoff
  v.setUint32(36, 0, true); // e_flags: soft-float, no RVC
  v.setUint16(40, 52, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, 2, true);
  v.setUint16(46, 40, true);
  v.setUint16(48, 4, true);
  const phdr = (i: number, f: number[]) => f.forEach((x, k) => v.setUint32(0x34 + 32 * i + 4 * k, x, true));
  // p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align
  phdr(0, [1, 0x100, 0x8000_0000, 0x8000_0000, 16, 16, 5, 4]);
  phdr(1, [1, 0x110, 0x8000_1000, 0x8000_1000, 8, 0x20, 6, 4]);
  for (let i = 0; i < 16; i++) bytes[0x100 + i] = 0x10 + i;
  for (let i = 0; i < 8; i++) bytes[0x110 + i] = 0xd0 + i;
  const strtab = '\0_start\0data_obj\0.Lfoo\0';
  for (let i = 0; i < strtab.length; i++) bytes[0x118 + i] = strtab.charCodeAt(i);
  const sym = (i: number, name: number, value: number, size: number, info: number, shndx: number) => {
    const at = 0x140 + 16 * i;
    v.setUint32(at, name, true);
    v.setUint32(at + 4, value, true);
    v.setUint32(at + 8, size, true);
    bytes[at + 12] = info;
    v.setUint16(at + 14, shndx, true);
  };
  sym(1, 1, 0x8000_0004, 12, 0x12, 1); // _start: GLOBAL FUNC
  sym(2, 8, 0x8000_1000, 8, 0x11, 2); // data_obj: GLOBAL OBJECT
  sym(3, 17, 0x8000_0000, 0, 0x00, 1); // .Lfoo: LOCAL NOTYPE (filtered)
  const shdr = (i: number, f: number[]) => f.forEach((x, k) => v.setUint32(0x180 + 40 * i + 4 * k, x, true));
  // sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, sh_addralign, sh_entsize
  shdr(1, [0, 1, 6, 0x8000_0000, 0x100, 16, 0, 0, 4, 0]);
  shdr(2, [0, 2, 0, 0, 0x140, 64, 3, 3, 4, 16]);
  shdr(3, [0, 3, 0, 0, 0x118, strtab.length, 0, 0, 1, 0]);
  patch?.(v);
  return bytes;
}

function load(bytes: Uint8Array, options?: ElfLoadOptions) {
  const mem = new Map<number, number>();
  const image = loadElf(
    bytes,
    {
      write: (p, b) => b.forEach((x, i) => mem.set(p + i, x)),
      zero: (p, n) => {
        for (let i = 0; i < n; i++) mem.set(p + i, 0);
      },
    },
    options,
  );
  return { image, mem };
}

const expectError = (bytes: Uint8Array, message: string | RegExp, options?: ElfLoadOptions) => {
  expect(() => load(bytes, options)).toThrow(ImageError);
  expect(() => load(bytes, options)).toThrow(message);
};

describe('loadElf on a valid image', () => {
  it('copies segments, zero-fills .bss and returns entry and symbols', () => {
    const { image, mem } = load(buildElf());
    expect(image.entry).toBe(0x8000_0004);
    expect(image.segments).toEqual([
      { paddr: 0x8000_0000, memsz: 16 },
      { paddr: 0x8000_1000, memsz: 0x20 },
    ]);
    expect(mem.get(0x8000_0000)).toBe(0x10);
    expect(mem.get(0x8000_000f)).toBe(0x1f);
    expect(mem.get(0x8000_1007)).toBe(0xd7);
    expect(mem.get(0x8000_1008)).toBe(0);
    expect(mem.get(0x8000_101f)).toBe(0);
    expect(mem.has(0x8000_1020)).toBe(false);
    expect(mem.size).toBe(16 + 0x20);
    expect(image.symbols).toEqual([
      { name: '_start', value: 0x8000_0004, size: 12, kind: 'func', bind: 'global' },
      { name: 'data_obj', value: 0x8000_1000, size: 8, kind: 'object', bind: 'global' },
    ]);
  });

  it('moves the entry to the physical address of its executable segment (elf_ops.h)', () => {
    const bytes = buildElf((v) => {
      v.setUint32(24, 0xc000_0008, true);
      v.setUint32(0x34 + 8, 0xc000_0000, true); // text p_vaddr
    });
    expect(parseElf(bytes).entry).toBe(0x8000_0008);
  });

  it('has no symbols when stripped', () => {
    const bytes = buildElf((v) => {
      v.setUint32(32, 0, true);
      v.setUint16(48, 0, true);
    });
    expect(load(bytes).image.symbols).toEqual([]);
  });

  it('accepts RVC images when asked', () => {
    const bytes = buildElf((v) => {
      v.setUint32(36, 1, true);
      v.setUint32(24, 0x8000_0006, true);
    });
    expect(parseElf(bytes, { allowCompressed: true }).entry).toBe(0x8000_0006);
  });
});

describe('loadElf rejects bad images with a message', () => {
  const cases: [string, (v: DataView) => void, string | RegExp, ElfLoadOptions?][] = [
    ['bad magic', (v) => v.setUint8(1, 0x46), 'not an ELF file'],
    ['64-bit', (v) => v.setUint8(4, 2), 'ELF is 64-bit; hyperlab runs RV32 guests'],
    ['bad class', (v) => v.setUint8(4, 3), 'ELF class 3 is invalid'],
    ['big-endian', (v) => v.setUint8(5, 2), /big-endian/],
    ['ident version', (v) => v.setUint8(6, 0), /identification version 0/],
    ['relocatable', (v) => v.setUint16(16, 1, true), /relocatable object/],
    ['PIE', (v) => v.setUint16(16, 3, true), /ET_DYN/],
    ['core', (v) => v.setUint16(16, 4, true), /core dump/],
    ['x86-64', (v) => v.setUint16(18, 62, true), 'ELF is for x86-64 (e_machine 62), not RISC-V'],
    ['e_version', (v) => v.setUint32(20, 2, true), /ELF version 2/],
    ['ehsize', (v) => v.setUint16(40, 64, true), /header size 64/],
    ['RVC', (v) => v.setUint32(36, 1, true), /compressed instructions/],
    ['double-float', (v) => v.setUint32(36, 4, true), /double-float ABI/],
    ['RVE', (v) => v.setUint32(36, 8, true), /RV32E/],
    ['no phdrs', (v) => v.setUint16(44, 0, true), 'ELF has no program headers'],
    ['PN_XNUM', (v) => v.setUint16(44, 0xffff, true), /PN_XNUM/],
    ['phentsize', (v) => v.setUint16(42, 56, true), /program header size 56/],
    ['phdrs outside', (v) => v.setUint32(28, 0xffff_fff0, true), 'ELF program header table lies outside the file'],
    ['segment outside', (v) => v.setUint32(0x34 + 32 + 4, 0x1000, true), 'segment 1 lies outside the file'],
    ['segment offset overflow', (v) => v.setUint32(0x34 + 4, 0xffff_fff8, true), 'segment 0 lies outside the file'],
    ['filesz > memsz', (v) => v.setUint32(0x34 + 20, 8, true), /segment 0 has file size 0x10 larger/],
    [
      'wraps',
      (v) => {
        v.setUint32(0x34 + 32 + 12, 0xffff_fff0, true);
      },
      /segment 1 .* runs past the end/,
    ],
    ['interp', (v) => v.setUint32(0x34 + 32, 3, true), /PT_INTERP/],
    ['dynamic', (v) => v.setUint32(0x34 + 32, 2, true), /PT_DYNAMIC/],
    [
      'no loads',
      (v) => {
        v.setUint32(0x34, 4, true);
        v.setUint32(0x34 + 32, 4, true);
      },
      'ELF has no loadable segments',
    ],
    ['overlap', (v) => v.setUint32(0x34 + 32 + 12, 0x8000_0008, true), 'segments 0 and 1 overlap at 0x80000008'],
    ['entry outside', (v) => v.setUint32(24, 0x9000_0000, true), 'entry point 0x90000000 lies outside every loaded segment'],
    ['entry misaligned', (v) => v.setUint32(24, 0x8000_0002, true), /not 4-byte aligned/],
    ['shentsize', (v) => v.setUint16(46, 64, true), /section header size 64/],
    ['shdrs outside', (v) => v.setUint32(32, 0x1000, true), 'ELF section header table lies outside the file'],
    ['symtab outside', (v) => v.setUint32(0x180 + 80 + 16, 0xffff_fff0, true), 'ELF symbol table lies outside the file'],
    ['symtab entsize', (v) => v.setUint32(0x180 + 80 + 36, 24, true), /entry size 24/],
    ['symtab link', (v) => v.setUint32(0x180 + 80 + 24, 9, true), /missing section 9/],
    ['strtab type', (v) => v.setUint32(0x180 + 80 + 24, 1, true), /not a string table/],
    ['name outside', (v) => v.setUint32(0x140 + 16, 0x400, true), 'ELF symbol 1 has a name outside the string table'],
  ];
  for (const [what, patch, message, options] of cases) {
    it(what, () => expectError(buildElf(patch), message, options));
  }

  it('checks segments against guest RAM when given', () => {
    expectError(buildElf(), /segment 1 \(0x80001000..0x80001020\) lies outside guest RAM/, { ram: { base: 0x8000_0000, size: 0x1000 } });
    expect(() => load(buildElf(), { ram: { base: 0x8000_0000, size: 0x2000 } })).not.toThrow();
  });

  it('names empty and tiny files', () => {
    expectError(new Uint8Array(0), 'image is empty');
    expectError(Uint8Array.from([0x7f, 0x45]), 'not an ELF file');
    expectError(Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2]), 'ELF is 64-bit; hyperlab runs RV32 guests');
    expectError(buildElf().subarray(0, 30), 'ELF header is truncated (30 bytes, need 52)');
  });
});

describe('loadElf on damaged input', () => {
  const good = load(buildElf()).image;
  /** Load through a sink that only checks the calls (a fuzzed memsz can be 4 GiB). */
  const check = (bytes: Uint8Array): LoadedImage | undefined => {
    try {
      const image = loadElf(bytes, {
        write: (p, b) => expect(p + b.length).toBeLessThanOrEqual(2 ** 32),
        zero: (p, n) => expect(p + n).toBeLessThanOrEqual(2 ** 32),
      });
      expect(image.segments.every((s) => s.memsz > 0)).toBe(true);
      return image;
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      expect(e.message).not.toContain('\n');
      return undefined;
    }
  };

  it('gives ImageError or a correct load for every prefix', () => {
    const bytes = buildElf();
    for (let n = 0; n <= bytes.length; n++) {
      const image = check(bytes.slice(0, n));
      if (image) expect(image).toEqual(good);
    }
  });

  it('never throws anything but ImageError on mutated bytes', () => {
    let seed = 12345;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const base = buildElf();
    for (let i = 0; i < 5000; i++) {
      const bytes = base.slice();
      const flips = 1 + Math.floor(rand() * 6);
      for (let k = 0; k < flips; k++) {
        // Bias towards the headers, where the interesting fields are.
        const at = rand() < 0.7 ? Math.floor(rand() * 0x74) : Math.floor(rand() * bytes.length);
        bytes[at] = rand() < 0.5 ? Math.floor(rand() * 256) : [0, 0xff, 0x7f, 0x80][Math.floor(rand() * 4)]!;
      }
      check(bytes);
      check(bytes.subarray(Math.floor(rand() * 8)));
    }
  });
});
