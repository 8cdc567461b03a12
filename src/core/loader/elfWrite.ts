/**
 * A minimal ELF32 executable for RISC-V (ELF spec, System V gABI; EM_RISCV = 243): one
 * PT_LOAD segment holding `code` at `vaddr` (= paddr), entry at its start. Tests and tools
 * that assemble guests by hand wrap them with this, since pv kernels must be ELF.
 */
const EHDR = 52,
  PHDR = 32,
  SEGMENT_OFFSET = 4096;

export function elf32Executable(code: Uint8Array, vaddr = 0x8000_0000): Uint8Array {
  const out = new Uint8Array(SEGMENT_OFFSET + code.length);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0]); // magic, ELFCLASS32, ELFDATA2LSB, EV_CURRENT, SYSV
  v.setUint16(16, 2, true); // e_type ET_EXEC
  v.setUint16(18, 243, true); // e_machine EM_RISCV
  v.setUint32(20, 1, true); // e_version
  v.setUint32(24, vaddr, true); // e_entry
  v.setUint32(28, EHDR, true); // e_phoff
  v.setUint32(32, 0, true); // e_shoff
  v.setUint32(36, 0, true); // e_flags: no RVC, soft float
  v.setUint16(40, EHDR, true); // e_ehsize
  v.setUint16(42, PHDR, true); // e_phentsize
  v.setUint16(44, 1, true); // e_phnum
  v.setUint16(46, 40, true); // e_shentsize
  const p = EHDR;
  v.setUint32(p, 1, true); // PT_LOAD
  v.setUint32(p + 4, SEGMENT_OFFSET, true); // p_offset
  v.setUint32(p + 8, vaddr, true); // p_vaddr
  v.setUint32(p + 12, vaddr, true); // p_paddr
  v.setUint32(p + 16, code.length, true); // p_filesz
  v.setUint32(p + 20, code.length, true); // p_memsz
  v.setUint32(p + 24, 7, true); // PF_R | PF_W | PF_X
  v.setUint32(p + 28, 4096, true); // p_align
  out.set(code, SEGMENT_OFFSET);
  return out;
}
