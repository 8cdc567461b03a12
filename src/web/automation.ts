/**
 * window.hyperlab: a small typed API for scripts, tests and benchmarks that drive the
 * page (Playwright's page.evaluate, the devtools console). docs/automation.md is its
 * manual; keep the two in step. Every method works on the same Lab the UI shows.
 */
import type { GuestEntry } from './guestCatalog';
import type { IsolationStatus } from './isolation';
import type { BootOptions, Lab, MachineId } from './lab';
import type { MachineStats, PowerOff, RunState } from './protocol';

export const AUTOMATION_VERSION = 1;

export interface MachineListing {
  readonly id: MachineId;
  readonly name: string;
  readonly origin: 'catalog' | 'upload';
  readonly state: RunState;
  readonly poweroff: PowerOff | null;
}

export interface HyperlabAutomation {
  readonly version: number;
  /** Resolves once the page has booted its startup machines (or tried to). */
  ready(): Promise<void>;
  isolation(): IsolationStatus;
  /** Names of the images in public/guests. */
  images(): readonly string[];
  machines(): MachineListing[];
  /**
   * Boot an image: a name from images(), or the bytes of an ELF or flat binary.
   * Resolves with the new machine's id; rejects with the loader's message.
   */
  boot(image: string | Uint8Array | ArrayBuffer | readonly number[], options?: BootOptions): Promise<MachineId>;
  /** The current boot's console output, CR LF as LF. */
  consoleText(id: MachineId): string;
  /**
   * Resolve with consoleText(id) once it contains `text`. Rejects after `timeoutMs`
   * (default 10 s), or as soon as the machine is off, crashed or gone without it.
   */
  waitForText(id: MachineId, text: string, timeoutMs?: number): Promise<string>;
  /** Resolve with how the guest powered off; rejects after `timeoutMs` (default 10 s). */
  waitForPowerOff(id: MachineId, timeoutMs?: number): Promise<PowerOff>;
  /** Type into the guest's UART (strings are sent as UTF-8). */
  sendInput(id: MachineId, text: string | readonly number[]): Promise<void>;
  /** Resolves once the machine is paused, with its stats (the instruction count is frozen). */
  pause(id: MachineId): Promise<MachineStats>;
  resume(id: MachineId): Promise<MachineStats>;
  /**
   * Reboot from the same image with fresh RAM; powers an off machine back on. Resolves
   * once the new boot has begun: consoleText is then the new boot's.
   */
  reset(id: MachineId): Promise<MachineStats>;
  /** Power off and remove the machine. */
  destroy(id: MachineId): void;
  /** The machine's last report (at most ~100 ms old while it runs): state, instret, MIPS. */
  stats(id: MachineId): MachineStats;
}

declare global {
  interface Window {
    hyperlab?: HyperlabAutomation;
  }
}

export interface AutomationContext {
  readonly lab: Lab;
  readonly ready: Promise<void>;
  readonly isolation: () => IsolationStatus;
  readonly catalog: () => readonly GuestEntry[];
}

const DEFAULT_TIMEOUT_MS = 10_000;

function toBytes(image: Uint8Array | ArrayBuffer | readonly number[]): Uint8Array {
  if (image instanceof Uint8Array) return image;
  if (image instanceof ArrayBuffer) return new Uint8Array(image);
  return Uint8Array.from(image);
}

function tail(text: string, n = 200): string {
  return JSON.stringify(text.length > n ? `…${text.slice(-n)}` : text);
}

export function createAutomation(ctx: AutomationContext): HyperlabAutomation {
  const { lab } = ctx;

  /** Re-check `test` whenever the machine reports anything, until it settles or time runs out. */
  function watch<T>(id: MachineId, timeoutMs: number, what: string, test: () => T | undefined | Error): Promise<T> {
    lab.machine(id); // throws for an unknown id
    return new Promise<T>((resolve, reject) => {
      const unsubscribers = [
        lab.on('console', (e) => e.id === id && check()),
        lab.on('stats', (e) => e.id === id && check()),
        lab.on('machine-removed', (e) => e.id === id && settle(new Error(`machine ${id} was removed while waiting for ${what}`))),
      ];
      const timer = setTimeout(() => {
        const h = lab.machine(id);
        const state = h.stats.state;
        settle(new Error(`timed out after ${timeoutMs} ms waiting for ${what} on machine ${id} (${state}); console ends ${tail(h.console.bootText())}`));
      }, timeoutMs);
      function settle(result: T | Error): void {
        clearTimeout(timer);
        for (const u of unsubscribers) u();
        if (result instanceof Error) reject(result);
        else resolve(result);
      }
      function check(): void {
        const r = test();
        if (r !== undefined) settle(r);
      }
      check();
    });
  }

  return {
    version: AUTOMATION_VERSION,
    ready: () => ctx.ready,
    isolation: ctx.isolation,
    images: () => ctx.catalog().map((g) => g.name),
    machines: () =>
      lab.machines().map((m) => ({ id: m.id, name: m.name, origin: m.origin, state: m.stats.state, poweroff: m.stats.poweroff })),
    async boot(image, options = {}) {
      const outcome = typeof image === 'string' ? await lab.bootGuest(image, options) : await lab.bootBytes(toBytes(image), options);
      if (!outcome.ok) throw new Error(outcome.error);
      return outcome.value;
    },
    consoleText: (id) => lab.machine(id).console.bootText(),
    waitForText(id, text, timeoutMs = DEFAULT_TIMEOUT_MS) {
      return watch(id, timeoutMs, JSON.stringify(text), () => {
        const h = lab.machine(id);
        const out = h.console.bootText();
        if (out.includes(text)) return out;
        const { state } = h.stats;
        if (state === 'off' || state === 'crashed') {
          return new Error(`machine ${id} is ${state} and never printed ${JSON.stringify(text)}; console ends ${tail(out)}`);
        }
        return undefined;
      });
    },
    waitForPowerOff(id, timeoutMs = DEFAULT_TIMEOUT_MS) {
      return watch(id, timeoutMs, 'power-off', () => {
        const { state, poweroff, crash } = lab.machine(id).stats;
        if (poweroff) return poweroff;
        if (state === 'crashed') return new Error(`machine ${id} crashed: ${crash}`);
        return undefined;
      });
    },
    sendInput: (id, text) => lab.sendInput(id, typeof text === 'string' ? text : Uint8Array.from(text)),
    pause: (id) => lab.pause(id),
    resume: (id) => lab.resume(id),
    reset: (id) => lab.reset(id),
    destroy: (id) => lab.destroy(id),
    stats: (id) => lab.machine(id).stats,
  };
}
