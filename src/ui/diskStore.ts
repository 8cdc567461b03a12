/**
 * The Disks panel's state: a zustand store that knows nothing about React, over the Lab's
 * disk operations (the images live in the hypervisor worker, in OPFS disks/). It keeps the
 * last listing, the last refusal (one line, shown in the panel) and what the last
 * operation did; every operation lists the images again.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { DiskCreateRequest, DiskList, Result } from '../web/protocol/hvProtocol';
import type { Lab } from '../web/page/lab';

export interface DiskActions {
  refresh(): Promise<void>;
  create(req: DiskCreateRequest): Promise<boolean>;
  upload(name: string, bytes: Uint8Array): Promise<boolean>;
  /** The image's bytes, or null (the refusal is in `error`). */
  download(name: string): Promise<Uint8Array | null>;
  remove(name: string): Promise<boolean>;
  attach(domid: number, name: string, vdev: string, access: 'rw' | 'ro'): Promise<boolean>;
  /** Show a refusal that never reached the worker (a file too large). */
  refuse(message: string): void;
}

export interface DiskState {
  readonly list: DiskList | null;
  readonly error: string | null;
  readonly message: string | null;
  readonly busy: boolean;
  readonly actions: DiskActions;
}

export type DiskStore = StoreApi<DiskState>;

export function createDiskStore(lab: Lab): DiskStore {
  return createStore<DiskState>()((set, get) => {
    /** Run an operation: its refusal or its message is shown; the list is taken again after it. */
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
        const r = await lab.disks();
        if (r.ok) set({ list: r.value });
        else if (get().error === null) set({ error: r.error });
      } catch (e) {
        if (get().error === null) set({ error: e instanceof Error ? e.message : String(e) });
      }
    };
    const actions: DiskActions = {
      refresh: list,
      create: async (req) =>
        (await run(
          () => lab.diskCreate(req),
          (row) => `created ${row.name}`,
        )) !== null,
      upload: async (name, bytes) =>
        (await run(
          () => lab.diskUpload(name, bytes),
          (row) => `kept ${row.name} (${row.format})`,
        )) !== null,
      download: (name) =>
        run(
          () => lab.diskDownload(name),
          () => null,
        ),
      remove: async (name) =>
        (await run(
          () => lab.diskDelete(name),
          () => `deleted ${name}`,
        )) !== null,
      attach: async (domid, name, vdev, access) =>
        (await run(
          () => lab.diskAttach(domid, name, get().list?.images.find((i) => i.name === name)?.format ?? 'raw', vdev, access),
          () => `attached ${name} to domain ${domid} as ${vdev}`,
        )) !== null,
      refuse: (message) => set({ error: message, message: null }),
    };
    // A domain made or destroyed with disks changes who uses which image.
    let queued = false;
    const soon = (): void => {
      if (queued) return;
      queued = true;
      setTimeout(() => {
        queued = false;
        void list();
      }, 100);
    };
    lab.on('disks', soon);
    lab.on('domain-added', soon);
    lab.on('domain-removed', soon);
    return { list: null, error: null, message: null, busy: false, actions };
  });
}
