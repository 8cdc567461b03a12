/**
 * RV32_VCPU_CONTEXT (0x48590010, mandatory): one hart's state, the record Xen's stream has
 * no counterpart of for RISC-V (x86 uses X86_PV_VCPU_BASIC or the CPU entry of
 * HVM_CONTEXT). A fixed layout of 384 bytes of little-endian u32 fields; as Xen's rules
 * say, a future change of layout is a new record type, never a longer body.
 *
 *   0   vcpu_id            4  flags (bit 0 WFI, bit 1 LR reservation valid)
 *   8   priv (0 U, 1 S, 3 M)  12 pc
 *   16  x0..x31 (128 bytes)
 *   144 the 33 CSRs of HART_CSRS (cpu/hartState.ts), in that order (132 bytes)
 *   276 pmpcfg0..3 (16 bytes: the 16 entries' cfg bytes)
 *   292 pmpaddr0..15 (64 bytes)
 *   356 mip_hw (mip bits driven by devices)
 *   360 reservation address   364 reservation value
 *   368 instret (u64)          376 executed (u64)
 */
import { HART_CSRS, type HartCsrName, type HartState } from '../../cpu/hartState';
import { ByteReader, type ByteWriter } from './bytes';

export const VCPU_CONTEXT_SIZE = 384;
const FLAG_WFI = 1,
  FLAG_RESERVATION = 2;

export function writeVcpuContext(w: ByteWriter, s: HartState): void {
  w.u32(s.hartid)
    .u32((s.wfi ? FLAG_WFI : 0) | (s.reservation !== null ? FLAG_RESERVATION : 0))
    .u32(s.priv)
    .u32(s.pc);
  for (const v of s.x) w.u32(v);
  for (const [name] of HART_CSRS) w.u32(s.csr[name]);
  for (const b of s.pmpcfg) w.u8(b);
  for (const v of s.pmpaddr) w.u32(v);
  w.u32(s.mipHw)
    .u32(s.reservation?.addr ?? 0)
    .u32(s.reservation?.value ?? 0)
    .u64(s.instret)
    .u64(s.executed);
}

/** Decode a body; `base` is its file offset (for errors). Values are checked by restoreHart. */
export function readVcpuContext(body: Uint8Array, base: number, littleEndian = true): HartState {
  const r = new ByteReader(body, base, littleEndian, 'RV32_VCPU_CONTEXT');
  if (body.length !== VCPU_CONTEXT_SIZE) r.fail(`${body.length} bytes where the layout has ${VCPU_CONTEXT_SIZE}`);
  const hartid = r.u32(),
    flags = r.u32(),
    priv = r.u32(),
    pc = r.u32();
  if ((flags & ~(FLAG_WFI | FLAG_RESERVATION)) !== 0) r.fail(`unknown flags 0x${flags.toString(16)}`, base + 4);
  const x = Array.from({ length: 32 }, () => r.u32());
  const csr = {} as Record<HartCsrName, number>;
  for (const [name] of HART_CSRS) csr[name] = r.u32();
  const pmpcfg = Array.from({ length: 16 }, () => r.u8());
  const pmpaddr = Array.from({ length: 16 }, () => r.u32());
  const mipHw = r.u32(),
    resAddr = r.u32(),
    resValue = r.u32();
  const instret = r.u53('instret'),
    executed = r.u53('executed');
  r.end();
  return {
    hartid,
    pc,
    priv,
    wfi: (flags & FLAG_WFI) !== 0,
    x,
    csr,
    pmpcfg,
    pmpaddr,
    mipHw,
    reservation: (flags & FLAG_RESERVATION) !== 0 ? { addr: resAddr, value: resValue } : null,
    instret,
    executed,
  };
}
