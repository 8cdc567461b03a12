/**
 * A directory of image files, asynchronous where the browser is (listing, opening a
 * handle, removing, the quota) and synchronous once a handle is open (opfsStore.ts).
 * `opfsDirectory` is the Origin Private File System's (File System Standard; OPFS is
 * per origin, survives page reloads, and is not visible to the user's own files);
 * `MemoryDirectory` keeps files in memory, with the same exclusive-handle rule, for tests
 * in Node and for a page without OPFS. The snapshot code can reuse both for its files.
 */
import type { SyncHandle } from './opfsStore';

export interface StorageEstimate {
  readonly quota: number;
  readonly usage: number;
}

export interface FileDirectory {
  /** Where the files are, for messages ("OPFS disks/"). */
  readonly where: string;
  names(): Promise<string[]>;
  has(name: string): Promise<boolean>;
  /** The file's one synchronous handle (exclusive: a second open of the same file fails until the first is closed). */
  openSync(name: string, create: boolean): Promise<SyncHandle>;
  /** The whole file, when no handle is open on it. */
  readFile(name: string): Promise<Uint8Array>;
  remove(name: string): Promise<void>;
  estimate(): Promise<StorageEstimate>;
}

/** A message for what OPFS threw (NotFoundError, NoModificationAllowedError...) in one line. */
export function fsError(where: string, name: string, e: unknown): Error {
  const n = e instanceof Error ? e.name : '';
  if (n === 'NotFoundError') return new Error(`${name}: no such image in ${where}`);
  if (n === 'NoModificationAllowedError' || n === 'InvalidStateError') return new Error(`${name}: the image is open elsewhere (another tab of the lab?)`);
  if (n === 'QuotaExceededError') return new Error(`${name}: the browser's storage quota is used up`);
  return new Error(`${name}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
}

/** The OPFS directory `path` (made if missing). Dedicated workers only for openSync. */
export async function opfsDirectory(path: string): Promise<FileDirectory> {
  const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
  if (storage?.getDirectory === undefined) throw new Error('this browser has no Origin Private File System (navigator.storage.getDirectory)');
  const root = await storage.getDirectory();
  const dir = await root.getDirectoryHandle(path, { create: true });
  const where = `OPFS ${path}/`;
  const file = async (name: string, create = false): Promise<FileSystemFileHandle> => {
    try {
      return await dir.getFileHandle(name, { create });
    } catch (e) {
      throw fsError(where, name, e);
    }
  };
  return {
    where,
    async names() {
      const out: string[] = [];
      // FileSystemDirectoryHandle is async-iterable over [name, handle] (the WebWorker lib types it without the iterator).
      for await (const [name, h] of dir as unknown as AsyncIterable<[string, FileSystemHandle]>) if (h.kind === 'file') out.push(name);
      return out.sort();
    },
    async has(name) {
      try {
        await dir.getFileHandle(name);
        return true;
      } catch {
        return false;
      }
    },
    async openSync(name, create) {
      const h = await file(name, create);
      try {
        // Typed here: the DOM library (the e2e typecheck sees this file too) lacks createSyncAccessHandle.
        return await (h as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }).createSyncAccessHandle();
      } catch (e) {
        throw fsError(where, name, e);
      }
    },
    async readFile(name) {
      const h = await file(name);
      try {
        return new Uint8Array(await (await h.getFile()).arrayBuffer());
      } catch (e) {
        throw fsError(where, name, e);
      }
    },
    async remove(name) {
      try {
        await dir.removeEntry(name);
      } catch (e) {
        throw fsError(where, name, e);
      }
    },
    async estimate() {
      const e = await storage.estimate();
      return { quota: e.quota ?? Number.MAX_SAFE_INTEGER, usage: e.usage ?? 0 };
    },
  };
}

/** Files in memory, with OPFS's rules: one handle per file, names flat. */
export class MemoryDirectory implements FileDirectory {
  readonly where = 'memory disks/';
  readonly files = new Map<string, { bytes: Uint8Array; length: number; open: boolean; flushed: Uint8Array }>();

  constructor(public quota = 1 << 30) {}

  names(): Promise<string[]> {
    return Promise.resolve([...this.files.keys()].sort());
  }

  has(name: string): Promise<boolean> {
    return Promise.resolve(this.files.has(name));
  }

  openSync(name: string, create: boolean): Promise<SyncHandle> {
    let f = this.files.get(name);
    if (!f) {
      if (!create) return Promise.reject(new Error(`${name}: no such image in ${this.where}`));
      f = { bytes: new Uint8Array(0), length: 0, open: false, flushed: new Uint8Array(0) };
      this.files.set(name, f);
    }
    if (f.open) return Promise.reject(new Error(`${name}: the image is open elsewhere (another tab of the lab?)`));
    f.open = true;
    const file = f;
    let closed = false;
    const live = (): void => {
      if (closed) throw Object.assign(new Error('handle is closed'), { name: 'InvalidStateError' });
    };
    const grow = (end: number): void => {
      if (end > this.quota) throw Object.assign(new Error('quota'), { name: 'QuotaExceededError' });
      if (end > file.bytes.length) {
        const next = new Uint8Array(Math.max(end, file.bytes.length * 2));
        next.set(file.bytes.subarray(0, file.length));
        file.bytes = next;
      }
      if (end > file.length) file.length = end;
    };
    return Promise.resolve({
      read(buffer, { at }) {
        live();
        const n = Math.max(0, Math.min(buffer.length, file.length - at));
        buffer.set(file.bytes.subarray(at, at + n));
        return n;
      },
      write(buffer, { at }) {
        live();
        grow(at + buffer.length);
        file.bytes.set(buffer, at);
        return buffer.length;
      },
      truncate(size) {
        live();
        if (size > file.length) grow(size);
        else {
          file.bytes.fill(0, size, file.length);
          file.length = size;
        }
      },
      getSize: () => (live(), file.length),
      flush() {
        live();
        file.flushed = file.bytes.slice(0, file.length);
      },
      close() {
        closed = true;
        file.open = false;
      },
    });
  }

  readFile(name: string): Promise<Uint8Array> {
    const f = this.files.get(name);
    if (!f) return Promise.reject(new Error(`${name}: no such image in ${this.where}`));
    if (f.open) return Promise.reject(new Error(`${name}: the image is open elsewhere (another tab of the lab?)`));
    return Promise.resolve(f.bytes.slice(0, f.length));
  }

  remove(name: string): Promise<void> {
    const f = this.files.get(name);
    if (f?.open) return Promise.reject(new Error(`${name}: the image is open elsewhere`));
    this.files.delete(name);
    return Promise.resolve();
  }

  estimate(): Promise<StorageEstimate> {
    let usage = 0;
    for (const f of this.files.values()) usage += f.length;
    return Promise.resolve({ quota: this.quota, usage });
  }
}
