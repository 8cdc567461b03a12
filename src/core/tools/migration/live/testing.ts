/**
 * Test guests for live migration: a bare RV32 program whose harts store to known pages.
 */
import { assemble } from '../../../cpu/asm';

/** Pages (pfn offsets from 16 + 8 * hartid) each hart writes. */
export const PAGES = [0, 2, 5];

/**
 * A flat RV32 program at the start of RAM (pfn 0): hart a0 stores a counter to pfns
 * 16 + 8*a0 + PAGES[i], then spins a while, forever. No stack, no other store.
 */
export function dirtyProgram(): Uint8Array {
  const T0 = 5,
    T1 = 6,
    T2 = 7,
    T4 = 29,
    T5 = 30,
    A0 = 10;
  const code: number[] = [];
  const ins = (n: string, o: Parameters<typeof assemble>[1]): number => code.push(assemble(n, o));
  const T6 = 31,
    A1 = 11,
    A6 = 16,
    A7 = 17;
  // Hart 0 starts hart 1 here (SBI HSM hart_start, EID 0x48534D "HSM", FID 0; a1 = start address); hart 1's call fails harmlessly.
  ins('auipc', { rd: T6, imm: 0 });
  ins('addi', { rd: T1, rs1: A0, imm: 0 });
  ins('bne', { rs1: A0, rs2: 0, imm: 9 * 4 });
  ins('addi', { rd: A0, rs1: 0, imm: 1 });
  ins('addi', { rd: A1, rs1: T6, imm: 0 });
  ins('lui', { rd: A7, imm: 0x485 });
  ins('addi', { rd: A7, rs1: A7, imm: 0x34d });
  ins('addi', { rd: A6, rs1: 0, imm: 0 });
  ins('ecall', {});
  ins('addi', { rd: A0, rs1: T1, imm: 0 });
  ins('addi', { rd: 0, rs1: 0, imm: 0 });
  ins('lui', { rd: T0, imm: 0x80010 }); // the imm of lui is the upper 20 bits
  ins('slli', { rd: T1, rs1: A0, imm: 15 });
  ins('add', { rd: T0, rs1: T0, rs2: T1 });
  ins('addi', { rd: T2, rs1: 0, imm: 0 });
  const loop = code.length;
  ins('addi', { rd: T2, rs1: T2, imm: 1 });
  for (const p of PAGES) {
    ins('lui', { rd: T4, imm: p });
    ins('add', { rd: T4, rs1: T4, rs2: T0 });
    ins('sw', { rs1: T4, rs2: T2, imm: 0 });
  }
  ins('lui', { rd: T5, imm: 0x10 }); // 64 Ki iterations
  const spin = code.length;
  ins('addi', { rd: T5, rs1: T5, imm: -1 });
  ins('bne', { rs1: T5, rs2: 0, imm: (spin - code.length) * 4 });
  ins('jal', { rd: 0, imm: (loop - code.length) * 4 });
  const out = new Uint8Array(code.length * 4);
  code.forEach((w, i) => new DataView(out.buffer).setUint32(i * 4, w >>> 0, true));
  return out;
}
