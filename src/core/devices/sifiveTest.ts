/**
 * SiFive test finisher ("sifive,test0"/"sifive,test1") at 0x100000 on `virt`, as QEMU's
 * hw/misc/sifive_test.c: a write to offset 0 whose low 16 bits are
 *
 *   0x5555  FINISHER_PASS   QEMU exits with status 0
 *   0x3333  FINISHER_FAIL   QEMU exits with status (value >> 16)
 *   0x7777  FINISHER_RESET  QEMU resets the machine
 *
 * ends the run; anything else is ignored. Reads return 0. QEMU accepts 16- and 32-bit
 * accesses (.valid 2..4), so a 16-bit `sh` of 0x5555 passes too; byte writes are ignored.
 *
 * Note that QEMU turns FAIL with code 0 into exit status 0, indistinguishable from PASS
 * to a shell; here it is reported as { kind: 'fail', code: 0 }.
 */
import type { AccessWidth, MmioDevice } from '../bus/mmio';
import { VIRT_TEST_SIZE } from '../board/memoryMap';

export const FINISHER_FAIL = 0x3333;
export const FINISHER_PASS = 0x5555;
export const FINISHER_RESET = 0x7777;

export interface FinishEvent {
  kind: 'pass' | 'fail' | 'reset';
  /** The exit code for 'fail' (value >> 16); 0 for 'pass' and 'reset'. */
  code: number;
}

export interface SifiveTestOptions {
  onFinish: (event: FinishEvent) => void;
  name?: string;
  /** Window size; default VIRT_TEST_SIZE (0x1000). */
  size?: number;
}

export class SifiveTest implements MmioDevice {
  readonly name: string;
  readonly size: number;
  private readonly onFinish: (event: FinishEvent) => void;

  constructor(options: SifiveTestOptions) {
    this.name = options.name ?? 'test';
    this.size = options.size ?? VIRT_TEST_SIZE;
    this.onFinish = options.onFinish;
  }

  read(_offset: number, _width: AccessWidth): number {
    return 0;
  }

  write(offset: number, width: AccessWidth, value: number): void {
    if (offset !== 0 || width === 1) return;
    const v = width === 2 ? value & 0xffff : value >>> 0;
    const status = v & 0xffff;
    const code = v >>> 16;
    switch (status) {
      case FINISHER_PASS:
        this.onFinish({ kind: 'pass', code: 0 });
        break;
      case FINISHER_FAIL:
        this.onFinish({ kind: 'fail', code });
        break;
      case FINISHER_RESET:
        this.onFinish({ kind: 'reset', code: 0 });
        break;
      default:
        break;
    }
  }
}
