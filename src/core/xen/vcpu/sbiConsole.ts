/**
 * The SBI console as a vCPU serves it (legacy putchar/getchar, DBCN write_byte): output
 * gathered and handed to the hypervisor CONSOLE_BATCH bytes per exit, input taken from the
 * ring the hypervisor fills (consoleIn.ts) without an exit. vCPU worker.
 */
import type { ConsoleInRing } from './consoleIn';
import * as C from './vcpuControl';

/** SBI console bytes per exit: what fits in the request's argument words (vcpuControl.ts SBI_CONSOLE_PUTS). */
const CONSOLE_BATCH = 28;

/** A synchronous exit to the hypervisor (VcpuRunner.request). */
export type RequestFn = (kind: C.VcpuRequest, ...args: number[]) => number;

export class SbiConsole {
  private readonly out = new Uint8Array(CONSOLE_BATCH);
  private len = 0;

  constructor(
    private readonly cb: Int32Array,
    private readonly input: ConsoleInRing | undefined,
    private readonly request: RequestFn,
  ) {}

  /** Output not yet handed over (the runner flushes it before any other exit: nothing is reordered). */
  get pending(): boolean {
    return this.len > 0;
  }

  /**
   * One output byte (Linux's hvc_riscv_sbi makes one ECALL per byte). It goes out with the
   * next full batch, the next other exit, or the end of the slice, whichever comes first.
   */
  putchar(byte: number): void {
    this.out[this.len++] = byte;
    if (this.len === CONSOLE_BATCH) this.flush();
  }

  flush(): void {
    const n = this.len;
    if (n === 0) return;
    this.len = 0;
    const w = new Int32Array(7);
    for (let i = 0; i < n; i++) w[i >> 2]! |= this.out[i]! << (8 * (i & 3));
    this.request(C.VcpuRequest.SBI_CONSOLE_PUTS, n, w[0]!, w[1]!, w[2]!, w[3]!, w[4]!, w[5]!, w[6]!);
  }

  /**
   * Input without an exit once the hypervisor has seen the guest read the SBI console: a
   * byte from the ring, or -1 when it is empty and nothing waits behind it. Undefined: the
   * hypervisor must answer (the first poll, or a backlog).
   */
  getchar(peek = false): number | undefined {
    const ring = this.input;
    if (ring === undefined || !ring.reader) return undefined;
    if (peek) return ring.length === 0 && !ring.backlog ? -1 : undefined;
    const b = ring.take();
    if (b < 0 && ring.backlog) return undefined;
    const i = C.C_LOCAL_HC + 3; // LOCAL_HC 'sbi:console-read-local'
    this.cb[i] = (this.cb[i]! + 1) | 0;
    return b;
  }
}
