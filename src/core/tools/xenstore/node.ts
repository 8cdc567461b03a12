/**
 * A node of the store: a value (bytes, usually 7-bit ASCII), an ordered list of child names
 * (in creation order, as C xenstored keeps them), the permission list and a generation:
 * the store-wide modification count at the node's last change. Transactions detect
 * conflicts by comparing generations, and DIRECTORY_PART reports it as <gencnt>.
 *
 * Nodes are immutable: a change replaces the node (with a new generation).
 */
import type { XsPerm } from './perms';
import { XS_NODE_HEADER_SIZE, XS_NODE_PERM_SIZE } from './quota';

export interface XsNodeData {
  readonly value: Uint8Array;
  readonly perms: readonly XsPerm[];
  readonly children: readonly string[];
}

export interface XsNode extends XsNodeData {
  readonly generation: number;
}

export function nodeOwner(n: XsNodeData): number {
  return n.perms[0]?.domid ?? 0;
}

/** Size of the node's record, as C xenstored measures it for the node-size quota. */
export function nodeSize(n: XsNodeData): number {
  let childLen = 0;
  for (const c of n.children) childLen += c.length + 1;
  return XS_NODE_HEADER_SIZE + n.perms.length * XS_NODE_PERM_SIZE + n.value.length + childLen;
}

export const EMPTY_VALUE = new Uint8Array(0);
