/**
 * Watches (xenstore.txt WATCH/WATCH_EVENT). Every change to the store is an event on a
 * path: creation, change of value, removal or change of permissions. A watch on <wpath>
 * matches the events on <wpath> and everything below it; the recursive removal of a parent
 * of <wpath> reaches it too, and is reported with <wpath> as the event path. Changes made
 * in a transaction become events when it commits. Special paths (@introduceDomain,
 * @releaseDomain) match only the events xenstored invents for them.
 *
 * Like C xenstored, an unprivileged domain is told only about nodes it may read: an event
 * carries the permissions of the node before and/or after the change (for removals, the
 * removed node's), and one of them must grant it read access.
 */
import { xsFail } from './errors';
import { isChildPath, parentPath, relativeTo } from './path';
import { permFor, type XsCaller, type XsPerm } from './perms';

/** One event on the store: what changed, and who may hear about it. */
export interface XsChange {
  /** Absolute path of the changed node, or a special @ path. */
  readonly path: string;
  /** Permission lists of the node around the change; reading under any one suffices. */
  readonly perms: readonly (readonly XsPerm[])[];
  /**
   * RM only: every removed node (path -> its permissions). Watches below `path` fire too,
   * with their own path, if the nearest removed node at or above them was readable.
   */
  readonly removed?: ReadonlyMap<string, readonly XsPerm[]> | undefined;
}

export interface XsWatch {
  /** Absolute path, or a special @ path. */
  readonly path: string;
  /** The client's token, as bytes in a binary (latin1) string. */
  readonly token: string;
  /** Given as a relative path: event paths are reported relative to the domain's home. */
  readonly relative: boolean;
}

/**
 * The (absolute) event path that watch `w` of `caller` reports for `change`, or undefined
 * if the watch does not match or the caller may not know about the change.
 */
export function matchWatch(w: XsWatch, change: XsChange, caller: XsCaller): string | undefined {
  if (isChildPath(change.path, w.path)) return canRead(caller, change.perms) ? change.path : undefined;
  const removed = change.removed;
  if (!removed || !isChildPath(w.path, change.path)) return undefined;
  // Walk up from the watched path to the nearest removed node (change.path at the latest).
  let p = w.path;
  while (!removed.has(p) && p !== '/') p = parentPath(p);
  const perms = removed.get(p);
  return perms && canRead(caller, [perms]) ? w.path : undefined;
}

function canRead(caller: XsCaller, perms: readonly (readonly XsPerm[])[]): boolean {
  return caller.privileged || perms.some((p) => permFor(caller, p).read);
}

/** The path as a watch reports it to its owner (relative watches get relative paths). */
export function eventPath(w: XsWatch, path: string, domid: number): string {
  return w.relative ? relativeTo(path, domid) : path;
}

/** The watches of one connection. */
export class XsWatchList implements Iterable<XsWatch> {
  private readonly list: XsWatch[] = [];

  get size(): number {
    return this.list.length;
  }

  has(path: string, token: string): boolean {
    return this.list.some((x) => x.path === path && x.token === token);
  }

  /** Add a watch; the same path and token twice is EEXIST. */
  add(w: XsWatch): void {
    if (this.has(w.path, w.token)) xsFail('EEXIST');
    this.list.push(w);
  }

  /** Remove the watch with this absolute path and token; ENOENT if there is none. */
  remove(path: string, token: string): void {
    const i = this.list.findIndex((x) => x.path === path && x.token === token);
    if (i < 0) xsFail('ENOENT');
    this.list.splice(i, 1);
  }

  clear(): void {
    this.list.length = 0;
  }

  [Symbol.iterator](): Iterator<XsWatch> {
    return this.list.slice()[Symbol.iterator]();
  }
}
