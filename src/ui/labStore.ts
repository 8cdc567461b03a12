/**
 * The page's state: a zustand store that knows nothing about React. It is a projection
 * of the Lab's events (machines and their stats) plus what only the page has (the guest
 * catalog, the isolation status, the last boot error). Views read it; its actions call
 * the Lab, which stays the source of truth.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { GuestEntry } from '../web/guestCatalog';
import type { IsolationStatus } from '../web/isolation';
import type { BootOptions, Lab, MachineId, MachineSummary } from '../web/lab';

export type MachineView = MachineSummary;

export type CatalogState =
  | { readonly status: 'loading' }
  | { readonly status: 'ready'; readonly guests: readonly GuestEntry[] }
  | { readonly status: 'error'; readonly error: string };

export interface BootState {
  /** Boots under way (the image is being fetched or loaded). */
  readonly pending: number;
  /** Why the last boot failed, e.g. the loader's message for a malformed upload. */
  readonly error: string | null;
}

export interface LabActions {
  /** Boot a catalog image; resolves with the machine id, or null (the error is in `boot`). */
  bootGuest(name: string, options?: BootOptions): Promise<MachineId | null>;
  bootUpload(fileName: string, bytes: Uint8Array): Promise<MachineId | null>;
  pause(id: MachineId): void;
  resume(id: MachineId): void;
  reset(id: MachineId): void;
  destroy(id: MachineId): void;
  setCatalog(catalog: CatalogState): void;
  /** Show a boot error that never reached a worker (a file too large to read, say). */
  reportBootError(message: string): void;
}

export interface LabState {
  readonly isolation: IsolationStatus;
  readonly catalog: CatalogState;
  /** Machines in id order. */
  readonly machines: readonly MachineView[];
  readonly boot: BootState;
  readonly actions: LabActions;
}

export type LabStore = StoreApi<LabState>;

export function createLabStore(lab: Lab, isolation: IsolationStatus): LabStore {
  const store = createStore<LabState>()((set, get) => {
    const updateMachine = (id: MachineId, update: (m: MachineView) => MachineView): void => {
      set((s) => ({ machines: s.machines.map((m) => (m.id === id ? update(m) : m)) }));
    };
    const settleBoot = (outcome: { ok: true; value: MachineId } | { ok: false; error: string }, label: string): MachineId | null => {
      const error = outcome.ok ? null : outcome.error.startsWith(label) ? outcome.error : `${label}: ${outcome.error}`;
      set((s) => ({ boot: { pending: s.boot.pending - 1, error } }));
      return outcome.ok ? outcome.value : null;
    };
    const control = (op: (id: MachineId) => Promise<unknown>) => (id: MachineId): void => {
      op(id).catch((e: unknown) => console.warn(`hyperlab: machine ${id}:`, e));
    };
    const startBoot = (): void => set((s) => ({ boot: { pending: s.boot.pending + 1, error: null } }));

    const actions: LabActions = {
      async bootGuest(name, options = {}) {
        startBoot();
        return settleBoot(await lab.bootGuest(name, options), name);
      },
      async bootUpload(fileName, bytes) {
        startBoot();
        return settleBoot(await lab.bootBytes(bytes, { name: fileName }), fileName);
      },
      pause: control((id) => lab.pause(id)),
      resume: control((id) => lab.resume(id)),
      reset: control((id) => lab.reset(id)),
      destroy(id) {
        if (get().machines.some((m) => m.id === id)) lab.destroy(id);
      },
      setCatalog: (catalog) => set({ catalog }),
      reportBootError: (message) => set((s) => ({ boot: { ...s.boot, error: message } })),
    };

    lab.on('machine-added', ({ machine }) => {
      set((s) => ({ machines: [...s.machines, machine].sort((a, b) => a.id - b.id) }));
    });
    lab.on('machine-removed', ({ id }) => set((s) => ({ machines: s.machines.filter((m) => m.id !== id) })));
    lab.on('stats', ({ id, stats }) => updateMachine(id, (m) => ({ ...m, stats })));

    return {
      isolation,
      catalog: { status: 'loading' },
      machines: [],
      boot: { pending: 0, error: null },
      actions,
    };
  });
  return store;
}
