/**
 * The store operations of xenstored (xenstored_core.c do_read, do_write, do_mkdir, do_rm,
 * send_directory, do_get_perms, do_set_perms), on a NodeView, for one caller. They check
 * paths, permissions and quotas, keep parents and children consistent, and append the
 * watch events they cause to `changes`. They throw XenstoreError; the caller runs them on
 * an overlay and keeps its changes only on success, so each request is atomic.
 *
 * Errors follow C xenstored. A missing node is ENOENT, a node the caller may not access
 * EACCES; but, so that errors do not reveal what a caller cannot see, either becomes EACCES
 * unless the nearest existing ancestor grants the access asked for (errno_from_parents).
 * WRITE and MKDIR create missing nodes, parents included, when that ancestor grants write.
 */
import { xsFail, XenstoreError } from './errors';
import { EMPTY_VALUE, nodeOwner, nodeSize, type XsNode, type XsNodeData } from './node';
import { baseName, canonicalize, checkNodePath, childPath, parentPath } from './path';
import { inheritPerms, permFor, type XsAccess, type XsCaller, type XsPerm } from './perms';
import type { XsQuota } from './quota';
import type { NodeView } from './store';
import type { XsChange } from './watch';

export interface XsOpContext {
  readonly view: NodeView;
  readonly caller: XsCaller;
  readonly quota: Readonly<XsQuota>;
  /** Watch events caused by the operation, appended in order. */
  readonly changes: XsChange[];
}

type Need = 'read' | 'write' | 'owner';

/** Canonicalize and check a path from `caller`; special @ paths only if `allowSpecial`. */
export function resolvePath(ctx: XsOpContext, path: string, allowSpecial = false): string {
  const abs = canonicalize(path, ctx.caller.domid);
  if (abs.startsWith('@')) {
    if (!allowSpecial) xsFail('EINVAL', 'special path');
    return abs;
  }
  checkNodePath(abs, ctx.caller.privileged ? undefined : ctx.quota.pathMax);
  return abs;
}

function allows(a: XsAccess, need: Need): boolean {
  return need === 'owner' ? a.owner && a.write : a[need];
}

/** The node at absolute `path` if `caller` has `need` access to it (Xen's get_node). */
export function getNode(ctx: XsOpContext, path: string, need: Need): XsNode {
  const node = ctx.view.get(path);
  if (node && allows(permFor(ctx.caller, node.perms), need)) return node;
  const errno = node ? 'EACCES' : 'ENOENT';
  // errno_from_parents: ENOENT only if the nearest existing ancestor grants the access.
  let p = path.startsWith('@') ? '/' : parentPath(path);
  let parent = ctx.view.get(p);
  while (!parent && p !== '/') {
    p = parentPath(p);
    parent = ctx.view.get(p);
  }
  const granted = parent ? allows(permFor(ctx.caller, parent.perms), need === 'owner' ? 'write' : need) : false;
  return xsFail(granted ? errno : 'EACCES');
}

function checkSize(ctx: XsOpContext, data: XsNodeData): void {
  if (!ctx.caller.privileged && nodeSize(data) >= ctx.quota.nodeSize) xsFail('ENOSPC', 'node too big');
}

