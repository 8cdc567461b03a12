/**
 * A xenstore subtree as `xenstore-ls -p` would print it, folded: each node with children
 * has a button that opens and closes it (the first levels start open). Read-only.
 */
import { useState, type ReactElement } from 'react';
import type { XsTreeNode } from '../../../core/tools/xenstore/store';

const OPEN_DEPTH = 3;

function perms(n: XsTreeNode): string {
  return n.perms.map((p) => `${p.perm}${p.domid}`).join(',');
}

function count(n: XsTreeNode): number {
  return 1 + n.children.reduce((a, c) => a + count(c), 0);
}

interface NodeProps {
  readonly node: XsTreeNode;
  readonly depth: number;
  readonly open: ReadonlyMap<string, boolean>;
  readonly toggle: (path: string, open: boolean) => void;
}

function XsNodeView({ node, depth, open, toggle }: NodeProps): ReactElement {
  const isOpen = open.get(node.path) ?? depth < OPEN_DEPTH;
  const leaf = node.children.length === 0;
  return (
    <li data-testid="xs-node" data-path={node.path} data-value={node.value}>
      <div className="xs-line">
        {leaf ? (
          <span className="xs-toggle" aria-hidden="true" />
        ) : (
          <button
            type="button"
            className="xs-toggle"
            aria-expanded={isOpen}
            aria-label={`${isOpen ? 'Close' : 'Open'} ${node.path}`}
            onClick={() => toggle(node.path, !isOpen)}
          >
            {isOpen ? '▾' : '▸'}
          </button>
        )}
        <span className="xs-name">{node.name}</span>
        {node.value !== '' || leaf ? <span className="xs-value"> = "{node.value}"</span> : null}
        <span className="xs-perms muted" title="permissions: owner first (n none, r read, w write, b both)">
          {' '}
          ({perms(node)})
        </span>
        {!leaf && !isOpen ? <span className="muted"> {count(node) - 1} below</span> : null}
      </div>
      {!leaf && isOpen ? (
        <ul>
          {node.children.map((c) => (
            <XsNodeView key={c.path} node={c} depth={depth + 1} open={open} toggle={toggle} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}

export function XenstoreTree({ tree }: { readonly tree: XsTreeNode | null }): ReactElement {
  const [open, setOpen] = useState<ReadonlyMap<string, boolean>>(new Map());
  const toggle = (path: string, value: boolean): void => setOpen((m) => new Map(m).set(path, value));
  return (
    <section className="inspect-section" aria-labelledby="xs-title">
      <h3 id="xs-title">
        xenstore <span className="muted">{tree ? `${tree.path} (${count(tree)} nodes)` : ''}</span>
      </h3>
      {tree ? (
        <ul className="xs-tree" data-testid="xenstore-tree">
          <XsNodeView node={tree} depth={0} open={open} toggle={toggle} />
        </ul>
      ) : (
        <p className="muted" data-testid="xenstore-empty">
          No xenstore nodes for this domain: the toolstack writes them for pv domains, and an hvm domain has no PV channel to read them.
        </p>
      )}
    </section>
  );
}
