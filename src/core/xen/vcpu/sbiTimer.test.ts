/**
 * An hvm vCPU with firmware = "sbi", run in this thread (no hypervisor: the guest makes no
 * request that needs one): it starts in S-mode at the entry with a0 = hartid and a1 = the
 * device tree, and its SBI timer counts in `time` CSR units. The vCPU's clock starts with
 * the domain, its CLINT's mtime at 0 when the vCPU starts; a timer compared with the
 * wrong one fires early by the gap (it once fired 11 ms early on every tick and Linux
 * spent its boot catching up jiffies).
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../cpu/asm';
import { PRV_S } from '../../cpu/trap';
import * as C from './vcpuControl';
import { SBI_EXT_TIME } from './sbi';
import { sbiTestVcpu, TEST_RAM_BASE as RAM } from './testing';
import { hostNowMs, type VcpuRunner } from './vcpuRunner';
import { li } from '../../../testing/support';

const CSR_TIME = 0xc01,
  CSR_SIE = 0x104;

/** time + delta ticks -> sbi_set_timer; enable STIE; WFI. */
function timerProgram(delta: number): number[] {
  return [
    assemble('csrrs', { rd: 10, rs1: 0, csr: CSR_TIME }), // a0 = time
    ...li(5, delta),
    assemble('add', { rd: 10, rs1: 10, rs2: 5 }),
    assemble('addi', { rd: 11, rs1: 0, imm: 0 }), // a1 = 0 (high word)
    ...li(17, SBI_EXT_TIME),
    assemble('addi', { rd: 16, rs1: 0, imm: 0 }),
    assemble('ecall'),
    assemble('addi', { rd: 6, rs1: 0, imm: 0x20 }),
    assemble('csrrs', { rd: 0, rs1: 6, csr: CSR_SIE }),
    assemble('wfi'),
    assemble('jal', { rd: 0, imm: 0 }),
  ];
}

function runner(program: number[], domainAgeMs: number): { r: VcpuRunner; cb: Int32Array } {
  return sbiTestVcpu(program, { domainAgeMs });
}

describe('hvm vCPU with firmware = "sbi"', () => {
  it('starts in S-mode at the entry with a0 = hartid, a1 = the device tree', () => {
    const { r } = runner([assemble('wfi')], 0);
    expect(r.hart.priv).toBe(PRV_S);
    expect(r.hart.pc >>> 0).toBe(RAM);
    expect(r.hart.x[10]).toBe(0);
    expect(r.hart.x[11]! >>> 0).toBe(RAM + 0x8_0000);
  });

  it('sleeps until the SBI timer: stime_value is in time CSR units, whatever the domain clock says', () => {
    // The domain started a second before this vCPU: its clock reads 10^7 ticks, mtime 0.
    const { r, cb } = runner(timerProgram(2_000_000), 1000); // 200 ms ahead
    const before = hostNowMs();
    r.runSlice(10_000);
    expect(cb[C.C_REASON]).toBe(C.SliceEnd.WFI);
    const waitMs = C.wakeAtView(cb)[0]! - before;
    expect(waitMs).toBeGreaterThan(150);
    expect(waitMs).toBeLessThan(250);
  });

  it('keeps the SBI timer exact over 64 bits: mtime moved to 0x7fffffff_00000000, a timer 200 ms ahead wakes in 200 ms', () => {
    const program = [
      ...li(5, 0x0200_bff8),
      ...li(6, 0x7fff_ffff),
      assemble('sw', { rs1: 5, rs2: 6, imm: 4 }),
      assemble('sw', { rs1: 5, rs2: 0 }),
      ...timerProgram(2_000_000).slice(0, 4),
      assemble('csrrs', { rd: 11, rs1: 0, csr: CSR_TIME + 0x80 }), // a1 = timeh
      ...timerProgram(2_000_000).slice(5),
    ];
    const { r, cb } = runner(program, 0);
    const before = hostNowMs();
    r.runSlice(10_000);
    expect(cb[C.C_REASON]).toBe(C.SliceEnd.WFI);
    const waitMs = C.wakeAtView(cb)[0]! - before;
    expect(waitMs).toBeGreaterThan(150);
    expect(waitMs).toBeLessThan(250);
  });

  it('an SBI timer already due wakes the vCPU at once', () => {
    const { r, cb } = runner(timerProgram(1), 1000);
    r.runSlice(10_000);
    expect(C.wakeAtView(cb)[0]! - hostNowMs()).toBeLessThan(5);
  });
});
