/**
 * The few globals the core uses that browsers, workers and Node all provide (HTML's timer
 * and microtask functions, the Encoding API, High Resolution Time). tsconfig.core.json
 * compiles src/core against these alone, with no DOM and no Node types, so the core cannot
 * come to depend on either host.
 */
type TimerHandle = ReturnType<typeof globalThis.setTimeout>;
declare function setTimeout(handler: () => void, ms?: number): TimerHandle;
// TimerHandle is whatever the host's setTimeout returns: `any` where only these declarations are loaded.
// eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents
declare function clearTimeout(handle: TimerHandle | undefined): void;
declare function queueMicrotask(callback: () => void): void;
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
declare const performance: { now(): number; readonly timeOrigin: number };
declare const console: { log(...args: unknown[]): void; warn(...args: unknown[]): void };
