/**
 * The two byte queues between a machine's UART and its host: output bytes gathered into
 * batches, and input bytes waiting until the UART's receive FIFO has room.
 */

/** Console output gathered one byte at a time, handed out as one array per batch. */
export class ByteBatch {
  private buf = new Uint8Array(1024);
  private len = 0;

  get length(): number {
    return this.len;
  }

  push(byte: number): void {
    if (this.len === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.len++] = byte;
  }

  /** The bytes gathered so far (a copy the caller owns); the batch starts over empty. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.len);
    this.len = 0;
    return out;
  }
}

/** Input bytes in arrival order; the UART takes them as its FIFO drains. */
export class InputQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // bytes of chunks[0] already delivered
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes.slice());
    this.total += bytes.length;
  }

  /** Offer bytes to `accept` in order until it refuses one (a full FIFO) or none are left. */
  feed(accept: (byte: number) => boolean): number {
    let fed = 0;
    while (this.chunks.length > 0) {
      const chunk = this.chunks[0]!;
      while (this.head < chunk.length) {
        if (!accept(chunk[this.head]!)) {
          this.total -= fed;
          return fed;
        }
        this.head++;
        fed++;
      }
      this.chunks.shift();
      this.head = 0;
    }
    this.total -= fed;
    return fed;
  }
}
