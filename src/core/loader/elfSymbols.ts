/**
 * Symbols of an ELF32 image, from its .symtab and the string table it links to
 * (System V gABI, "Symbol Table"), for traces and the debugger view. Section headers
 * are optional: a stripped image simply has no symbols. When they are present they
 * are validated like the rest of the file.
 */
import { ImageError } from './imageError';

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  kind: 'func' | 'object' | 'notype';
  bind: 'local' | 'global' | 'weak';
}

const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHDR_SIZE = 40;
const SYM_SIZE = 16;
const SHN_UNDEF = 0;
const SHN_ABS = 0xfff1;
const KINDS = ['notype', 'object', 'func'] as const;
const BINDS = ['local', 'global', 'weak'] as const;

/** Read symbols given the header's e_shoff/e_shentsize/e_shnum. Sorted by value. */
export function readElfSymbols(bytes: Uint8Array, view: DataView, shoff: number, shentsize: number, shnum: number): ElfSymbol[] {
  if (shoff === 0 || shnum === 0) return [];
  if (shentsize !== SHDR_SIZE) throw new ImageError(`ELF section header size ${shentsize} is not ${SHDR_SIZE}`);
  if (shoff + shnum * SHDR_SIZE > bytes.length) throw new ImageError('ELF section header table lies outside the file');
  const sh = (i: number, field: number) => view.getUint32(shoff + i * SHDR_SIZE + field, true);

  let symtab = -1;
  for (let i = 0; i < shnum; i++) {
    if (sh(i, 4) === SHT_SYMTAB) {
      symtab = i;
      break;
    }
  }
  if (symtab < 0) return [];
  const symOff = sh(symtab, 16),
    symSize = sh(symtab, 20),
    link = sh(symtab, 24),
    entsize = sh(symtab, 36);
  if (entsize !== SYM_SIZE) throw new ImageError(`ELF symbol table entry size ${entsize} is not ${SYM_SIZE}`);
  if (symOff + symSize > bytes.length) throw new ImageError('ELF symbol table lies outside the file');
  if (link >= shnum) throw new ImageError(`ELF symbol table links to missing section ${link}`);
  if (sh(link, 4) !== SHT_STRTAB) throw new ImageError(`ELF symbol table's string section ${link} is not a string table`);
  const strOff = sh(link, 16),
    strSize = sh(link, 20);
  if (strOff + strSize > bytes.length) throw new ImageError('ELF string table lies outside the file');

  const symbols: ElfSymbol[] = [];
  const count = Math.floor(symSize / SYM_SIZE);
  for (let i = 1; i < count; i++) {
    // entry 0 is the reserved null symbol
    const at = symOff + i * SYM_SIZE;
    const nameOff = view.getUint32(at, true);
    const info = bytes[at + 12]!;
    const shndx = view.getUint16(at + 14, true);
    const kind = KINDS[info & 0xf];
    const bind = BINDS[info >> 4];
    if (nameOff === 0 || !kind || !bind || shndx === SHN_UNDEF || shndx === SHN_ABS) continue;
    if (nameOff >= strSize) throw new ImageError(`ELF symbol ${i} has a name outside the string table`);
    let name = '';
    let end = strOff + nameOff;
    for (; end < strOff + strSize && bytes[end] !== 0; end++) name += String.fromCharCode(bytes[end]!);
    if (end === strOff + strSize) throw new ImageError(`ELF symbol ${i} has an unterminated name`);
    // Skip assembler-local labels and RISC-V mapping symbols ($x, $d): noise in traces.
    if (name.startsWith('.L') || name.startsWith('$')) continue;
    symbols.push({ name, value: view.getUint32(at + 4, true), size: view.getUint32(at + 8, true), kind, bind });
  }
  symbols.sort((a, b) => a.value - b.value || a.name.localeCompare(b.name));
  return symbols;
}
