/**
 * Frames waiting for a guest's receive buffers (netback's and virtio-net's), with a fair
 * share per sender: one bridge port may hold at most half of the queue, so a sender that
 * floods one guest (a unicast flood is not storm control's business, and `rate=` is the
 * sender's own setting) still leaves room for everyone else's frames, which then wait behind
 * at most half a queue. Linux's netback has one queue per vif without such a share
 * (XENVIF_RX_QUEUE_BYTES); this is hyperlab's addition, for the isolation tests.
 */

/** Frames held for a guest that has posted no buffer (Linux's netback holds 256 too, XENVIF_RX_QUEUE_BYTES aside). */
export const RX_QUEUE_MAX = 256;

export class RxQueue {
  private readonly frames: Uint8Array[] = [];
  private readonly senders: unknown[] = [];
  private readonly held = new Map<unknown, number>();

  constructor(
    readonly max = RX_QUEUE_MAX,
    readonly perSender = max / 2,
  ) {}

  get length(): number {
    return this.frames.length;
  }

  /** Queue a frame from `sender` (a bridge port, or undefined); false if the queue or the sender's share of it is full. */
  push(frame: Uint8Array, sender: unknown): boolean {
    const n = this.held.get(sender) ?? 0;
    if (this.frames.length >= this.max || n >= this.perSender) return false;
    this.frames.push(frame);
    this.senders.push(sender);
    this.held.set(sender, n + 1);
    return true;
  }

  shift(): Uint8Array | undefined {
    const f = this.frames.shift();
    if (f === undefined) return undefined;
    const s = this.senders.shift();
    const n = (this.held.get(s) ?? 1) - 1;
    if (n > 0) this.held.set(s, n);
    else this.held.delete(s);
    return f;
  }

  clear(): void {
    this.frames.length = 0;
    this.senders.length = 0;
    this.held.clear();
  }
}
