/** `--trace`: one line per instruction, before it executes: privilege, pc, word, disassembly. */
import type { Hart } from '../core/cpu/hart';
import { disassemble } from '../core/cpu/disasm';
import { translate } from '../core/cpu/mmu';
import { Access } from '../core/cpu/trap';

const PRIV = ['U', 'S', '?', 'M'];

export function traceStep(h: Hart): string {
  const pc = h.pc >>> 0;
  const where = `${PRIV[h.priv]} ${pc.toString(16).padStart(8, '0')}`;
  const pa = translate(h, h.pc, Access.Exec, h.pc, true);
  const off = pa < 0 ? -1 : h.bus.ramOffset(pa);
  if (off < 0 || (off & 3) !== 0) return `${where}  (no instruction here: fetch will fault)\n`;
  const insn = h.bus.ram.i32[off >> 2]!;
  return `${where}  ${(insn >>> 0).toString(16).padStart(8, '0')}  ${disassemble(insn, pc)}\n`;
}
