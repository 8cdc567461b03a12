/**
 * `rate=` (xl-network-configuration: `RATE/s@INTERVAL`): Linux netback's credit scheduler
 * (tx_credit_exceeded), shared by netback and virtio-net. Every interval the vif's credit
 * is refilled to `bytes`; a packet goes if the credit left covers it, else it waits on its
 * ring, unconsumed, for the next refill. A packet larger than a whole interval's credit
 * goes when the credit is full (else it never would), as Linux's does.
 */
export interface TxRate {
  bytes: number;
  usec: number;
}

export class TxCredit {
  private credit = 0;
  private refilledAt = -Infinity;

  constructor(
    readonly rate: TxRate,
    private readonly now: () => number,
  ) {}

  /** May a packet of `size` bytes go now? 0 if so (its size is taken off the credit), else the ms until the next refill. */
  take(size: number): number {
    const t = this.now();
    const interval = this.rate.usec / 1000;
    if (t >= this.refilledAt + interval) {
      this.credit = this.rate.bytes;
      this.refilledAt = t;
    }
    if (size <= this.credit || this.credit === this.rate.bytes) {
      this.credit = Math.max(0, this.credit - size);
      return 0;
    }
    return Math.max(1, this.refilledAt + interval - t);
  }
}
