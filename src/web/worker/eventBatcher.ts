/**
 * What the hypervisor worker tells the page, gathered into batches: a domain's console
 * bytes (the UART hands them over one byte at a time) go out at most once per
 * CONSOLE_FLUSH_MS, everything else (domains created and destroyed, statistics, log lines)
 * at the next turn of the event loop. One batch is one message to the page.
 *
 * Order is kept where it matters: a domain's console bytes that arrived before an event
 * about that domain are sent before it (the one case where a domain's bytes may follow
 * its previous batch sooner than CONSOLE_FLUSH_MS).
 */
import { ByteBatch } from './byteQueues';
import type { HvEvent, HvSink } from '../protocol/hvProtocol';

/** One console batch per display frame at most. */
export const CONSOLE_FLUSH_MS = 16;

export interface BatchClock {
  now(): number;
  setTimer(task: () => void, ms: number): () => void;
}

export const defaultClock: BatchClock = {
  now: () => performance.now(),
  setTimer(task, ms) {
    const t = setTimeout(task, ms);
    return () => clearTimeout(t);
  },
};

export class EventBatcher {
  private sink: HvSink | null = null;
  private readonly ordered: HvEvent[] = [];
  private readonly console = new Map<number, ByteBatch>();
  private cancel: (() => void) | null = null;
  private dueAt = Infinity;
  /** When each domain's console was last sent. */
  private readonly lastSent = new Map<number, number>();
  /** Batches sent so far (for tests and the stats line). */
  batches = 0;

  constructor(private readonly clock: BatchClock = defaultClock) {}

  setSink(sink: HvSink | null): void {
    this.sink = sink;
  }

  /** Bytes a domain printed. */
  consoleBytes(domid: number, bytes: Uint8Array): void {
    let b = this.console.get(domid);
    if (!b) {
      b = new ByteBatch();
      this.console.set(domid, b);
    }
    for (const x of bytes) b.push(x);
    this.schedule(this.consoleDelay(domid));
  }

  /** Any other event; `domids` name the domains it is about, whose console goes first. */
  event(ev: HvEvent, ...domids: number[]): void {
    for (const domid of domids) this.takeConsole(domid);
    this.ordered.push(ev);
    this.schedule(0);
  }

  /** Send what is due (`all`: everything pending) now. */
  flush(all = false): void {
    this.cancel?.();
    this.cancel = null;
    this.dueAt = Infinity;
    for (const domid of [...this.console.keys()]) {
      const delay = this.consoleDelay(domid);
      if (all || delay <= 0) this.takeConsole(domid);
      else this.schedule(delay);
    }
    if (this.ordered.length === 0) return;
    const events = this.ordered.splice(0);
    if (!this.sink) return;
    this.batches++;
    this.sink(events);
  }

  /** Forget a domain that is gone (after its last event). */
  forget(domid: number): void {
    this.lastSent.delete(domid);
  }

  private consoleDelay(domid: number): number {
    return (this.lastSent.get(domid) ?? -Infinity) + CONSOLE_FLUSH_MS - this.clock.now();
  }

  private takeConsole(domid: number): void {
    const b = this.console.get(domid);
    if (!b) return;
    this.console.delete(domid);
    if (b.length === 0) return;
    this.ordered.push({ type: 'console', domid, bytes: b.take() });
    this.lastSent.set(domid, this.clock.now());
  }

  private schedule(delayMs: number): void {
    delayMs = Math.max(0, delayMs);
    const due = this.clock.now() + delayMs;
    if (due >= this.dueAt) return;
    this.cancel?.();
    this.dueAt = due;
    this.cancel = this.clock.setTimer(() => this.flush(), delayMs);
  }
}
