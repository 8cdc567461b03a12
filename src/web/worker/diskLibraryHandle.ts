/**
 * An image file's access handle that can be given up and taken back while the stores on it
 * stay: what a live migration between tabs needs at its pause point. OPFS hands out one
 * synchronous access handle per file (createSyncAccessHandle takes an exclusive lock; File
 * System Standard), so the target tab can open a disk only once the source has closed it.
 * The source's domain is paused and its backends quiesced by then (live/send.ts), so nothing
 * reads or writes; if the migration fails, a new handle is opened and the domain runs on with
 * the same images, its qcow2 caches and all, as if nothing had happened.
 */
import type { SyncHandle } from './opfsStore';

export class MovableHandle implements SyncHandle {
  private inner: SyncHandle | null;

  constructor(
    readonly name: string,
    handle: SyncHandle,
  ) {
    this.inner = handle;
  }

  /** Given up (to another tab) and not taken back. */
  get away(): boolean {
    return this.inner === null;
  }

  read(buffer: Uint8Array, options: { at: number }): number {
    return this.live().read(buffer, options);
  }

  write(buffer: Uint8Array, options: { at: number }): number {
    return this.live().write(buffer, options);
  }

  truncate(size: number): void {
    this.live().truncate(size);
  }

  getSize(): number {
    return this.live().getSize();
  }

  /** Given up, there is nothing to flush: the handle was flushed as it went, and nothing was written since. */
  flush(): void {
    this.inner?.flush();
  }

  close(): void {
    const h = this.inner;
    this.inner = null;
    h?.close();
  }

  /** Flush and close the handle (another tab may open the file now); the stores on it fail until `takeBack`. */
  giveUp(): void {
    const h = this.inner;
    if (!h) return;
    this.inner = null;
    try {
      h.flush();
    } finally {
      h.close();
    }
  }

  takeBack(handle: SyncHandle): void {
    if (this.inner) throw new Error(`${this.name}: the handle is held already`);
    this.inner = handle;
  }

  private live(): SyncHandle {
    if (!this.inner) throw new Error(`${this.name}: the image was handed to another tab (migration)`);
    return this.inner;
  }
}
