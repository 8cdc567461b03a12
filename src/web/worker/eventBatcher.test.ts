import { describe, expect, it } from 'vitest';
import { CONSOLE_FLUSH_MS, EventBatcher, type BatchClock } from './eventBatcher';
import type { HvEvent } from '../protocol/hvProtocol';

/** A clock whose time moves only when the test says so. */
function fakeClock(): BatchClock & { advance(ms: number): void } {
  let now = 0;
  let timers: { at: number; task: () => void }[] = [];
  return {
    now: () => now,
    setTimer(task, ms) {
      const t = { at: now + ms, task };
      timers.push(t);
      return () => (timers = timers.filter((x) => x !== t));
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const next = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        timers = timers.filter((t) => t !== next);
        now = next.at;
        next.task();
      }
      now = end;
    },
  };
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (e: HvEvent): string => (e.type === 'console' ? `${e.domid}:${new TextDecoder().decode(e.bytes)}` : e.type);

describe('EventBatcher', () => {
  it("sends each domain's console at most once per flush interval, many bytes per message", () => {
    const clock = fakeClock();
    const b = new EventBatcher(clock);
    const sent: { at: number; events: string[] }[] = [];
    b.setSink((events) => sent.push({ at: clock.now(), events: events.map(text) }));
    for (let i = 0; i < 100; i++) {
      b.consoleBytes(1, bytes('a'));
      b.consoleBytes(2, bytes('b'));
      clock.advance(1);
    }
    clock.advance(CONSOLE_FLUSH_MS);
    const perDomain = (d: number): number[] => sent.filter((s) => s.events.some((e) => e.startsWith(`${d}:`))).map((s) => s.at);
    for (const d of [1, 2]) {
      const at = perDomain(d);
      expect(at.length).toBeLessThanOrEqual(Math.ceil(100 / CONSOLE_FLUSH_MS) + 1);
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(CONSOLE_FLUSH_MS);
    }
    const all = sent.flatMap((s) => s.events).join('');
    expect(all.replace(/[^a]/g, '')).toHaveLength(100);
    expect(all.replace(/[^b]/g, '')).toHaveLength(100);
  });

  it("puts a domain's pending console before an event about it, at once", () => {
    const clock = fakeClock();
    const b = new EventBatcher(clock);
    const sent: string[][] = [];
    b.setSink((events) => sent.push(events.map(text)));
    b.consoleBytes(1, bytes('x'));
    b.consoleBytes(2, bytes('y'));
    clock.advance(0);
    b.consoleBytes(1, bytes('bye'));
    b.consoleBytes(2, bytes('other'));
    b.event({ type: 'destroyed', domid: 1 }, 1);
    clock.advance(0);
    expect(sent).toEqual([
      ['1:x', '2:y'],
      ['1:bye', 'destroyed'],
    ]);
    clock.advance(CONSOLE_FLUSH_MS);
    expect(sent[2]).toEqual(['2:other']);
  });
});