/** getNode, or undefined when the node is missing and could be created by the caller. */
function getOrMissing(ctx: XsOpContext, path: string, need: Need): XsNode | undefined {
  try {
    return getNode(ctx, path, need);
  } catch (e) {
    if (e instanceof XenstoreError && e.errno === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Create the node at `path` with `value`, and its missing parents with empty values
 * (construct_node). New nodes inherit their parent's permissions; an unprivileged creator
 * becomes the owner, and pays for them in its node quota.
 */
function createNode(ctx: XsOpContext, path: string, value: Uint8Array): XsNode {
  const { view, caller, quota } = ctx;
  const missing: string[] = [path];
  let parentName = parentPath(path);
  let parent = view.get(parentName);
  while (!parent) {
    missing.push(parentName);
    parentName = parentPath(parentName);
    parent = view.get(parentName);
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    const name = missing[i]!;
    if (!caller.privileged && view.entries(caller.domid) >= quota.nodesPerDomain) xsFail('ENOSPC', 'node quota');
    const grown: XsNodeData = { value: parent.value, perms: parent.perms, children: [...parent.children, baseName(name)] };
    checkSize(ctx, grown);
    view.set(parentName, grown);
    const data: XsNodeData = { value: i === 0 ? value : EMPTY_VALUE, perms: inheritPerms(caller, parent.perms), children: [] };
    checkSize(ctx, data);
    view.set(name, data);
    parentName = name;
    parent = view.get(name)!;
  }
  return parent;
}

export function doRead(ctx: XsOpContext, path: string): Uint8Array {
  return getNode(ctx, resolvePath(ctx, path), 'read').value;
}

/** The children's names and the node's generation (DIRECTORY, DIRECTORY_PART). */
export function doDirectory(ctx: XsOpContext, path: string): { children: readonly string[]; generation: number } {
  const node = getNode(ctx, resolvePath(ctx, path), 'read');
  return { children: node.children, generation: node.generation };
}

export function doGetPerms(ctx: XsOpContext, path: string): readonly XsPerm[] {
  return getNode(ctx, resolvePath(ctx, path, true), 'read').perms;
}

export function doWrite(ctx: XsOpContext, path: string, value: Uint8Array): void {
  const abs = resolvePath(ctx, path);
  const node = getOrMissing(ctx, abs, 'write');
  if (node) {
    const data: XsNodeData = { value, perms: node.perms, children: node.children };
    checkSize(ctx, data);
    ctx.view.set(abs, data);
    ctx.changes.push({ path: abs, perms: [node.perms] });
  } else {
    const created = createNode(ctx, abs, value);
    ctx.changes.push({ path: abs, perms: [created.perms] });
  }
}

export function doMkdir(ctx: XsOpContext, path: string): void {
  const abs = resolvePath(ctx, path);
  if (getOrMissing(ctx, abs, 'write')) return; // it exists: fine, and nothing changes
  const created = createNode(ctx, abs, EMPTY_VALUE);
  ctx.changes.push({ path: abs, perms: [created.perms] });
}

/** Remove `path` and its subtree. A missing node is fine if its parent exists. */
export function doRm(ctx: XsOpContext, path: string): void {
  const abs = resolvePath(ctx, path);
  if (abs === '/') xsFail('EINVAL', 'cannot remove the root');
  const node = getOrMissing(ctx, abs, 'write');
  const parentName = parentPath(abs);
  const parent = ctx.view.get(parentName);
  if (!node) {
    if (parent) return;
    return xsFail('ENOENT');
  }
  const removed = new Map<string, readonly XsPerm[]>();
  const stack: string[] = [abs];
  while (stack.length > 0) {
    const p = stack.pop()!;
    const n = ctx.view.get(p);
    if (!n) continue;
    removed.set(p, n.perms);
    for (const c of n.children) stack.push(childPath(p, c));
    ctx.view.delete(p);
  }
  if (parent) {
    const name = baseName(abs);
    ctx.view.set(parentName, { value: parent.value, perms: parent.perms, children: parent.children.filter((c) => c !== name) });
  }
  ctx.changes.push({ path: abs, perms: [node.perms], removed });
}

export function doSetPerms(ctx: XsOpContext, path: string, perms: readonly XsPerm[]): void {
  const { caller, quota } = ctx;
  const abs = resolvePath(ctx, path, true);
  if (perms.length === 0) xsFail('EINVAL', 'no permissions');
  if (!caller.privileged && perms.length > quota.permsPerNode) xsFail('ENOSPC', 'too many permissions');
  const node = getNode(ctx, abs, 'owner');
  if (!caller.privileged && perms[0]!.domid !== nodeOwner(node)) xsFail('EPERM', 'only dom0 changes owners');
  const data: XsNodeData = { value: node.value, perms, children: node.children };
  checkSize(ctx, data);
  ctx.view.set(abs, data);
  if (!abs.startsWith('@')) ctx.changes.push({ path: abs, perms: [node.perms, perms] });
}
