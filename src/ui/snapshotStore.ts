/**
 * The Snapshots panel's state: a zustand store that knows nothing about React, over the
 * Lab's save, restore and snapshot operations (the files live in the hypervisor worker, in
 * OPFS snapshots/). One store per Lab (the domain table's Save and Snapshot buttons and the
 * panel share it), keeping the last listing, the last refusal (one line) and what the last
 * operation did; every operation lists the snapshots again.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { RestoreRequest, Result, SnapshotList } from '../web/protocol/hvProtocol';
import type { Lab } from '../web/page/lab';

export interface SnapshotActions {
  refresh(): Promise<void>;
  /** `xl save -c` into OPFS snapshots/ (the domain runs on). */
  take(domid: number, name?: string): Promise<boolean>;
  /** `xl save [-c]`: the save file's bytes for a download, or null (the refusal is in `error`). */
  save(domid: number, checkpoint: boolean): Promise<Uint8Array | null>;
  /** `xl restore` of an uploaded file; a taken name runs as NAME-2. */
  restoreFile(fileName: string, bytes: Uint8Array, req?: RestoreRequest): Promise<number | null>;
  restore(name: string, req?: RestoreRequest): Promise<number | null>;
  download(name: string): Promise<Uint8Array | null>;
  remove(name: string): Promise<boolean>;
  /** Show a refusal that never reached the worker (a file too large). */
  refuse(message: string): void;
}

export interface SnapshotState {
  readonly list: SnapshotList | null;
  readonly error: string | null;
  readonly message: string | null;
  readonly busy: boolean;
  readonly actions: SnapshotActions;
}

export type SnapshotStore = StoreApi<SnapshotState>;

const stores = new WeakMap<Lab, SnapshotStore>();

/** The Lab's one snapshot store. */
export function snapshotStoreOf(lab: Lab): SnapshotStore {
  let s = stores.get(lab);
  if (!s) stores.set(lab, (s = createSnapshotStore(lab)));
  return s;
}

export function createSnapshotStore(lab: Lab): SnapshotStore {
  return createStore<SnapshotState>()((set, get) => {
    const run = async <T>(op: () => Promise<Result<T>>, said: (v: T) => string | null): Promise<T | null> => {
      set({ busy: true, error: null, message: null });
      let out: T | null = null;
      try {
        const r = await op();
        if (r.ok) {
          out = r.value;
          set({ message: said(r.value) });
        } else set({ error: r.error });
      } catch (e) {
        set({ error: e instanceof Error ? e.message : String(e) });
      }
      await list();
      set({ busy: false });
      return out;
    };
    const list = async (): Promise<void> => {
      try {
        const r = await lab.snapshots();
        if (r.ok) set({ list: r.value });
        else if (get().error === null) set({ error: r.error });
      } catch (e) {
        if (get().error === null) set({ error: e instanceof Error ? e.message : String(e) });
      }
    };
    const restored = (r: { row: { domid: number; name: string }; message: string }): string => `${r.message} (domain ${r.row.domid}, ${r.row.name})`;
    const actions: SnapshotActions = {
      refresh: list,
      take: async (domid, name) =>
        (await run(
          () => lab.snapshotTake(domid, name),
          (row) => `snapshot ${row.name} of ${row.domain} kept (${row.size} bytes); the domain runs on`,
        )) !== null,
      save: async (domid, checkpoint) =>
        (
          await run(
            () => lab.saveDomain(domid, checkpoint),
            (r) => r.message,
          )
        )?.bytes ?? null,
      restoreFile: async (fileName, bytes, req = { uniqueName: true }) =>
        (
          await run(
            () => lab.restoreDomain(bytes, req),
            (r) => `${fileName}: ${restored(r)}`,
          )
        )?.row.domid ?? null,
      restore: async (name, req = { uniqueName: true }) => (await run(() => lab.snapshotRestore(name, req), restored))?.row.domid ?? null,
      download: (name) =>
        run(
          () => lab.snapshotDownload(name),
          () => null,
        ),
      remove: async (name) =>
        (await run(
          () => lab.snapshotDelete(name),
          () => `deleted ${name}`,
        )) !== null,
      refuse: (message) => set({ error: message, message: null }),
    };
    lab.on('snapshots', () => void list());
    return { list: null, error: null, message: null, busy: false, actions };
  });
}
