/**
 * Save and load of a hart's architectural state (DESIGN.md section 8): every integer
 * register, pc, the privilege mode, every CSR the hart has, and the little internal state
 * that changes what the guest sees next (WFI, the LR reservation, the retired count the
 * counters run from). `captureHart` gives a plain record; `restoreHart` puts one into a
 * hart, which must have the same hartid and the same read-only identity (misa, mvendorid,
 * marchid, mimpid, mconfigptr), as Xen refuses a CPU policy the host cannot give.
 *
 * Restore goes through the hart's own CSR write rules (csr.ts), then reads every register
 * back: a value the hart could not hold (a reserved mtvec mode, MPP = 2, a bit outside
 * medeleg's mask...) makes the restore fail with the register's name, so a stream can never
 * put a hart in a state its own code could not reach. The counters are restored through
 * mcountinhibit: inhibit both, write the four halves, then write the saved mcountinhibit,
 * so no instruction's worth of counting is lost or gained.
 *
 * The serialized layout of this record is the RV32_VCPU_CONTEXT record of the migration
 * stream (tools/migration/vcpuContext.ts, docs/migration.md).
 */
import { CSR, csrRead, csrWrite } from './csr';
import type { Hart } from './hart';
import { PRV_M, PRV_S, PRV_U } from './trap';

/** How a CSR is captured and restored. */
type CsrKind =
  | 'field' // a Hart field of the same name, written with csrWrite
  | 'mip' // the software-writable mip bits (Hart.mipSw)
  | 'counter' // mcycle(h) / minstret(h): restored through mcountinhibit
  | 'inhibit' // mcountinhibit: written last, after the counters
  | 'fixed'; // read-only or hardwired: must equal this hart's value

/** Every CSR the hart has that holds state or identity, in record order (docs/migration.md). */
export const HART_CSRS = [
  ['stvec', 'field'],
  ['scounteren', 'field'],
  ['senvcfg', 'field'],
  ['sscratch', 'field'],
  ['sepc', 'field'],
  ['scause', 'field'],
  ['stval', 'field'],
  ['satp', 'field'],
  ['mstatus', 'field'],
  ['misa', 'fixed'],
  ['medeleg', 'field'],
  ['mideleg', 'field'],
  ['mie', 'field'],
  ['mtvec', 'field'],
  ['mcounteren', 'field'],
  ['menvcfg', 'field'],
  ['mstatush', 'fixed'],
  ['menvcfgh', 'field'],
  ['mcountinhibit', 'inhibit'],
  ['mscratch', 'field'],
  ['mepc', 'field'],
  ['mcause', 'field'],
  ['mtval', 'field'],
  ['mip', 'mip'],
  ['mcycle', 'counter'],
  ['mcycleh', 'counter'],
  ['minstret', 'counter'],
  ['minstreth', 'counter'],
  ['mvendorid', 'fixed'],
  ['marchid', 'fixed'],
  ['mimpid', 'fixed'],
  ['mhartid', 'fixed'],
  ['mconfigptr', 'fixed'],
] as const satisfies readonly (readonly [keyof typeof CSR, CsrKind])[];

export type HartCsrName = (typeof HART_CSRS)[number][0];

/** A hart's state as plain data. Every 32-bit value is held unsigned (0 .. 2^32-1). */
export interface HartState {
  hartid: number;
  pc: number;
  /** 0 = U, 1 = S, 3 = M. */
  priv: number;
  wfi: boolean;
  /** x0..x31 (x0 is always 0). */
  x: number[];
  csr: Record<HartCsrName, number>;
  /** The 16 pmpcfg bytes (pmpcfg0..3 as bytes, entry 0 first). */
  pmpcfg: number[];
  pmpaddr: number[];
  /** mip bits driven by devices (MSIP, MTIP, SEIP, MEIP); the devices drive them again on load. */
  mipHw: number;
  /** The LR reservation: physical address and the value LR read, or null. */
  reservation: { addr: number; value: number } | null;
  /** Instructions retired and executed since reset (what the counters and budgets run from). */
  instret: number;
  executed: number;
}

/** mip bits a device can drive: SSIP, MSIP, STIP, MTIP, SEIP, MEIP. */
const MIP_LINES = 0xaaa;
/** The bits of a pmpcfg byte that exist (L, A, X, W, R). */
const PMPCFG_BITS = 0x9f;
const CY_IR = 5;

