/**
 * Opening an image and its backing chain. The caller decides where backing names point
 * (a resolver callback): Node resolves them against the overlay's directory, the browser
 * against its OPFS folder. Bases are always opened read-only.
 */
import { ImageError, RawImage, type BlockImage, type ImageFormat } from './image';
import { Qcow2Image, createQcow2, isQcow2, readQcow2Header } from './qcow2';
import type { ByteStore } from './store';

/** What a resolver hands back for a backing name: an open store and a canonical key. */
export interface ResolvedStore {
  store: ByteStore;
  /** The image's canonical identity (a real path, an OPFS path): loops are found by it. */
  key: string;
  /** Display name (defaults to key). */
  name?: string;
}

/**
 * Find the backing file `backingName` recorded in image `from` (its key). Open the store
 * read-only. Return undefined if there is no such file.
 */
export type BackingResolver = (backingName: string, from: string) => ResolvedStore | undefined;

export interface OpenImageOptions {
  /** Display name for messages and info(). */
  name: string;
  /** Canonical identity for loop detection (defaults to name). */
  key?: string;
  /** 'auto' probes the magic (never do that for a guest-writable raw disk: the guest could write a qcow2 header). */
  format?: ImageFormat | 'auto';
  readOnly?: boolean;
  resolveBacking?: BackingResolver;
  /** Longest backing chain accepted (default 16). */
  maxDepth?: number;
}

export const MAX_CHAIN_DEPTH = 16;

export function probeFormat(store: ByteStore): ImageFormat {
  const head = new Uint8Array(4);
  store.read(0, head);
  return isQcow2(head) ? 'qcow2' : 'raw';
}

/**
 * Open an image and, for qcow2, its backing chain. Refusals are ImageErrors with one line;
 * on a refusal the backing stores the resolver opened are closed again, the caller's
 * `store` is left open (the caller closes it). On success the image owns every store.
 */
export function openImage(store: ByteStore, opts: OpenImageOptions): BlockImage {
  return openLayer(store, opts.name, opts.key ?? opts.name, opts.format ?? 'auto', opts.readOnly ?? store.readOnly, opts, new Set<string>(), 0);
}

function openLayer(
  store: ByteStore,
  name: string,
  key: string,
  format: ImageFormat | 'auto',
  readOnly: boolean,
  opts: OpenImageOptions,
  seen: Set<string>,
  depth: number,
): BlockImage {
  if (seen.has(key)) throw new ImageError(name, 'backing file loop');
  if (depth > (opts.maxDepth ?? MAX_CHAIN_DEPTH)) throw new ImageError(name, `backing chain deeper than ${opts.maxDepth ?? MAX_CHAIN_DEPTH}`);
  seen.add(key);
  const fmt = format === 'auto' ? probeFormat(store) : format;
  if (fmt === 'raw') return new RawImage(store, name, readOnly);
  const header = readQcow2Header(store, name);
  let backing: BlockImage | undefined;
  if (header.backingName !== undefined) {
    const bname = header.backingName;
    const bfmt = header.backingFormat;
    if (bfmt !== undefined && bfmt !== 'raw' && bfmt !== 'qcow2') throw new ImageError(name, `backing file format '${bfmt}' is not supported`);
    if (opts.resolveBacking === undefined) throw new ImageError(name, `has backing file '${bname}' and no way to find it`);
    const r = opts.resolveBacking(bname, key);
    if (r === undefined) throw new ImageError(name, `backing file '${bname}' not found`);
    try {
      backing = openLayer(r.store, r.name ?? r.key, r.key, bfmt ?? 'auto', true, opts, seen, depth + 1);
    } catch (e) {
      r.store.close();
      throw e;
    }
  }
  try {
    return new Qcow2Image(store, { name, readOnly, backing });
  } catch (e) {
    backing?.close();
    throw e;
  }
}

/** Make an empty qcow2 v3 overlay over `backing` (as qemu-img create -f qcow2 -b NAME -F FMT). */
export function createOverlay(store: ByteStore, backingName: string, backing: BlockImage, size: number = backing.size, clusterBits?: number): void {
  createQcow2(
    store,
    clusterBits === undefined ? { size, backingName, backingFormat: backing.format } : { size, backingName, backingFormat: backing.format, clusterBits },
  );
}
