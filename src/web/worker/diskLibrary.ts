/**
 * The browser's disk images: files in one directory (OPFS `disks/`, opfsDir.ts) that the
 * Disks panel lists, creates, uploads, downloads and deletes, and that xl.cfg `disk = [...]`
 * and `xl block-attach` name; plus the images the site ships under guests/, fetched once
 * and held read-only in memory (never written: a domain writes a qcow2 overlay in OPFS
 * that names the shipped image as its backing file).
 *
 * The toolstack opens disks synchronously (ToolstackIo.openDisk, as libxl does), and OPFS
 * hands out access handles asynchronously. So a command that will attach disks first
 * `prepare`s them: the handles of the image and of its backing chain are opened (and the
 * shipped bases fetched), then the command runs and `openDisk` finds them. A handle no
 * store uses is closed after HANDLE_GRACE_MS, so a guest that reboots (destroyed and built
 * again in one task) finds its disk still open.
 *
 * Sharing, as QEMU's image locking does it: an image written by one domain cannot be
 * opened by another, and an image read by some (a base) cannot be written.
 *
 * Live migration between tabs (shared storage: one origin's OPFS): at the pause point the
 * source `handOver`s its domain's images (each handle flushed and closed, diskLibraryHandle.ts),
 * the target `prepare`s them, waiting a bounded time for the source to let go; if the
 * migration fails the source `takeBack`s them, and if it succeeds it `forget`s them.
 */
import { ImageError, RawImage, type BlockImage, type ImageFormat } from '../../core/block/image';
import { createOverlay, openImage, probeFormat, MAX_CHAIN_DEPTH, type ResolvedStore } from '../../core/block/open';
import { Qcow2Image, createQcow2, isQcow2, readQcow2Header } from '../../core/block/qcow2';
import { checkQcow2 } from '../../core/block/check';
import { checkByteStore } from '../../core/block/conformance';
import { MemoryStore, type ByteStore } from '../../core/block/store';
import type { DiskSpec } from '../../core/tools/xlDisk';
import type { DiskCreateRequest, DiskImageRow } from '../protocol/hvProtocol';
import { fsError, type FileDirectory } from './opfsDir';
import { FileStore, OpenFile, QuotaBudget, type SyncHandle } from './opfsStore';
import { MovableHandle } from './diskLibraryHandle';

export const HANDLE_GRACE_MS = 2000;
/**
 * Write-back: an image written since its last flush is flushed by the host within this
 * long, as a host's page cache writes dirty pages back within seconds. A guest that never
 * flushes (Linux's ext2 issues no flush on sync) would otherwise lose the qcow2 metadata
 * of its writes when the page is closed or reloaded, which ends the worker at once.
 */
export const WRITEBACK_MS = 1000;
/** How often a wait for a handle another tab holds tries again (prepare's and takeBack's `waitMs`). */
const HANDLE_RETRY_MS = 50;
/** Largest image the panel creates or takes (the image layer's offsets are doubles; the browser's quota is the real limit). */
export const MAX_IMAGE_BYTES = 2 ** 40;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
/** Shipped images: a path under the site's guests/ directory. */
const SHIPPED = /^(?:\/|public\/)?guests\//;

/** Fetches guests/FILE from the site (dom0Files.ts fetchGuestFrom). */
export type FetchShipped = (file: string) => Promise<Uint8Array>;

type Where = { kind: 'opfs'; name: string } | { kind: 'shipped'; file: string };

/** What a disk spec asks of the library: its image, and (xl.cfg `backing=`) the base of an overlay to make if it is missing. */
export interface DiskTarget {
  readonly target: string;
  readonly backing?: string;
}

const errorLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

