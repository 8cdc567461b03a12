/**
 * The one declarative table of RV32IMA + Zicsr + Zifencei + privileged encodings.
 *
 * Every row is `{ op, name, match, mask, format, ext }`: an instruction word `w` is row `r`
 * when `(w & r.mask) === r.match` (the representation riscv-opcodes, Spike and QEMU's
 * decodetree share). The decoder's dispatch table (decode.ts), the disassembler
 * (disasm.ts) and the overlap test are all built from this table.
 *
 * Encodings: The RISC-V Instruction Set Manual, Volume I (unprivileged), chapter 34
 * "RV32/64G Instruction Set Listings", and Volume II (privileged) section 9.1.
 */

/** Operand format: selects the immediate layout and how the disassembler prints operands. */
export type Format =
  | 'R'
  | 'I'
  | 'B'
  | 'U'
  | 'J'
  | 'shift' // I-type with a 5-bit shamt
  | 'load' // rd, imm(rs1)
  | 'store' // rs2, imm(rs1)
  | 'csr' // rd, csr, rs1
  | 'csri' // rd, csr, uimm
  | 'lr' // rd, (rs1)
  | 'amo' // rd, rs2, (rs1)
  | 'fence' // pred, succ
  | 'sfence' // rs1, rs2
  | 'none';

export type Extension = 'I' | 'M' | 'A' | 'Zicsr' | 'Zifencei' | 'priv';

/**
 * Operation numbers. 0 is "no row matches"; RESOLVE marks dispatch keys that the key
 * bits alone cannot decide (see decode.ts). The values are explicit because the
 * interpreter's switch uses them as literal case labels (case 29, ADD), which
 * every host compiles to a jump table; interp.test.ts checks the two agree.
 */
export const enum Op {
  ILLEGAL = 0,
  RESOLVE = 1,
  LUI = 2,
  AUIPC = 3,
  JAL = 4,
  JALR = 5,
  BEQ = 6,
  BNE = 7,
  BLT = 8,
  BGE = 9,
  BLTU = 10,
  BGEU = 11,
  LB = 12,
  LH = 13,
  LW = 14,
  LBU = 15,
  LHU = 16,
  SB = 17,
  SH = 18,
  SW = 19,
  ADDI = 20,
  SLTI = 21,
  SLTIU = 22,
  XORI = 23,
  ORI = 24,
  ANDI = 25,
  SLLI = 26,
  SRLI = 27,
  SRAI = 28,
  ADD = 29,
  SUB = 30,
  SLL = 31,
  SLT = 32,
  SLTU = 33,
  XOR = 34,
  SRL = 35,
  SRA = 36,
  OR = 37,
  AND = 38,
  FENCE = 39,
  ECALL = 40,
  EBREAK = 41,
  FENCE_I = 42,
  CSRRW = 43,
  CSRRS = 44,
  CSRRC = 45,
  CSRRWI = 46,
  CSRRSI = 47,
  CSRRCI = 48,
  MUL = 49,
  MULH = 50,
  MULHSU = 51,
  MULHU = 52,
  DIV = 53,
  DIVU = 54,
  REM = 55,
  REMU = 56,
  LR_W = 57,
  SC_W = 58,
  AMOSWAP_W = 59,
  AMOADD_W = 60,
  AMOXOR_W = 61,
  AMOAND_W = 62,
  AMOOR_W = 63,
  AMOMIN_W = 64,
  AMOMAX_W = 65,
  AMOMINU_W = 66,
  AMOMAXU_W = 67,
  SRET = 68,
  MRET = 69,
  WFI = 70,
  SFENCE_VMA = 71,
  COUNT = 72,
}

export interface Encoding {
  readonly op: Op;
  readonly name: string;
  readonly match: number;
  readonly mask: number;
  readonly format: Format;
  readonly ext: Extension;
}

// Masks for the common field combinations.
const OPC = 0x0000_007f; // opcode
const F3 = 0x0000_707f; // opcode + funct3
const F7 = 0xfe00_707f; // opcode + funct3 + funct7
const F5 = 0xf800_707f; // opcode + funct3 + funct5 (AMOs: aq/rl free)
const ALL = 0xffff_ffff;

function row(op: Op, name: string, match: number, mask: number, format: Format, ext: Extension): Encoding {
  return { op, name, match: match | 0, mask: mask | 0, format, ext };
}

