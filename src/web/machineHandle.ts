/**
 * The page's side of one machine: its worker, the comlink Remote that controls it, its
 * console log and the last stats it reported. The Lab owns handles; views never do.
 */
import * as Comlink from 'comlink';
import { ConsoleLog } from './consoleLog';
import type { BootConfig, BootInfo, MachineStats, VmEvent, VmWorkerApi } from './protocol';

export type MachineId = number;

export interface MachineSpec {
  /** Display name: the guest's name, or the uploaded file's. */
  readonly name: string;
  readonly origin: 'catalog' | 'upload';
  readonly config: BootConfig;
}

export type BootOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** What the terminal prints between two boots of a machine (dim, on its own line). */
export const REBOOT_MARKER = new TextEncoder().encode('\r\n\x1b[2m--- machine reset ---\x1b[0m\r\n');

export const INITIAL_STATS: MachineStats = {
  seq: 0,
  state: 'booting',
  instret: 0,
  mips: 0,
  avgMips: 0,
  runMs: 0,
  uptimeMs: 0,
  poweroff: null,
  crash: null,
  resets: 0,
  sharedMemory: false,
};

export class MachineHandle {
  readonly console = new ConsoleLog();
  stats: MachineStats = INITIAL_STATS;
  info: BootInfo | null = null;
  /** The boot whose console session is current (0 = the first). */
  private boot = 0;

  private constructor(
    readonly id: MachineId,
    readonly spec: MachineSpec,
    private readonly worker: Worker,
    private readonly remote: Comlink.Remote<VmWorkerApi>,
    private readonly onEvent: (handle: MachineHandle, event: VmEvent) => void,
  ) {}

  /**
   * Start a worker and boot `spec` in it. Fails with the loader's message for a bad
   * image, or with the reason the worker could not start.
   */
  static async boot(
    id: MachineId,
    spec: MachineSpec,
    onEvent: (handle: MachineHandle, event: VmEvent) => void,
  ): Promise<BootOutcome<MachineHandle>> {
    const worker = new Worker(new URL('../../workers/vm.worker.ts', import.meta.url), {
      type: 'module',
      name: `vm-${id}-${spec.name}`,
    });
    const remote = Comlink.wrap<VmWorkerApi>(worker);
    const handle = new MachineHandle(id, spec, worker, remote, onEvent);
    const workerFailed = new Promise<{ ok: false; error: string }>((resolve) => {
      worker.addEventListener('error', (e) => resolve({ ok: false, error: `the VM worker failed to start: ${e.message || 'script error'}` }));
    });
    const config = spec.config.image.kind === 'bytes'
      ? { ...spec.config, image: { kind: 'bytes' as const, bytes: spec.config.image.bytes.slice() } }
      : spec.config;
    const transfer = config.image.kind === 'bytes' ? [config.image.bytes.buffer] : [];
    const sink = Comlink.proxy((event: VmEvent) => handle.receive(event));
    const result = await Promise.race([remote.boot(Comlink.transfer(config, transfer), sink), workerFailed]);
    if (!result.ok) {
      worker.terminate();
      return { ok: false, error: result.error };
    }
    handle.info = result.info;
    return { ok: true, value: handle };
  }

  sendInput(bytes: Uint8Array): Promise<void> {
    return this.remote.sendInput(bytes);
  }

  /** Each control resolves once it took effect, with the stats already updated. */
  async pause(): Promise<MachineStats> {
    return this.apply(await this.remote.pause());
  }

  async resume(): Promise<MachineStats> {
    return this.apply(await this.remote.resume());
  }

  async reset(): Promise<MachineStats> {
    const stats = await this.remote.reset();
    if (stats.resets > this.boot) this.receive({ type: 'reboot', reason: 'user', boot: stats.resets });
    return this.apply(stats);
  }

  /** Guest RAM, shared with the worker (null when the page is not cross-origin isolated). */
  sharedRam(): Promise<SharedArrayBuffer | null> {
    return this.remote.sharedRam();
  }

  /** Power off for good: the worker and its memory go away. */
  destroy(): void {
    this.remote[Comlink.releaseProxy]();
    this.worker.terminate();
    this.stats = { ...this.stats, state: 'off', mips: 0 };
  }

  private apply(stats: MachineStats): MachineStats {
    this.receive({ type: 'stats', stats });
    return this.stats;
  }

  /**
   * Events and control replies travel on different ports, so either can come first:
   * keep the newest stats (by seq) and start each boot's console session once.
   */
  private receive(event: VmEvent): void {
    switch (event.type) {
      case 'console':
        if (event.boot < this.boot) this.console.appendLate(event.bytes);
        else this.console.append(event.bytes);
        break;
      case 'stats':
        if (event.stats.seq <= this.stats.seq) return;
        this.stats = event.stats;
        break;
      case 'reboot':
        if (event.boot <= this.boot) return;
        this.boot = event.boot;
        this.console.startBoot(REBOOT_MARKER);
        break;
    }
    this.onEvent(this, event);
  }
}
