/**
 * The database: a flat map from absolute path to node, which with each node's list of
 * children forms the tree. Every change takes the next store-wide generation, and the store
 * counts the nodes each domain owns (the first permission entry), for the node quota.
 *
 * The store itself never checks permissions or quotas and never fires watches: the
 * operations in ops.ts do, on a NodeView, which is either this store or a transaction's
 * overlay of it (transaction.ts). Only complete, checked changes reach the store.
 *
 * Initial contents, as C xenstored sets them up: the root "/", and the special nodes
 * @introduceDomain and @releaseDomain, which exist only to carry the permissions that
 * decide who sees those watch events. All three are owned by dom0 with no access for others.
 */
import { EMPTY_VALUE, nodeOwner, type XsNode, type XsNodeData } from './node';
import { XS_SPECIAL_PATHS, childPath } from './path';
import type { XsPerm } from './perms';
import { utf8String } from './utf8';

/** Read and change nodes; implemented by the store and by transaction overlays. */
export interface NodeView {
  get(path: string): XsNode | undefined;
  /** Create or replace the node at `path`; the caller keeps parents and children consistent. */
  set(path: string, data: XsNodeData): void;
  /** Remove the node at `path` alone (not its children). */
  delete(path: string): void;
  /** How many nodes `domid` owns in this view. */
  entries(domid: number): number;
}

/** The inspector's view of a node and its subtree. */
export interface XsTreeNode {
  readonly path: string;
  readonly name: string;
  /** The value as UTF-8 text (xenstore values are meant to be 7-bit ASCII). */
  readonly value: string;
  readonly perms: readonly XsPerm[];
  readonly generation: number;
  readonly children: readonly XsTreeNode[];
}

const ROOT_PERMS: readonly XsPerm[] = Object.freeze([{ domid: 0, perm: 'n' as const }]);

export class XsStore implements NodeView {
  private readonly nodes = new Map<string, XsNode>();
  private readonly owned = new Map<number, number>();
  private gen = 0;

  constructor() {
    this.set('/', { value: EMPTY_VALUE, perms: ROOT_PERMS, children: [] });
    for (const p of XS_SPECIAL_PATHS) this.set(p, { value: EMPTY_VALUE, perms: ROOT_PERMS, children: [] });
  }

  /** The generation of the latest change. */
  get generation(): number {
    return this.gen;
  }

  /**
   * A fresh generation for a node that is not in the store yet (in a transaction's
   * overlay); generations only need to be unique and increasing.
   */
  allocGeneration(): number {
    return ++this.gen;
  }

  /** Number of nodes, the special ones included. */
  get size(): number {
    return this.nodes.size;
  }

  get(path: string): XsNode | undefined {
    return this.nodes.get(path);
  }

  set(path: string, data: XsNodeData): void {
    this.account(this.nodes.get(path), -1);
    const node: XsNode = { value: data.value, perms: data.perms, children: data.children, generation: ++this.gen };
    this.nodes.set(path, node);
    this.account(node, 1);
  }

  delete(path: string): void {
    const old = this.nodes.get(path);
    if (!old) return;
    this.account(old, -1);
    this.nodes.delete(path);
    this.gen++;
  }

  entries(domid: number): number {
    return this.owned.get(domid) ?? 0;
  }

  /** Nodes owned per domain (domid -> count), for the inspector. */
  ownership(): ReadonlyMap<number, number> {
    return this.owned;
  }

  /** The subtree at `path` for the inspector, or undefined if there is no such node. */
  tree(path = '/'): XsTreeNode | undefined {
    const node = this.nodes.get(path);
    if (!node) return undefined;
    const children: XsTreeNode[] = [];
    for (const name of node.children) {
      const child = this.tree(childPath(path, name));
      if (child) children.push(child);
    }
    const name = path === '/' ? '/' : path.slice(path.lastIndexOf('/') + 1);
    return { path, name, value: utf8String(node.value), perms: node.perms, generation: node.generation, children };
  }

  private account(node: XsNode | undefined, delta: number): void {
    if (!node) return;
    const owner = nodeOwner(node);
    const n = (this.owned.get(owner) ?? 0) + delta;
    if (n === 0) this.owned.delete(owner);
    else this.owned.set(owner, n);
  }
}