export const ENCODINGS: readonly Encoding[] = [
  // RV32I base (Vol. I ch. 2)
  row(Op.LUI, 'lui', 0x37, OPC, 'U', 'I'),
  row(Op.AUIPC, 'auipc', 0x17, OPC, 'U', 'I'),
  row(Op.JAL, 'jal', 0x6f, OPC, 'J', 'I'),
  row(Op.JALR, 'jalr', 0x67, F3, 'load', 'I'),
  row(Op.BEQ, 'beq', 0x0063, F3, 'B', 'I'),
  row(Op.BNE, 'bne', 0x1063, F3, 'B', 'I'),
  row(Op.BLT, 'blt', 0x4063, F3, 'B', 'I'),
  row(Op.BGE, 'bge', 0x5063, F3, 'B', 'I'),
  row(Op.BLTU, 'bltu', 0x6063, F3, 'B', 'I'),
  row(Op.BGEU, 'bgeu', 0x7063, F3, 'B', 'I'),
  row(Op.LB, 'lb', 0x0003, F3, 'load', 'I'),
  row(Op.LH, 'lh', 0x1003, F3, 'load', 'I'),
  row(Op.LW, 'lw', 0x2003, F3, 'load', 'I'),
  row(Op.LBU, 'lbu', 0x4003, F3, 'load', 'I'),
  row(Op.LHU, 'lhu', 0x5003, F3, 'load', 'I'),
  row(Op.SB, 'sb', 0x0023, F3, 'store', 'I'),
  row(Op.SH, 'sh', 0x1023, F3, 'store', 'I'),
  row(Op.SW, 'sw', 0x2023, F3, 'store', 'I'),
  row(Op.ADDI, 'addi', 0x0013, F3, 'I', 'I'),
  row(Op.SLTI, 'slti', 0x2013, F3, 'I', 'I'),
  row(Op.SLTIU, 'sltiu', 0x3013, F3, 'I', 'I'),
  row(Op.XORI, 'xori', 0x4013, F3, 'I', 'I'),
  row(Op.ORI, 'ori', 0x6013, F3, 'I', 'I'),
  row(Op.ANDI, 'andi', 0x7013, F3, 'I', 'I'),
  row(Op.SLLI, 'slli', 0x1013, F7, 'shift', 'I'),
  row(Op.SRLI, 'srli', 0x5013, F7, 'shift', 'I'),
  row(Op.SRAI, 'srai', 0x4000_5013, F7, 'shift', 'I'),
  row(Op.ADD, 'add', 0x0033, F7, 'R', 'I'),
  row(Op.SUB, 'sub', 0x4000_0033, F7, 'R', 'I'),
  row(Op.SLL, 'sll', 0x1033, F7, 'R', 'I'),
  row(Op.SLT, 'slt', 0x2033, F7, 'R', 'I'),
  row(Op.SLTU, 'sltu', 0x3033, F7, 'R', 'I'),
  row(Op.XOR, 'xor', 0x4033, F7, 'R', 'I'),
  row(Op.SRL, 'srl', 0x5033, F7, 'R', 'I'),
  row(Op.SRA, 'sra', 0x4000_5033, F7, 'R', 'I'),
  row(Op.OR, 'or', 0x6033, F7, 'R', 'I'),
  row(Op.AND, 'and', 0x7033, F7, 'R', 'I'),
  // FENCE ignores its fm/pred/succ/rs1/rd fields, as QEMU's decoder does.
  row(Op.FENCE, 'fence', 0x000f, F3, 'fence', 'I'),
  row(Op.ECALL, 'ecall', 0x0000_0073, ALL, 'none', 'I'),
  row(Op.EBREAK, 'ebreak', 0x0010_0073, ALL, 'none', 'I'),
  // Zifencei (Vol. I ch. 6)
  row(Op.FENCE_I, 'fence.i', 0x100f, F3, 'none', 'Zifencei'),
  // Zicsr (Vol. I ch. 7)
  row(Op.CSRRW, 'csrrw', 0x1073, F3, 'csr', 'Zicsr'),
  row(Op.CSRRS, 'csrrs', 0x2073, F3, 'csr', 'Zicsr'),
  row(Op.CSRRC, 'csrrc', 0x3073, F3, 'csr', 'Zicsr'),
  row(Op.CSRRWI, 'csrrwi', 0x5073, F3, 'csri', 'Zicsr'),
  row(Op.CSRRSI, 'csrrsi', 0x6073, F3, 'csri', 'Zicsr'),
  row(Op.CSRRCI, 'csrrci', 0x7073, F3, 'csri', 'Zicsr'),
  // M (Vol. I ch. 8)
  row(Op.MUL, 'mul', 0x0200_0033, F7, 'R', 'M'),
  row(Op.MULH, 'mulh', 0x0200_1033, F7, 'R', 'M'),
  row(Op.MULHSU, 'mulhsu', 0x0200_2033, F7, 'R', 'M'),
  row(Op.MULHU, 'mulhu', 0x0200_3033, F7, 'R', 'M'),
  row(Op.DIV, 'div', 0x0200_4033, F7, 'R', 'M'),
  row(Op.DIVU, 'divu', 0x0200_5033, F7, 'R', 'M'),
  row(Op.REM, 'rem', 0x0200_6033, F7, 'R', 'M'),
  row(Op.REMU, 'remu', 0x0200_7033, F7, 'R', 'M'),
  // A (Vol. I ch. 9); bits 26:25 are aq/rl and do not select the operation.
  row(Op.LR_W, 'lr.w', 0x1000_202f, 0xf9f0_707f, 'lr', 'A'),
  row(Op.SC_W, 'sc.w', 0x1800_202f, F5, 'amo', 'A'),
  row(Op.AMOSWAP_W, 'amoswap.w', 0x0800_202f, F5, 'amo', 'A'),
  row(Op.AMOADD_W, 'amoadd.w', 0x0000_202f, F5, 'amo', 'A'),
  row(Op.AMOXOR_W, 'amoxor.w', 0x2000_202f, F5, 'amo', 'A'),
  row(Op.AMOAND_W, 'amoand.w', 0x6000_202f, F5, 'amo', 'A'),
  row(Op.AMOOR_W, 'amoor.w', 0x4000_202f, F5, 'amo', 'A'),
  row(Op.AMOMIN_W, 'amomin.w', 0x8000_202f, F5, 'amo', 'A'),
  row(Op.AMOMAX_W, 'amomax.w', 0xa000_202f, F5, 'amo', 'A'),
  row(Op.AMOMINU_W, 'amominu.w', 0xc000_202f, F5, 'amo', 'A'),
  row(Op.AMOMAXU_W, 'amomaxu.w', 0xe000_202f, F5, 'amo', 'A'),
  // Privileged (Vol. II section 9.1)
  row(Op.SRET, 'sret', 0x1020_0073, ALL, 'none', 'priv'),
  row(Op.MRET, 'mret', 0x3020_0073, ALL, 'none', 'priv'),
  row(Op.WFI, 'wfi', 0x1050_0073, ALL, 'none', 'priv'),
  row(Op.SFENCE_VMA, 'sfence.vma', 0x1200_0073, 0xfe00_7fff, 'sfence', 'priv'),
];

