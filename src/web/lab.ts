/**
 * The lab: every machine the page runs, behind one facade with a typed event map (the
 * shape of v86's V86 object). The UI's store and window.hyperlab are both views of it;
 * neither owns a machine.
 */
import { Emitter, type Unsubscribe } from './emitter';
import { MachineHandle, REBOOT_MARKER, type BootOutcome, type MachineId, type MachineSpec } from './machineHandle';
import type { BootConfig, BootInfo, MachineStats, VmEvent } from './protocol';

export type { MachineId } from './machineHandle';

export interface MachineSummary {
  readonly id: MachineId;
  readonly name: string;
  /** 'catalog': an image from public/guests; 'upload': bytes the user gave. */
  readonly origin: 'catalog' | 'upload';
  readonly info: BootInfo;
  readonly stats: MachineStats;
}

export interface LabEvents {
  'machine-added': { readonly machine: MachineSummary };
  'machine-removed': { readonly id: MachineId };
  stats: { readonly id: MachineId; readonly stats: MachineStats };
  /** Console bytes as the guest sent them (for terminals). */
  console: { readonly id: MachineId; readonly bytes: Uint8Array };
  /** The machine rebooted; `marker` is what a terminal should print between the boots. */
  reboot: { readonly id: MachineId; readonly reason: 'user' | 'guest'; readonly marker: Uint8Array };
}

export interface BootOptions {
  /** Display name; default the guest's name or "upload". */
  readonly name?: string;
  /** RAM in bytes (default 128 MiB). */
  readonly memSize?: number;
  /** Deterministic time (QEMU -icount shift); default real time. */
  readonly icountShift?: number;
  readonly bootargs?: string;
}

export class Lab {
  private nextId: MachineId = 1;
  private readonly handles = new Map<MachineId, MachineHandle>();
  private readonly events = new Emitter<LabEvents>();

  /** @param guestUrl where the worker fetches a catalog image, given its file name */
  constructor(private readonly guestUrl: (file: string) => string) {}

  on<K extends keyof LabEvents>(type: K, listener: (payload: LabEvents[K]) => void): Unsubscribe {
    return this.events.on(type, listener);
  }

  /** Boot a guest from public/guests by name ("hello" or "hello.elf"). */
  bootGuest(name: string, options: BootOptions = {}): Promise<BootOutcome<MachineId>> {
    const base = name.endsWith('.elf') ? name.slice(0, -4) : name;
    const image = { kind: 'url' as const, url: this.guestUrl(`${base}.elf`) };
    return this.boot({ name: options.name ?? base, origin: 'catalog', config: bootConfig(image, options) });
  }

  /** Boot an image from bytes (an uploaded ELF or a flat binary). */
  bootBytes(bytes: Uint8Array, options: BootOptions = {}): Promise<BootOutcome<MachineId>> {
    const image = { kind: 'bytes' as const, bytes };
    return this.boot({ name: options.name ?? 'upload', origin: 'upload', config: bootConfig(image, options) });
  }

  machines(): MachineSummary[] {
    return [...this.handles.values()].sort((a, b) => a.id - b.id).map(summarize);
  }

  /** The handle of a running machine; throws for an unknown id. */
  machine(id: MachineId): MachineHandle {
    const handle = this.handles.get(id);
    if (!handle) throw new Error(`no machine with id ${id}`);
    return handle;
  }

  sendInput(id: MachineId, data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return this.machine(id).sendInput(bytes);
  }

  /** Resolves once the machine is paused, with its stats. */
  pause(id: MachineId): Promise<MachineStats> {
    return this.machine(id).pause();
  }

  resume(id: MachineId): Promise<MachineStats> {
    return this.machine(id).resume();
  }

  /** Resolves once the machine rebooted: its console text is the new boot's. */
  reset(id: MachineId): Promise<MachineStats> {
    return this.machine(id).reset();
  }

  /** Power the machine off and forget it. */
  destroy(id: MachineId): void {
    this.machine(id).destroy();
    this.handles.delete(id);
    this.events.emit('machine-removed', { id });
  }

  private async boot(spec: MachineSpec): Promise<BootOutcome<MachineId>> {
    const id = this.nextId++;
    const outcome = await MachineHandle.boot(id, spec, (handle, event) => this.relay(handle, event));
    if (!outcome.ok) return outcome;
    this.handles.set(id, outcome.value);
    this.events.emit('machine-added', { machine: summarize(outcome.value) });
    return { ok: true, value: id };
  }

  private relay(handle: MachineHandle, event: VmEvent): void {
    const { id } = handle;
    // Events can arrive before boot() returns (the machine starts at once): the store
    // catches up from the summary it gets with machine-added.
    if (this.handles.get(id) !== handle) return;
    switch (event.type) {
      case 'console':
        this.events.emit('console', { id, bytes: event.bytes });
        break;
      case 'stats':
        this.events.emit('stats', { id, stats: event.stats });
        break;
      case 'reboot':
        this.events.emit('reboot', { id, reason: event.reason, marker: REBOOT_MARKER });
        break;
    }
  }
}

function bootConfig(image: BootConfig['image'], o: BootOptions): BootConfig {
  return {
    image,
    ...(o.memSize !== undefined ? { memSize: o.memSize } : {}),
    ...(o.icountShift !== undefined ? { icountShift: o.icountShift } : {}),
    ...(o.bootargs !== undefined ? { bootargs: o.bootargs } : {}),
  };
}

function summarize(h: MachineHandle): MachineSummary {
  return { id: h.id, name: h.spec.name, origin: h.spec.origin, info: h.info!, stats: h.stats };
}
