/**
 * The control plane between the page and a VM worker: types and constants only.
 * Comlink is the transport (the page calls `VmWorkerApi` methods on a Remote); this
 * file is the schema. It must type-check both with the DOM library (the page) and with
 * the WebWorker library (the worker), so it names neither.
 *
 * Notes:
 *  1. Errors cross the boundary as values (`BootResult`), never as thrown exceptions.
 *  2. Events from the worker (console bytes, stats) arrive in the order they were sent,
 *     through one `VmEventSink`: the last console batch of a run comes before the stats
 *     that report its power-off.
 */

/** Bump when a message's shape changes. */
export const VM_PROTOCOL_VERSION = 1;

/**
 * What a machine is doing.
 * - booting: the image is being fetched and loaded
 * - running: the hart executes instructions
 * - waiting: the hart sleeps in WFI until a timer or input wakes it
 * - paused:  stopped by the user; guest time stands still
 * - off:     the guest powered off through the test finisher (see `poweroff`)
 * - crashed: the emulator itself failed (see `crash`); a reset reboots
 */
export type RunState = 'booting' | 'running' | 'waiting' | 'paused' | 'off' | 'crashed';

/** How the guest powered off: the SiFive test finisher's pass or fail(code). */
export interface PowerOff {
  readonly kind: 'pass' | 'fail';
  readonly code: number;
}

/** A snapshot of one machine, reported about 10 times a second while it runs. */
export interface MachineStats {
  /**
   * Increases with every report of a machine. Reports travel two ways (events, and the
   * replies to pause/resume/reset), so a receiver keeps the one with the highest seq.
   */
  readonly seq: number;
  readonly state: RunState;
  /** Instructions retired since the last (re)boot. */
  readonly instret: number;
  /** Throughput over the last report interval, in million instructions per second. */
  readonly mips: number;
  /** instret divided by the host time spent executing it (excludes WFI sleep and pauses). */
  readonly avgMips: number;
  /** Host milliseconds spent inside the hart's run loop since the last (re)boot. */
  readonly runMs: number;
  /** Host milliseconds since the last (re)boot, pauses excluded. */
  readonly uptimeMs: number;
  readonly poweroff: PowerOff | null;
  readonly crash: string | null;
  /** Reboots since the first boot: user resets and guest-requested resets (0x7777). */
  readonly resets: number;
  /** Guest RAM is a SharedArrayBuffer (the page is cross-origin isolated). */
  readonly sharedMemory: boolean;
}

/** Where the image comes from: a URL the worker fetches, or bytes the page hands over. */
export type ImageSource =
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array };

export interface BootConfig {
  readonly image: ImageSource;
  /** RAM size in bytes; default 128 MiB, as QEMU's `virt`. */
  readonly memSize?: number;
  /** Deterministic time (QEMU -icount shift); default: the host's real time. */
  readonly icountShift?: number;
  /** Kernel command line (/chosen/bootargs). */
  readonly bootargs?: string;
}

/** Facts about a booted image, for the status line and inspectors. */
export interface BootInfo {
  readonly entry: number;
  readonly imageBytes: number;
  readonly memSize: number;
  readonly sharedMemory: boolean;
}

export type BootResult =
  | { readonly ok: true; readonly info: BootInfo }
  | { readonly ok: false; readonly error: string };

/** Events a worker sends to the page. */
export interface VmEventMap {
  /** Bytes the guest's UART transmitted, batched (at most one batch per ~16 ms). */
  console: { readonly bytes: Uint8Array; readonly boot: number };
  stats: { readonly stats: MachineStats };
  /**
   * The machine rebooted (user reset or guest request): boot `boot` starts, with a new
   * console session. `console` events say which boot printed them.
   */
  reboot: { readonly reason: 'user' | 'guest'; readonly boot: number };
}

export type VmEvent = { [K in keyof VmEventMap]: { readonly type: K } & VmEventMap[K] }[keyof VmEventMap];

export type VmEventSink = (event: VmEvent) => void;

/** What one VM worker exposes over comlink. One worker runs one machine. */
export interface VmWorkerApi {
  readonly protocolVersion: number;
  /** Fetch (if needed) and load the image, then start running. Call once. */
  boot(config: BootConfig, sink: VmEventSink): BootResult | Promise<BootResult>;
  /** Queue console input for the UART; wakes a guest waiting in WFI. */
  sendInput(bytes: Uint8Array): void;
  /** Each control returns the stats right after it took effect. */
  pause(): MachineStats;
  resume(): MachineStats;
  /** Reboot from the same image with fresh RAM (also powers an off machine back on). */
  reset(): MachineStats;
  stats(): MachineStats;
  /** Guest RAM when it is shared (for inspectors), else null: a plain buffer would be copied. */
  sharedRam(): SharedArrayBuffer | null;
}