/**
 * Hints the hart implements: words inside another row's encoding space that a standard
 * extension gives a meaning of its own, carried out as that row (Vol. I 2.9). PAUSE is
 * FENCE with pred = W, succ = 0 (Zihintpause, Vol. I ch. 10): a FENCE here, so it retires
 * at once, which the extension allows.
 */
export const HINTS: readonly { readonly name: string; readonly word: number; readonly ext: string; readonly as: Op }[] = [
  { name: 'pause', word: 0x0100_000f, ext: 'Zihintpause', as: Op.FENCE },
];

/**
 * The hart's ISA string, as a device tree's riscv,isa gives it: "rv32", the single-letter
 * extensions of the encoding table in the canonical order, then the multi-letter ones
 * (the table's and the hints') by category and name, each after an underscore (Vol. I
 * ch. 28). S and U are modes, not extensions: they have no letter here (QEMU writes none).
 */
export function hartIsaString(): string {
  const exts = new Set<string>([...ENCODINGS.map((e) => e.ext as string), ...HINTS.map((h) => h.ext)]);
  exts.delete('priv');
  const ORDER = 'IEMAFDQLCBKJTPVH';
  const letters = [...exts].filter((e) => e.length === 1).sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
  const category = (z: string) => ORDER.indexOf(z[1]!.toUpperCase());
  const multi = [...exts].filter((e) => e.length > 1).sort((a, b) => category(a) - category(b) || (a < b ? -1 : a > b ? 1 : 0));
  return ['rv32' + letters.join('').toLowerCase(), ...multi.map((e) => e.toLowerCase())].join('_');
}
