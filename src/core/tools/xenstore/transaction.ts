/**
 * Transactions, with conflict detection per node generation (as C xenstored has done since
 * Xen 4.9, and oxenstored): a transaction is an overlay of the store that remembers, for
 * every node it read or wrote, the generation the node had in the store when first touched
 * (or that it was absent). Reads see the transaction's own writes, then the store.
 * TRANSACTION_END T commits if every remembered node still has that generation, so that
 * the transaction's reads and writes are as if it ran alone at the moment of the commit;
 * otherwise the client gets EAGAIN and retries. A change to a node's children changes its
 * generation, so listing a directory conflicts with a concurrent creation in it.
 *
 * There is no copy of the store: a transaction holds only what it touched. It may touch at
 * most `maxNodes` nodes (quota nodesPerTransaction, ENOSPC), like C xenstored.
 *
 * NodeOverlay alone (without the bookkeeping) also makes each single request atomic: an
 * operation runs on an overlay that is applied only if the whole operation succeeds.
 */
import { xsFail } from './errors';
import { nodeOwner, type XsNode, type XsNodeData } from './node';
import type { NodeView, XsStore } from './store';
import type { XsChange } from './watch';

/** The generation remembered for a node that did not exist. */
export const ABSENT = -1;

export class NodeOverlay implements NodeView {
  /** path -> the new node, or null when deleted; in the order of first change. */
  protected readonly writes = new Map<string, XsNode | null>();
  private readonly delta = new Map<number, number>();

  constructor(
    protected readonly parent: NodeView,
    private readonly nextGeneration: () => number,
  ) {}

  get(path: string): XsNode | undefined {
    if (this.writes.has(path)) return this.writes.get(path) ?? undefined;
    this.touch(path);
    return this.parent.get(path);
  }

  set(path: string, data: XsNodeData): void {
    this.account(this.get(path), -1);
    const node: XsNode = { value: data.value, perms: data.perms, children: data.children, generation: this.nextGeneration() };
    this.writes.set(path, node);
    this.account(node, 1);
  }

  delete(path: string): void {
    this.account(this.get(path), -1);
    this.writes.set(path, null);
  }

  entries(domid: number): number {
    return this.parent.entries(domid) + (this.delta.get(domid) ?? 0);
  }

  /** Whether anything was changed. */
  get dirty(): boolean {
    return this.writes.size > 0;
  }

  /** Write the changes through to `target` (normally the parent). */
  applyTo(target: NodeView): void {
    for (const [path, node] of this.writes) {
      if (node) target.set(path, node);
      else target.delete(path);
    }
  }

  /** Called before a node is first read or written through to the parent. */
  protected touch(_path: string): void {}

  private account(node: XsNode | undefined, d: number): void {
    if (!node) return;
    const owner = nodeOwner(node);
    this.delta.set(owner, (this.delta.get(owner) ?? 0) + d);
  }
}

export class XsTransaction extends NodeOverlay {
  /** path -> generation in the store when first touched, or ABSENT. */
  private readonly accessed = new Map<string, number>();
  /** Watch events to fire if and when the transaction commits. */
  readonly changes: XsChange[] = [];

  constructor(
    private readonly store: XsStore,
    readonly id: number,
    private readonly maxNodes: number,
    nextGeneration: () => number,
  ) {
    super(store, nextGeneration);
  }

  /** Nodes read or written so far. */
  get touched(): number {
    return this.accessed.size;
  }

  /** Whether a commit since the first touch changed a node this transaction touched. */
  conflicts(): boolean {
    for (const [path, gen] of this.accessed) {
      if ((this.store.get(path)?.generation ?? ABSENT) !== gen) return true;
    }
    return false;
  }

  /** Apply the transaction to the store. The caller checked conflicts() first. */
  commit(): void {
    this.applyTo(this.store);
  }

  protected override touch(path: string): void {
    if (this.accessed.has(path)) return;
    if (this.accessed.size >= this.maxNodes) xsFail('ENOSPC', 'too many nodes in transaction');
    this.accessed.set(path, this.store.get(path)?.generation ?? ABSENT);
  }
}
