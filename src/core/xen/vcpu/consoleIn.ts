/**
 * Console input for the SBI console (legacy getchar, DBCN read), served in the vCPU worker.
 *
 * Linux's hvc_riscv_sbi polls getchar while hvc0 is open (every 10 ms after a key, backing
 * off to 2 s when idle); made a request each time, every poll would be an exit to the
 * hypervisor thread, nearly all of them for nothing. Instead the hypervisor moves typed
 * bytes into this ring, and the vCPU takes them, or answers "none", without leaving its
 * thread. The ring is a SharedArrayBuffer the guest cannot reach: header words, then
 * SBI_CONSOLE_IN_BYTES of data.
 *
 *   HEAD     bytes ever put (the hypervisor thread alone writes it: one producer)
 *   TAIL     bytes ever taken (the domain's vCPU workers, by compare-and-swap: several consumers)
 *   READER   1 once the guest has read the SBI console through the hypervisor (its first
 *            poll is a request): from then on typed bytes go here rather than to the UART
 *   BACKLOG  1 while the hypervisor holds bytes that did not fit: a vCPU that finds the ring
 *            empty then asks (a request), and the hypervisor refills it
 *
 * Counters wrap modulo 2^32; HEAD - TAIL is the number of bytes in the ring. A worker is
 * not trusted (vcpuControl.ts): the producer bounds what it computes from TAIL.
 */
export const SBI_CONSOLE_IN_BYTES = 1024;
const HEAD = 0,
  TAIL = 1,
  READER = 2,
  BACKLOG = 3,
  HEADER_WORDS = 4;
const MASK = SBI_CONSOLE_IN_BYTES - 1;
/** Other vCPUs may win the compare-and-swap; each loss is a byte they took, so this bounds a poll. */
const TAKE_TRIES = 64;

export class ConsoleInRing {
  private readonly hdr: Int32Array;
  private readonly data: Uint8Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.hdr = new Int32Array(buffer, 0, HEADER_WORDS);
    this.data = new Uint8Array(buffer, HEADER_WORDS * 4, SBI_CONSOLE_IN_BYTES);
  }

  static create(): ConsoleInRing {
    return new ConsoleInRing(new SharedArrayBuffer(HEADER_WORDS * 4 + SBI_CONSOLE_IN_BYTES));
  }

  /** Whether the guest reads the SBI console (set by the hypervisor). */
  get reader(): boolean {
    return Atomics.load(this.hdr, READER) !== 0;
  }

  setReader(): void {
    Atomics.store(this.hdr, READER, 1);
  }

  /** Whether the hypervisor holds bytes that did not fit. */
  get backlog(): boolean {
    return Atomics.load(this.hdr, BACKLOG) !== 0;
  }

  /** Bytes in the ring now. */
  get length(): number {
    const n = (Atomics.load(this.hdr, HEAD) - Atomics.load(this.hdr, TAIL)) | 0;
    return n < 0 ? 0 : n > SBI_CONSOLE_IN_BYTES ? SBI_CONSOLE_IN_BYTES : n;
  }

  /**
   * Producer (the hypervisor thread): move bytes from the front of `queue` into the ring,
   * as many as fit, and say whether some are left. Returns how many moved.
   */
  fill(queue: number[]): number {
    const head = Atomics.load(this.hdr, HEAD);
    const n = Math.min(queue.length, SBI_CONSOLE_IN_BYTES - this.length);
    for (let i = 0; i < n; i++) this.data[(head + i) & MASK] = queue[i]!;
    queue.splice(0, n);
    Atomics.store(this.hdr, HEAD, (head + n) | 0); // publishes the bytes written above
    Atomics.store(this.hdr, BACKLOG, queue.length > 0 ? 1 : 0);
    return n;
  }

  /** Consumer (a vCPU, or the hypervisor serving a request): the next byte, or -1. */
  take(): number {
    for (let tries = 0; tries < TAKE_TRIES; tries++) {
      const tail = Atomics.load(this.hdr, TAIL);
      if (tail === Atomics.load(this.hdr, HEAD)) return -1;
      const b = this.data[tail & MASK]!;
      if (Atomics.compareExchange(this.hdr, TAIL, tail, (tail + 1) | 0) === tail) return b;
    }
    return -1;
  }
}
