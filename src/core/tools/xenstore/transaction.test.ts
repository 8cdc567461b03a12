import { describe, expect, it } from 'vitest';
import { XenstoreError } from './errors';
import { doDirectory, doRead, doRm, doWrite, type XsOpContext } from './ops';
import type { XsCaller } from './perms';
import { XS_DEFAULT_QUOTA } from './quota';
import { XsStore, type NodeView } from './store';
import { NodeOverlay, XsTransaction } from './transaction';
import { utf8Bytes, utf8String } from './wire';

const DOM0: XsCaller = { domid: 0, privileged: true };

function setup() {
  const store = new XsStore();
  const gen = () => store.allocGeneration();
  const on = (view: NodeView, op: (ctx: XsOpContext) => void) => {
    const o = new NodeOverlay(view, gen);
    op({ view: o, caller: DOM0, quota: XS_DEFAULT_QUOTA, changes: [] });
    o.applyTo(view);
  };
  const write = (view: NodeView, p: string, v: string) => on(view, (ctx) => doWrite(ctx, p, utf8Bytes(v)));
  const read = (view: NodeView, p: string) => {
    let v = '';
    on(view, (ctx) => {
      v = utf8String(doRead(ctx, p));
    });
    return v;
  };
  const tx = (max = Infinity) => new XsTransaction(store, 1, max, gen);
  return { store, write, read, on, tx };
}

describe('xenstore transactions', () => {
  it('read their own writes and change the store only on commit', () => {
    const s = setup();
    s.write(s.store, '/a', 'old');
    const t = s.tx();
    s.write(t, '/a', 'new');
    s.write(t, '/b/c', 'made');
    expect(s.read(t, '/a')).toBe('new');
    expect(s.read(s.store, '/a')).toBe('old');
    expect(s.store.get('/b')).toBeUndefined();
    expect(t.conflicts()).toBe(false);
    t.commit();
    expect(s.read(s.store, '/a')).toBe('new');
    expect(s.read(s.store, '/b/c')).toBe('made');
  });

  it('conflict when a node they read changed since', () => {
    const s = setup();
    s.write(s.store, '/a', '1');
    const t = s.tx();
    s.read(t, '/a');
    s.write(s.store, '/a', '2');
    expect(t.conflicts()).toBe(true);
  });

  it('conflict when a node they wrote changed, or one they found missing appeared', () => {
    const s = setup();
    s.write(s.store, '/w', '1');
    const t1 = s.tx();
    s.write(t1, '/w', 'mine');
    s.write(s.store, '/w', 'theirs');
    expect(t1.conflicts()).toBe(true);

    const t2 = s.tx();
    expect(() => s.read(t2, '/missing')).toThrow(XenstoreError);
    s.write(s.store, '/missing', 'now');
    expect(t2.conflicts()).toBe(true);
  });

  it('do not conflict with changes to nodes they never touched', () => {
    const s = setup();
    s.write(s.store, '/x/a', '1');
    s.write(s.store, '/y/b', '1');
    const t = s.tx();
    s.read(t, '/x/a');
    s.write(t, '/x/a', '2');
    s.write(s.store, '/y/b', '2');
    s.write(s.store, '/y/c', '3');
    expect(t.conflicts()).toBe(false);
  });

  it('conflict when a directory they listed got a new child', () => {
    const s = setup();
    s.write(s.store, '/dir/a', '');
    const t = s.tx();
    s.on(t, (ctx) => doDirectory(ctx, '/dir'));
    s.write(s.store, '/dir/b', '');
    expect(t.conflicts()).toBe(true);
  });

  it('conflict when a node they read was removed and made again', () => {
    const s = setup();
    s.write(s.store, '/n', 'v');
    const t = s.tx();
    s.read(t, '/n');
    s.on(s.store, (ctx) => doRm(ctx, '/n'));
    s.write(s.store, '/n', 'v');
    expect(t.conflicts()).toBe(true);
  });

  it('touch at most maxNodes nodes (ENOSPC)', () => {
    const s = setup();
    for (let i = 0; i < 5; i++) s.write(s.store, `/n${i}`, '');
    const t = s.tx(3);
    s.read(t, '/n0');
    s.read(t, '/n1');
    s.read(t, '/n2');
    s.read(t, '/n0'); // already touched: free
    expect(() => s.read(t, '/n3')).toThrow(expect.objectContaining({ errno: 'ENOSPC' }));
    expect(t.touched).toBe(3);
  });

  it('count node ownership in their own view', () => {
    const s = setup();
    const t = s.tx();
    s.write(t, '/p/q', '');
    expect(t.entries(0)).toBe(s.store.entries(0) + 2);
  });
});
