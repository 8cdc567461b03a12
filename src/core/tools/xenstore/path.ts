/**
 * Xenstore paths (docs/misc/xenstore.txt). Paths are /-separated and absolute; a path
 * without a leading / is relative to the caller's home, /local/domain/<domid>. Allowed
 * characters are ASCII alphanumerics and -/_@; doubled and trailing slashes (except the
 * root itself) and the empty path are forbidden; a path is at most XENSTORE_ABS_PATH_MAX
 * bytes. As in C xenstored, an unprivileged domain's path is also limited to
 * XENSTORE_REL_PATH_MAX bytes after /local/domain/<domid>/ (quota "path-max"). Paths that
 * start with @ name special watches (@introduceDomain, @releaseDomain) and are never nodes
 * of the tree.
 */
import { xsFail } from './errors';

export const XENSTORE_ABS_PATH_MAX = 3072;
export const XENSTORE_REL_PATH_MAX = 2048;

export const XS_INTRODUCE_DOMAIN = '@introduceDomain';
export const XS_RELEASE_DOMAIN = '@releaseDomain';
export const XS_SPECIAL_PATHS: readonly string[] = [XS_INTRODUCE_DOMAIN, XS_RELEASE_DOMAIN];

const VALID_CHARS = /^[A-Za-z0-9\-/_@]+$/;
const LOCAL_DOMAIN = /^\/local\/domain\/\d{1,5}\//;

/** The home of a domain, where its relative paths point: /local/domain/<domid>. */
export function domainPath(domid: number): string {
  return `/local/domain/${domid}`;
}

/** Make `path` absolute for `domid` (Xen's canonicalize): / and @ paths are left alone. */
export function canonicalize(path: string, domid: number): string {
  if (path.startsWith('/') || path.startsWith('@')) return path;
  return `${domainPath(domid)}/${path}`;
}

/** Whether `path` is a valid absolute node path (Xen's is_valid_nodename, without quota). */
export function isValidNodePath(path: string): boolean {
  if (path.length === 0 || path.length > XENSTORE_ABS_PATH_MAX) return false;
  if (!path.startsWith('/')) return false;
  if (path === '/') return true;
  if (path.endsWith('/') || path.includes('//')) return false;
  return VALID_CHARS.test(path);
}

/**
 * Check an absolute node path, throwing EINVAL. `relMax` is the caller's path-max quota
 * (unprivileged callers only): the length of the path after /local/domain/<domid>/ (or
 * the whole path elsewhere) may not exceed it.
 */
export function checkNodePath(path: string, relMax?: number): void {
  if (!isValidNodePath(path)) xsFail('EINVAL', `invalid path ${JSON.stringify(path.slice(0, 80))}`);
  if (relMax !== undefined) {
    const m = LOCAL_DOMAIN.exec(path);
    const localOff = m ? m[0].length : 0;
    if (path.length - localOff > relMax) xsFail('EINVAL', 'path too long');
  }
}

/**
 * Check and canonicalize a watch path: a special @ path (any syntax, at most
 * XENSTORE_REL_PATH_MAX bytes) or a node path. Returns the absolute path and whether the
 * watch was given relative (its events are then reported relative too).
 */
export function checkWatchPath(path: string, domid: number, relMax?: number): { path: string; relative: boolean } {
  if (path.startsWith('@')) {
    if (path.length > XENSTORE_REL_PATH_MAX) xsFail('EINVAL', 'special path too long');
    return { path, relative: false };
  }
  const abs = canonicalize(path, domid);
  checkNodePath(abs, relMax);
  return { path: abs, relative: !path.startsWith('/') };
}

/** The parent of an absolute path ("/" for top-level nodes). The root has no parent. */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The last component of an absolute path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Join a parent path and a child name. */
export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/**
 * xenstore.txt's "child": `child` is `parent` itself, or below it. Special paths match
 * only themselves (and @releaseDomain/<domid> style extensions below them).
 */
export function isChildPath(child: string, parent: string): boolean {
  if (child === parent) return true;
  if (parent === '/') return child.startsWith('/');
  return child.startsWith(parent + '/');
}

/** Strip the caller's home from an absolute path, for relative watches. */
export function relativeTo(path: string, domid: number): string {
  const home = domainPath(domid) + '/';
  return path.startsWith(home) ? path.slice(home.length) : path;
}