export class DiskLibrary {
  private readonly open = new Map<string, OpenFile & { users: number; pins: number; timer?: ReturnType<typeof setTimeout> }>();
  private readonly shipped = new Map<string, Uint8Array>();
  private readonly budget = new QuotaBudget(0);
  /** Writable images open now, by their top store (the write-back's list). */
  private readonly writable = new Map<FileStore, BlockImage>();
  private writeback: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly dir: FileDirectory,
    private readonly fetchShipped: FetchShipped,
  ) {}

  /** Where the images are ("OPFS disks/"). */
  get location(): string {
    return this.dir.where;
  }

  /** The name a target is listed by (an image name, or guests/FILE), or undefined if it names none. */
  keyOf(target: string): string | undefined {
    try {
      const w = this.where(target);
      return w.kind === 'opfs' ? w.name : `guests/${w.file}`;
    } catch {
      return undefined;
    }
  }

  /** What a target names: an image in the directory (NAME, disks/NAME, /disks/NAME) or a shipped one (guests/...). */
  where(target: string): Where {
    const t = target.trim();
    if (SHIPPED.test(t)) return { kind: 'shipped', file: t.replace(SHIPPED, '') };
    const name = t.replace(/^\/?disks\//, '');
    if (!NAME.test(name)) throw new Error(`'${t.slice(0, 80)}' is not an image name (letters, digits, . _ -; at most 64; or guests/FILE for a shipped image)`);
    return { kind: 'opfs', name };
  }

  // ---- attach: prepare (async), then openDisk (sync) ---------------------------------

  /**
   * Open the handles (and fetch the shipped bases) that opening `disks` will need. A disk
   * with `backing=` whose image is missing gets its overlay made first (the Linux disk
   * presets; xlDisk.ts). Returns the release: call it once the command is over.
   */
  async prepare(disks: readonly (DiskTarget | string)[], waitMs = 0): Promise<() => void> {
    const pinned: string[] = [];
    const release = (): void => {
      for (const n of pinned.splice(0)) this.unpin(n);
    };
    try {
      await this.refreshQuota();
      for (const d of disks) {
        const { target, backing } = typeof d === 'string' ? { target: d, backing: undefined } : d;
        const w = this.where(target);
        if (backing !== undefined && w.kind === 'opfs' && !(await this.dir.has(w.name))) await this.create({ name: w.name, format: 'qcow2', backing });
        await this.prepareChain(target, pinned, new Set(), 0, waitMs);
      }
    } catch (e) {
      release();
      throw e;
    }
    return release;
  }

  private async prepareChain(target: string, pinned: string[], seen: Set<string>, depth: number, waitMs = 0): Promise<void> {
    const w = this.where(target);
    const key = w.kind === 'opfs' ? w.name : `guests/${w.file}`;
    // Loops and depth are the image layer's to report (open.ts): stop walking here.
    if (seen.has(key) || depth > MAX_CHAIN_DEPTH) return;
    seen.add(key);
    let store: ByteStore;
    if (w.kind === 'shipped') {
      store = new MemoryStore(await this.loadShipped(w.file), true);
    } else {
      await this.pin(w.name, false, waitMs);
      pinned.push(w.name);
      store = this.peekStore(w.name);
    }
    const head = new Uint8Array(4);
    store.read(0, head);
    if (!isQcow2(head)) return;
    let backing: string | undefined;
    try {
      backing = readQcow2Header(store, key).backingName;
    } catch {
      return; // a broken header is reported by the open, in its words
    }
    if (backing !== undefined) {
      try {
        await this.prepareChain(backing, pinned, seen, depth + 1, waitMs);
      } catch (e) {
        throw new ImageError(key, `backing file '${backing}': ${errorLine(e)}`);
      }
    }
  }

  /** ToolstackIo.openDisk: the image a disk spec names, with its chain (prepared first). */
  openDisk(spec: DiskSpec): BlockImage {
    const w = this.where(spec.target);
    const readOnly = spec.access === 'ro' || w.kind === 'shipped';
    const top = this.resolve(spec.target, readOnly, spec.target);
    try {
      const image = openImage(top.store, {
        name: top.name ?? top.key,
        key: top.key,
        format: spec.format,
        readOnly,
        resolveBacking: (name) => {
          try {
            return this.resolve(name, true, name);
          } catch (e) {
            if (e instanceof ImageError || /open elsewhere|written by/.test(errorLine(e))) throw e;
            return undefined;
          }
        },
      });
      if (!readOnly && top.store instanceof FileStore) this.watch(top.store, image);
      return image;
    } catch (e) {
      top.store.close();
      throw e;
    }
  }

  /** Flush a writable image within WRITEBACK_MS of a write (its store says so), until it is closed. */
  private watch(store: FileStore, image: BlockImage): void {
    this.writable.set(store, image);
    this.writeback ??= setInterval(() => {
      for (const [s, img] of this.writable) {
        if (!s.dirty) continue;
        try {
          img.flush();
        } catch {
          // The guest's next request or flush meets the same error and reports it.
        }
      }
    }, WRITEBACK_MS);
  }

  private unwatch(store: FileStore): void {
    if (!this.writable.delete(store) || this.writable.size > 0 || this.writeback === undefined) return;
    clearInterval(this.writeback);
    this.writeback = undefined;
  }

  /** A store for `target`, whose handle `prepare` opened. */
  private resolve(target: string, readOnly: boolean, shown: string): ResolvedStore {
    const w = this.where(target);
    if (w.kind === 'shipped') {
      const bytes = this.shipped.get(w.file);
      if (!bytes) throw new Error(`${shown}: not fetched (prepare the disk first)`);
      return { store: new MemoryStore(bytes, true), key: `guests/${w.file}`, name: `guests/${w.file}` };
    }
    const f = this.open.get(w.name);
    if (!f || f.closed) throw new Error(`${shown}: not opened (prepare the disk first)`);
    if (!readOnly && f.users > 0) throw new ImageError(w.name, 'is in use by another disk (an image is written by one domain at a time)');
    if (readOnly && f.writers > 0) throw new ImageError(w.name, 'is written by a domain: it cannot be read by another one as well');
    f.users++;
    if (!readOnly) f.writers++;
    if (f.timer !== undefined) clearTimeout(f.timer);
    let done = false;
    const store: FileStore = new FileStore(f, readOnly, () => {
      if (done) return;
      done = true;
      this.unwatch(store);
      f.users--;
      if (!readOnly) f.writers--;
      this.maybeClose(w.name);
    });
    return { store, key: w.name, name: w.name };
  }

  // ---- migration between tabs: hand the handles over, take them back ----------------

  /**
   * The OPFS files a domain's disks stand on (`targets`: each disk's image), its backing
   * chains included, each with the number of the domain's stores on it.
   */
  private chains(targets: readonly string[]): Map<string, number> {
    const uses = new Map<string, number>();
    const walk = (target: string, depth: number): void => {
      const w = this.where(target);
      if (w.kind !== 'opfs' || depth > MAX_CHAIN_DEPTH) return;
      const f = this.open.get(w.name);
      if (!f || f.closed) return;
      uses.set(w.name, (uses.get(w.name) ?? 0) + 1);
      const store = this.peekStore(w.name);
      const head = new Uint8Array(4);
      store.read(0, head);
      if (!isQcow2(head)) return;
      const backing = readQcow2Header(store, w.name).backingName;
      if (backing !== undefined) walk(backing, depth + 1);
    };
    for (const t of targets) walk(t, 0);
    return uses;
  }

  /**
   * At a migration's pause point (the domain paused, its disks quiesced and flushed): flush
   * and close the handles of the files its disks stand on, so that another tab can open
   * them. Their names go into `given` as they go (for `takeBack` or `forget`, even when this
   * throws). A file another domain of this tab uses as well (a shared base) cannot move:
   * refused in one line before anything is given up.
   */
  handOver(targets: readonly string[], given: string[]): void {
    const uses = this.chains(targets);
    for (const [name, n] of uses) {
      const f = this.open.get(name)!;
      if (f.users > n) throw new Error(`${name}: another domain of this tab uses the image too; it cannot move to another tab`);
      if (!(f.handle instanceof MovableHandle)) throw new Error(`${name}: internal: the handle cannot be handed over`);
    }
    for (const name of uses.keys()) {
      given.push(name);
      try {
        (this.open.get(name)!.handle as MovableHandle).giveUp();
      } catch (e) {
        throw new Error(`handing disk ${name} over failed: ${errorLine(e)}`, { cause: e });
      }
    }
  }

  /** The migration failed: open the files again (waiting up to `waitMs` for the other tab to let go) under the same stores. */
  async takeBack(names: readonly string[], waitMs: number): Promise<void> {
    for (const name of names) {
      const f = this.open.get(name);
      if (!f || !(f.handle instanceof MovableHandle) || !f.handle.away) continue;
      const h = await this.openWaiting(name, false, waitMs);
      f.handle.takeBack(h);
      f.length = h.getSize();
    }
  }

  /**
   * The migration succeeded and the source's domain is destroyed (the other tab runs it): drop
   * the files' entries, whose handles are closed already. One a store still uses (none should)
   * is left to close with it.
   */
  forget(names: readonly string[]): void {
    for (const name of names) {
      const f = this.open.get(name);
      if (!f || !(f.handle instanceof MovableHandle) || !f.handle.away || f.users > 0) continue;
      if (f.timer !== undefined) clearTimeout(f.timer);
      f.close();
      this.open.delete(name);
    }
  }

  /** Close now, without the grace period, every handle nobody uses (a receiver whose build failed: the sender takes its images back). */
  dropIdle(): void {
    for (const [name, f] of [...this.open]) {
      if (f.users > 0 || f.pins > 0) continue;
      if (f.timer !== undefined) clearTimeout(f.timer);
      f.close();
      this.open.delete(name);
    }
  }

  /** Whether this tab holds a handle on image `name` now (given up ones do not count). */
  holds(name: string): boolean {
    const f = this.open.get(name);
    return f !== undefined && !f.closed && !(f.handle instanceof MovableHandle && f.handle.away);
  }

  // ---- the panel's operations ------------------------------------------------------

  async list(): Promise<{ images: DiskImageRow[]; quota: number; usage: number }> {
    const names = await this.dir.names();
    const images: DiskImageRow[] = [];
    for (const name of names) {
      if (!NAME.test(name)) continue;
      images.push(await this.describe(name));
    }
    const e = await this.dir.estimate();
    return { images, quota: e.quota, usage: e.usage };
  }

  /** One image's row; a broken image is listed with its error. */
  async describe(name: string): Promise<DiskImageRow> {
    const f = this.open.get(name);
    const base = { name, users: f && !f.closed ? f.users : 0 };
    try {
      await this.pin(name);
    } catch (e) {
      return { ...base, format: 'raw', virtualSize: 0, fileSize: 0, allocatedBytes: 0, backing: null, error: errorLine(e) };
    }
    const store = this.peekStore(name);
    try {
      const format: ImageFormat = probeFormat(store);
      const img = format === 'qcow2' ? new Qcow2Image(store, { name, readOnly: true }) : new RawImage(store, name, true);
      const i = img.info();
      return {
        ...base,
        format,
        virtualSize: i.virtualSize,
        fileSize: i.fileSize,
        allocatedBytes: i.allocatedBytes,
        backing: i.backingName ?? null,
        error: null,
      };
    } catch (e) {
      return { ...base, format: 'qcow2', virtualSize: 0, fileSize: store.size, allocatedBytes: 0, backing: null, error: errorLine(e) };
    } finally {
      this.unpin(name);
    }
  }

  /** Create an image: raw (zeros), qcow2 (empty), or a qcow2 overlay over `backing` (an image here or a shipped one). */
  async create(req: DiskCreateRequest): Promise<DiskImageRow> {
    const w = this.where(req.name);
    if (w.kind !== 'opfs') throw new Error(`${req.name}: shipped images are read-only; create an image with a plain name`);
    const name = w.name;
    if (await this.dir.has(name)) throw new Error(`${name}: an image of that name exists already`);
    if (req.format !== 'raw' && req.format !== 'qcow2') throw new Error(`format '${String(req.format)}': raw or qcow2`);
    if (req.size !== undefined && (!Number.isSafeInteger(req.size) || req.size <= 0 || req.size > MAX_IMAGE_BYTES)) {
      throw new Error(`size ${String(req.size)}: a whole number of bytes, 1 to ${MAX_IMAGE_BYTES}`);
    }
    if (req.backing !== undefined && req.format !== 'qcow2') throw new Error('only a qcow2 image can have a backing file');
    if (req.backing === undefined && req.size === undefined) throw new Error('size: give the image a size');
    await this.refreshQuota();
    let backingImage: BlockImage | undefined;
    let release = (): void => {};
    if (req.backing !== undefined) {
      release = await this.prepare([req.backing]);
      try {
        backingImage = this.openDisk({
          target: req.backing,
          format: await this.formatOf(req.backing),
          vdev: 'xvda',
          devid: 51712,
          access: 'ro',
          devtype: 'disk',
        });
      } catch (e) {
        release();
        throw e;
      }
    }
    const size = Math.ceil((req.size ?? backingImage!.size) / 512) * 512;
    if (req.format === 'raw') this.budget.spend(name, size); // checked before the file exists
    try {
      await this.pin(name, true);
    } catch (e) {
      backingImage?.close();
      release();
      throw e;
    }
    const store = this.peekStore(name, false);
    try {
      if (req.format === 'raw') {
        this.budget.give(size);
        store.truncate(size);
      } else if (backingImage)
        createOverlay(store, this.where(req.backing!).kind === 'shipped' ? req.backing!.replace(/^\//, '') : req.backing!, backingImage, size);
      else createQcow2(store, { size });
      store.flush();
    } catch (e) {
      store.close();
      await this.discard(name);
      throw new Error(`${name}: ${errorLine(e)}`, { cause: e });
    } finally {
      backingImage?.close();
      release();
    }
    store.close();
    this.unpin(name);
    return this.describe(name);
  }

  /** Keep `bytes` as image `name`, if the image layer opens it (and, for qcow2, its refcounts check out). */
  async upload(name: string, bytes: Uint8Array): Promise<DiskImageRow> {
    const w = this.where(name);
    if (w.kind !== 'opfs') throw new Error(`${name}: uploads get a plain name`);
    if (await this.dir.has(w.name)) throw new Error(`${w.name}: an image of that name exists already (delete it first)`);
    await this.validate(w.name, bytes);
    await this.refreshQuota();
    this.budget.spend(w.name, bytes.length);
    this.budget.give(bytes.length); // the store charges it again as it writes
    await this.pin(w.name, true);
    const store = this.peekStore(w.name, false);
    try {
      store.write(0, bytes);
      store.flush();
    } catch (e) {
      store.close();
      await this.discard(w.name);
      throw e;
    }
    store.close();
    this.unpin(w.name);
    return this.describe(w.name);
  }

  private async validate(name: string, bytes: Uint8Array): Promise<void> {
    const store = new MemoryStore(bytes, true);
    if (!isQcow2(bytes.subarray(0, 4))) {
      if (bytes.length % 512 !== 0) throw new ImageError(name, `a raw image is whole 512-byte sectors (this file is ${bytes.length} bytes)`);
      return;
    }
    const h = readQcow2Header(store, name);
    let release = (): void => {};
    if (h.backingName !== undefined) release = await this.prepare([h.backingName]);
    try {
      const img = openImage(store, { name, format: 'qcow2', readOnly: true, resolveBacking: (b) => this.resolveOrUndefined(b) });
      img.close();
      const c = checkQcow2(new MemoryStore(bytes, true), name);
      if (c.errors.length > 0) throw new ImageError(name, `corrupt qcow2 image: ${c.errors[0]}`);
    } finally {
      release();
    }
  }

  private resolveOrUndefined(target: string): ResolvedStore | undefined {
    try {
      return this.resolve(target, true, target);
    } catch {
      return undefined;
    }
  }

  /** The image's bytes (through its handle when a domain has it open: what it wrote so far). */
  async download(name: string): Promise<Uint8Array> {
    const w = this.where(name);
    if (w.kind === 'shipped') return (await this.loadShipped(w.file)).slice();
    await this.pin(w.name);
    try {
      const store = this.peekStore(w.name);
      const out = new Uint8Array(store.size);
      store.read(0, out);
      return out;
    } finally {
      this.unpin(w.name);
    }
  }

  /** Delete an image no domain uses. */
  async remove(name: string): Promise<void> {
    const w = this.where(name);
    if (w.kind !== 'opfs') throw new Error(`${name}: shipped images cannot be deleted`);
    const f = this.open.get(w.name);
    if (f && !f.closed && (f.users > 0 || f.pins > 0)) throw new Error(`${w.name}: attached to a domain (detach it or destroy the domain first)`);
    if (!(await this.dir.has(w.name))) throw new Error(`${w.name}: no such image in ${this.dir.where}`);
    await this.discard(w.name);
  }

  /**
   * Run the image layer's ByteStore rules (conformance.ts) on a scratch file of this
   * directory, through the same store the disks use, then open the file again with a new
   * handle and check what stayed. On OPFS this checks the browser's access handles
   * themselves (reads past the end, the zeros of a gap, truncate, flush, a reopen).
   */
  async selfCheck(): Promise<string> {
    const name = '.byte-store-check'; // not an image name: never listed
    const started = Date.now();
    await this.dir.remove(name).catch(() => {});
    const file = new OpenFile(name, await this.dir.openSync(name, true), new QuotaBudget(64 << 20));
    try {
      checkByteStore(() => new FileStore(file, false, () => file.close()));
    } finally {
      file.close();
    }
    const again = new OpenFile(name, await this.dir.openSync(name, false), new QuotaBudget(0));
    try {
      const s = new FileStore(again, true, () => {});
      if (s.size !== 4 << 20) throw new Error(`ByteStore: a reopened store keeps its size (${s.size})`);
      const back = new Uint8Array(1 << 20);
      s.read(3 << 20, back);
      for (let i = 0; i < back.length; i++) if (back[i] !== ((i * 7) & 0xff)) throw new Error(`ByteStore: a reopened store keeps its bytes (byte ${i})`);
      let refused = false;
      try {
        s.write(0, new Uint8Array(1));
      } catch {
        refused = true;
      }
      if (!refused) throw new Error('ByteStore: a read-only store refuses writes');
    } finally {
      again.close();
      await this.dir.remove(name).catch(() => {});
    }
    return `the ByteStore rules hold in ${this.dir.where} (${Date.now() - started} ms)`;
  }

  /** Whether the directory has image `name`. */
  has(name: string): Promise<boolean> {
    return this.dir.has(name);
  }

  /** Names of images some domain has open now. */
  inUse(name: string): boolean {
    const f = this.open.get(name);
    return f !== undefined && !f.closed && f.users > 0;
  }

  // ---- handles ----------------------------------------------------------------------

  private async pin(name: string, create = false, waitMs = 0): Promise<void> {
    let f = this.open.get(name);
    if (!f || f.closed) {
      const handle = new MovableHandle(name, await this.openWaiting(name, create, waitMs));
      const again = this.open.get(name); // another call opened it meanwhile
      if (again && !again.closed) {
        handle.close();
        f = again;
      } else {
        f = Object.assign(new OpenFile(name, handle, this.budget), { users: 0, pins: 0 });
        this.open.set(name, f);
      }
    }
    if (f.timer !== undefined) clearTimeout(f.timer);
    f.pins++;
  }

  /** The file's handle; if another tab holds it, tried again for up to `waitMs` (a migration's source letting go). */
  private async openWaiting(name: string, create: boolean, waitMs: number): Promise<SyncHandle> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        return await this.dir.openSync(name, create);
      } catch (e) {
        if (!/open elsewhere/.test(errorLine(e))) throw e;
        if (Date.now() >= deadline) {
          if (waitMs > 0)
            throw new Error(`${name}: the image is still open elsewhere after ${(waitMs / 1000).toFixed(0)} s (another tab of the lab holds it)`, {
              cause: e,
            });
          throw e;
        }
        await new Promise((r) => setTimeout(r, HANDLE_RETRY_MS));
      }
    }
  }

  private unpin(name: string): void {
    const f = this.open.get(name);
    if (!f) return;
    f.pins = Math.max(0, f.pins - 1);
    this.maybeClose(name);
  }

  /** A store on a pinned file that does not count as a user (the library's own reads and writes). */
  private peekStore(name: string, readOnly = true): FileStore {
    return new FileStore(this.open.get(name)!, readOnly, () => {});
  }

  private maybeClose(name: string): void {
    const f = this.open.get(name);
    if (!f || f.users > 0 || f.pins > 0) return;
    if (f.timer !== undefined) clearTimeout(f.timer);
    f.timer = setTimeout(() => {
      if (f.users > 0 || f.pins > 0) return;
      f.close();
      if (this.open.get(name) === f) this.open.delete(name);
    }, HANDLE_GRACE_MS);
  }

  /** Close a file's handle now and remove the file. */
  private async discard(name: string): Promise<void> {
    const f = this.open.get(name);
    if (f) {
      if (f.timer !== undefined) clearTimeout(f.timer);
      f.close();
      this.open.delete(name);
    }
    try {
      await this.dir.remove(name);
    } catch (e) {
      throw fsError(this.dir.where, name, e);
    }
  }

  private async refreshQuota(): Promise<void> {
    const e = await this.dir.estimate();
    this.budget.remaining = Math.max(0, e.quota - e.usage);
  }

  private async loadShipped(file: string): Promise<Uint8Array> {
    let bytes = this.shipped.get(file);
    if (!bytes) {
      bytes = await gunzipIfGzip(await this.fetchShipped(file));
      this.shipped.set(file, bytes);
    }
    return bytes;
  }

  private async formatOf(target: string): Promise<'raw' | 'qcow2'> {
    const w = this.where(target);
    if (w.kind === 'shipped') return isQcow2((await this.loadShipped(w.file)).subarray(0, 4)) ? 'qcow2' : 'raw';
    return probeFormat(this.peekStore(w.name)) === 'qcow2' ? 'qcow2' : 'raw';
  }
}

/** Shipped images may be stored gzip-compressed (RFC 1952 magic 1f 8b); they are held inflated. */
async function gunzipIfGzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