type Fields = Record<
  Exclude<
    HartCsrName,
    'misa' | 'mstatush' | 'mip' | 'mcycle' | 'mcycleh' | 'minstret' | 'minstreth' | 'mvendorid' | 'marchid' | 'mimpid' | 'mhartid' | 'mconfigptr'
  >,
  number
>;

function readCsr(h: Hart, name: HartCsrName, kind: CsrKind): number {
  switch (kind) {
    case 'field':
    case 'inhibit':
      return (h as unknown as Fields)[name as keyof Fields] >>> 0;
    case 'mip':
      return h.mipSw >>> 0;
    default:
      return (csrRead(h, CSR[name]) ?? 0) >>> 0;
  }
}

/** The state of `h` between two `run` calls. */
export function captureHart(h: Hart): HartState {
  const csr = {} as Record<HartCsrName, number>;
  for (const [name, kind] of HART_CSRS) csr[name] = readCsr(h, name, kind);
  return {
    hartid: h.hartid,
    pc: h.pc >>> 0,
    priv: h.priv,
    wfi: h.wfi,
    x: Array.from(h.x, (v) => v >>> 0),
    csr,
    pmpcfg: Array.from(h.pmpcfg),
    pmpaddr: Array.from(h.pmpaddr, (v) => v >>> 0),
    mipHw: h.mipHw >>> 0,
    reservation: h.resAddr < 0 ? null : { addr: h.resAddr >>> 0, value: h.resValue >>> 0 },
    instret: h.instret + h.blockRetired,
    executed: h.executed,
  };
}

function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16);
}

/**
 * Load `s` into `h` (normally a fresh hart of the same machine). Throws an Error naming the
 * first register whose value this hart cannot hold; `h` is then in an unspecified state.
 */
export function restoreHart(h: Hart, s: HartState): void {
  const fail = (what: string): never => {
    throw new Error(`hart ${h.hartid}: ${what}`);
  };
  if (s.hartid !== h.hartid) fail(`the saved state is hart ${s.hartid}'s`);
  if (s.priv !== PRV_U && s.priv !== PRV_S && s.priv !== PRV_M) fail(`privilege ${s.priv} does not exist`);
  if ((s.pc & 3) !== 0) fail(`pc ${hex(s.pc)} is not 4-byte aligned`);
  if (s.x.length !== 32 || s.x[0] !== 0) fail('x0 must be 0 and there are 32 registers');
  if (s.pmpcfg.length !== 16 || s.pmpaddr.length !== 16) fail('there are 16 PMP entries');
  for (const [i, c] of s.pmpcfg.entries()) if ((c & ~PMPCFG_BITS) !== 0) fail(`pmp${i}cfg ${hex(c)} sets reserved bits`);
  if ((s.mipHw & ~MIP_LINES) !== 0) fail(`device-driven mip bits ${hex(s.mipHw)} include no interrupt`);
  for (const [name, kind] of HART_CSRS) {
    if (kind === 'fixed' && readCsr(h, name, kind) !== s.csr[name] >>> 0) {
      fail(`${name} ${hex(s.csr[name])} differs from this hart's ${hex(readCsr(h, name, kind))}`);
    }
  }

  h.x.set(s.x.map((v) => v | 0));
  h.pc = s.pc | 0;
  h.priv = s.priv;
  h.wfi = s.wfi;
  h.mipHw = s.mipHw;
  h.resAddr = s.reservation === null ? -1 : s.reservation.addr;
  h.resValue = s.reservation === null ? 0 : s.reservation.value | 0;
  // PMP: set directly (a restore is not a guest write, so a locked entry is restored locked).
  h.pmpcfg.set(s.pmpcfg);
  h.pmpaddr.set(s.pmpaddr.map((v) => v | 0));

  for (const [name, kind] of HART_CSRS) {
    if (kind === 'field' || kind === 'mip') csrWrite(h, CSR[name], s.csr[name] | 0);
  }
  h.instret = s.instret;
  h.executed = s.executed;
  h.blockRetired = 0;
  csrWrite(h, CSR.mcountinhibit, CY_IR);
  for (const [name, kind] of HART_CSRS) if (kind === 'counter') csrWrite(h, CSR[name], s.csr[name] | 0);
  csrWrite(h, CSR.mcountinhibit, s.csr.mcountinhibit | 0);

  for (const [name, kind] of HART_CSRS) {
    const got = readCsr(h, name, kind);
    if (got !== s.csr[name] >>> 0) fail(`${name} ${hex(s.csr[name])} is not a value this hart can hold (it keeps ${hex(got)})`);
  }
  h.trapped = false;
  h.flushTlb();
}
