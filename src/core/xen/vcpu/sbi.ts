/**
 * The SBI firmware that S-mode guests (pv domains, and hvm domains with firmware = "sbi")
 * call with ECALL (RISC-V SBI specification v2.0): BASE, TIME, IPI, RFENCE, HSM, SRST, DBCN
 * and the legacy console, plus, for pv guests only, Xen's hypercalls in the firmware
 * extension space (docs/abi.md section 2). Runs in the vCPU worker; what needs the
 * hypervisor becomes a request through the control block.
 */
import type { Hart } from '../../cpu/hart';
import { VcpuRequest } from './vcpuControl';
import { SBI_EXT_XEN } from '../public/xen';

export const SBI_EXT_BASE = 0x10,
  SBI_EXT_TIME = 0x5449_4d45,
  SBI_EXT_IPI = 0x73_5049,
  SBI_EXT_RFENCE = 0x5246_4e43,
  SBI_EXT_HSM = 0x48_534d,
  SBI_EXT_SRST = 0x5352_5354,
  SBI_EXT_DBCN = 0x4442_434e;
export const SBI_LEGACY_PUTCHAR = 1,
  SBI_LEGACY_GETCHAR = 2;
export const SBI_SUCCESS = 0,
  SBI_ERR_FAILED = -1,
  SBI_ERR_NOT_SUPPORTED = -2,
  SBI_ERR_INVALID_PARAM = -3;
/** sbi_get_impl_id: 7 is the Xen Project in the SBI specification's table. */
export const SBI_IMPL_XEN = 7;

const SUPPORTED = [
  SBI_EXT_BASE,
  SBI_EXT_TIME,
  SBI_EXT_IPI,
  SBI_EXT_RFENCE,
  SBI_EXT_HSM,
  SBI_EXT_SRST,
  SBI_EXT_DBCN,
  SBI_LEGACY_PUTCHAR,
  SBI_LEGACY_GETCHAR,
  SBI_EXT_XEN,
];

/** What the firmware needs from its vCPU. */
export interface SbiPlatform {
  readonly hart: Hart;
  /** Whether Xen's hypercall extension is there (pv domains); otherwise it is an unknown extension. */
  readonly xen: boolean;
  /** One console byte (legacy putchar, DBCN write_byte): the platform may buffer it. */
  consolePutchar(byte: number): void;
  request(kind: VcpuRequest, ...args: number[]): number;
  /**
   * Console input served in the vCPU (consoleIn.ts): a byte, -1 for none, or undefined when
   * only the hypervisor can answer (a request). `peek`: only say whether a read would
   * return nothing without asking (-1) or not (undefined), taking no byte.
   */
  consoleGetchar(peek?: boolean): number | undefined;
  /** The SBI timer, the 64-bit `time` value (lo, hi) from which STIP is pending (all ones: never). */
  setSbiTimer(lo: number, hi: number): void;
  /** A Xen hypercall; returns a0. */
  xenHypercall(nr: number, args: number[]): number;
  /** All vCPUs of the domain flush their TLBs (remote SFENCE.VMA). */
  flushAllTlbs(): void;
}

/** Handle the ECALL the guest just made; a0/a1 get SBI's error/value pair. */
export function sbiCall(p: SbiPlatform): void {
  const x = p.hart.x;
  const eid = x[17]! >>> 0,
    fid = x[16]!;
  const [a0, a1, a2] = [x[10]!, x[11]!, x[12]!];
  let err = SBI_SUCCESS,
    value = 0;
  switch (eid === SBI_EXT_XEN && !p.xen ? -1 : eid) {
    case SBI_EXT_XEN:
      x[10] = p.xenHypercall(fid, [a0, a1, a2, x[13]!, x[14]!]);
      return; // Xen's convention: the result in a0 only
    case SBI_EXT_BASE:
      switch (fid) {
        case 0:
          value = 0x0200_0000;
          break; // spec v2.0
        case 1:
          value = SBI_IMPL_XEN;
          break;
        case 2:
          value = 1;
          break;
        case 3:
          value = SUPPORTED.includes(a0 >>> 0) && (p.xen || a0 >>> 0 !== SBI_EXT_XEN) ? 1 : 0;
          break;
        case 4:
        case 5:
        case 6:
          value = 0;
          break; // mvendorid, marchid, mimpid
        default:
          err = SBI_ERR_NOT_SUPPORTED;
      }
      break;
    case SBI_EXT_TIME:
      if (fid === 0) p.setSbiTimer(a0 >>> 0, a1 >>> 0);
      else err = SBI_ERR_NOT_SUPPORTED;
      break;
    case SBI_EXT_IPI:
      if (fid === 0) err = p.request(VcpuRequest.SBI_IPI, a0, a1);
      else err = SBI_ERR_NOT_SUPPORTED;
      break;
    case SBI_EXT_RFENCE:
      if (fid <= 2)
        p.flushAllTlbs(); // fence.i needs nothing: no decoded-instruction cache
      else err = SBI_ERR_NOT_SUPPORTED;
      break;
    case SBI_EXT_HSM:
      if (fid === 0) err = p.request(VcpuRequest.SBI_HART_START, a0, a1, a2);
      else if (fid === 2) {
        const s = p.request(VcpuRequest.SBI_HART_STATUS, a0);
        if (s < 0) err = s;
        else value = s;
      } else err = SBI_ERR_NOT_SUPPORTED; // hart_stop and suspend: use VCPUOP_down / WFI
      break;
    case SBI_EXT_SRST:
      if (fid === 0 && a0 >>> 0 <= 2) err = p.request(VcpuRequest.SBI_RESET, a0, a1);
      else err = SBI_ERR_INVALID_PARAM;
      break;
    case SBI_EXT_DBCN:
      if (fid === 0 || fid === 1) {
        if (a2 !== 0) {
          err = SBI_ERR_INVALID_PARAM;
          break;
        } // RV32: the high address word must be 0 here
        if (fid === 1 && p.consoleGetchar(true) === -1) break; // nothing typed: 0 bytes read, no exit
        const n = p.request(fid === 0 ? VcpuRequest.SBI_CONSOLE_WRITE : VcpuRequest.SBI_CONSOLE_READ, a1, a0);
        if (n < 0) err = SBI_ERR_INVALID_PARAM;
        else value = n;
      } else if (fid === 2) p.consolePutchar(a0 & 0xff);
      else err = SBI_ERR_NOT_SUPPORTED;
      break;
    case SBI_LEGACY_PUTCHAR: // SBI spec chapter 5: returns 0 (or an error) in a0
      p.consolePutchar(a0 & 0xff);
      x[10] = 0;
      return;
    case SBI_LEGACY_GETCHAR:
      x[10] = p.consoleGetchar() ?? p.request(VcpuRequest.SBI_CONSOLE_READ, 0, 1);
      return;
    default:
      err = SBI_ERR_NOT_SUPPORTED;
  }
  x[10] = err;
  x[11] = value;
}
