import { describe, expect, it } from 'vitest';
import { XenstoreError, type XsErrno } from './errors';
import { doDirectory, doGetPerms, doMkdir, doRead, doRm, doSetPerms, doWrite, type XsOpContext } from './ops';
import { parsePerm, type XsCaller } from './perms';
import { XS_DEFAULT_QUOTA, type XsQuota } from './quota';
import { XsStore } from './store';
import { NodeOverlay } from './transaction';
import type { XsChange } from './watch';
import { utf8Bytes, utf8String } from './wire';

const DOM0: XsCaller = { domid: 0, privileged: true };
const dom = (domid: number): XsCaller => ({ domid, privileged: false });

function setup(quota: Partial<XsQuota> = {}) {
  const store = new XsStore();
  const q = { ...XS_DEFAULT_QUOTA, ...quota };
  /** Run an op atomically, as the dispatcher does; returns its watch events. */
  const run = (caller: XsCaller, op: (ctx: XsOpContext) => void): XsChange[] => {
    const view = new NodeOverlay(store, () => store.allocGeneration());
    const changes: XsChange[] = [];
    op({ view, caller, quota: q, changes });
    view.applyTo(store);
    return changes;
  };
  const write = (c: XsCaller, p: string, v: string) => run(c, (ctx) => doWrite(ctx, p, utf8Bytes(v)));
  const read = (c: XsCaller, p: string) => {
    let v = '';
    run(c, (ctx) => {
      v = utf8String(doRead(ctx, p));
    });
    return v;
  };
  const ls = (c: XsCaller, p: string) => {
    let v: readonly string[] = [];
    run(c, (ctx) => {
      v = doDirectory(ctx, p).children;
    });
    return v;
  };
  const setPerms = (c: XsCaller, p: string, ...perms: string[]) => run(c, (ctx) => doSetPerms(ctx, p, perms.map(parsePerm)));
  const perms = (c: XsCaller, p: string) => {
    let v: string[] = [];
    run(c, (ctx) => {
      v = doGetPerms(ctx, p).map((x) => x.perm + x.domid);
    });
    return v;
  };
  /** A home for `domid` as the toolstack makes one: owned by it, readable by dom0 only. */
  const home = (domid: number) => {
    write(DOM0, `/local/domain/${domid}`, '');
    setPerms(DOM0, `/local/domain/${domid}`, `n${domid}`);
  };
  return { store, run, write, read, ls, setPerms, perms, home };
}

function errno(f: () => unknown): XsErrno | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof XenstoreError) return e.errno;
    throw e;
  }
  return undefined;
}

describe('xenstore operations: the tree', () => {
  it('WRITE creates missing parents with empty values; READ and DIRECTORY see them', () => {
    const s = setup();
    s.write(DOM0, '/a/b/c', 'hello');
    expect(s.read(DOM0, '/a/b/c')).toBe('hello');
    expect(s.read(DOM0, '/a/b')).toBe('');
    expect(s.ls(DOM0, '/')).toEqual(['a']);
    s.write(DOM0, '/a/z', '1');
    s.write(DOM0, '/a/m', '2');
    expect(s.ls(DOM0, '/a')).toEqual(['b', 'z', 'm']); // creation order, as C xenstored
    expect(errno(() => s.read(DOM0, '/nope'))).toBe('ENOENT');
    expect(errno(() => s.read(DOM0, '/a/'))).toBe('EINVAL');
  });

  it('MKDIR creates, and leaves an existing node alone', () => {
    const s = setup();
    s.write(DOM0, '/a', 'keep');
    expect(s.run(DOM0, (ctx) => doMkdir(ctx, '/a'))).toEqual([]);
    expect(s.read(DOM0, '/a')).toBe('keep');
    s.run(DOM0, (ctx) => doMkdir(ctx, '/x/y'));
    expect(s.ls(DOM0, '/x')).toEqual(['y']);
  });

  it('RM removes the subtree; a missing node is fine only if its parent exists', () => {
    const s = setup();
    s.write(DOM0, '/a/b/c', '1');
    s.write(DOM0, '/a/d', '2');
    const size = s.store.size;
    const ch = s.run(DOM0, (ctx) => doRm(ctx, '/a/b'));
    expect(ch[0]?.removed && [...ch[0].removed.keys()].sort()).toEqual(['/a/b', '/a/b/c']);
    expect(s.store.size).toBe(size - 2);
    expect(s.ls(DOM0, '/a')).toEqual(['d']);
    expect(s.run(DOM0, (ctx) => doRm(ctx, '/a/b'))).toEqual([]);
    expect(errno(() => s.run(DOM0, (ctx) => doRm(ctx, '/a/b/c')))).toBe('ENOENT');
    expect(errno(() => s.run(DOM0, (ctx) => doRm(ctx, '/')))).toBe('EINVAL');
  });

  it("resolves relative paths against the caller's home", () => {
    const s = setup();
    s.home(3);
    s.write(dom(3), 'name', 'guest');
    expect(s.read(DOM0, '/local/domain/3/name')).toBe('guest');
    expect(s.read(dom(3), 'name')).toBe('guest');
  });

  it('keeps the tree for the inspector', () => {
    const s = setup();
    s.write(DOM0, '/vm/x', 'é');
    const t = s.store.tree()!;
    expect(t.path).toBe('/');
    expect(t.children[0]).toMatchObject({ path: '/vm', name: 'vm', value: '' });
    expect(t.children[0]!.children[0]).toMatchObject({ path: '/vm/x', value: 'é', perms: [{ domid: 0, perm: 'n' }] });
    expect(s.store.tree('/nope')).toBeUndefined();
  });
});

describe('xenstore operations: permissions', () => {
  it("denies reads and writes of another domain's nodes", () => {
    const s = setup();
    s.home(1);
    s.home(2);
    s.write(dom(2), 'secret', 'x');
    expect(errno(() => s.read(dom(1), '/local/domain/2/secret'))).toBe('EACCES');
    expect(errno(() => s.write(dom(1), '/local/domain/2/secret', 'y'))).toBe('EACCES');
    expect(errno(() => s.ls(dom(1), '/local/domain/2'))).toBe('EACCES');
    expect(errno(() => s.run(dom(1), (ctx) => doRm(ctx, '/local/domain/2/secret')))).toBe('EACCES');
    expect(s.read(dom(2), 'secret')).toBe('x');
    expect(s.read(DOM0, '/local/domain/2/secret')).toBe('x');
  });

  it('says EACCES, not ENOENT, about missing nodes below what the caller may not access', () => {
    const s = setup();
    s.home(1);
    s.home(2);
    expect(errno(() => s.read(dom(1), '/local/domain/2/missing'))).toBe('EACCES');
    expect(errno(() => s.read(dom(1), '/local/domain/1/missing'))).toBe('ENOENT');
    expect(errno(() => s.write(dom(1), '/local/domain/2/new/deep', 'x'))).toBe('EACCES');
    expect(errno(() => s.write(dom(1), '/toplevel', 'x'))).toBe('EACCES');
  });

  it('lets a domain create below a node it may write, and makes it the owner', () => {
    const s = setup();
    s.write(DOM0, '/local/domain/0/backend/vif/5/0/state', '1');
    s.setPerms(DOM0, '/local/domain/0/backend/vif/5/0', 'n0', 'b5');
    s.write(dom(5), '/local/domain/0/backend/vif/5/0/feature', '1');
    expect(s.perms(DOM0, '/local/domain/0/backend/vif/5/0/feature')).toEqual(['n5', 'b5']);
    expect(s.store.entries(5)).toBe(1);
  });

  it('SET_PERMS needs ownership; only dom0 gives nodes away; at most 5 entries', () => {
    const s = setup();
    s.home(1);
    s.home(2);
    s.write(dom(1), 'x', '');
    s.setPerms(dom(1), 'x', 'n1', 'r2');
    expect(s.read(dom(2), '/local/domain/1/x')).toBe('');
    expect(errno(() => s.setPerms(dom(2), '/local/domain/1/x', 'b2'))).toBe('EACCES');
    expect(errno(() => s.setPerms(dom(1), 'x', 'b2'))).toBe('EPERM');
    expect(errno(() => s.setPerms(dom(1), 'x', 'n1', 'r2', 'r3', 'r4', 'r5', 'r6'))).toBe('ENOSPC');
    s.setPerms(DOM0, '/local/domain/1/x', 'b2', 'r3', 'r4', 'r5', 'r6', 'r7');
    expect(s.perms(DOM0, '/local/domain/1/x')).toEqual(['b2', 'r3', 'r4', 'r5', 'r6', 'r7']);
    expect(errno(() => s.setPerms(DOM0, '/local/domain/1/x'))).toBe('EINVAL');
  });

  it('GET_PERMS and SET_PERMS work on the special nodes, for dom0', () => {
    const s = setup();
    expect(s.perms(DOM0, '@releaseDomain')).toEqual(['n0']);
    s.setPerms(DOM0, '@releaseDomain', 'n0', 'r3');
    expect(s.perms(dom(3), '@releaseDomain')).toEqual(['n0', 'r3']);
    expect(errno(() => s.read(DOM0, '@releaseDomain'))).toBe('EINVAL');
  });
});

describe('xenstore operations: quotas', () => {
  it('limits the nodes a domain owns (ENOSPC), and an op that fails changes nothing', () => {
    const s = setup({ nodesPerDomain: 4 });
    s.home(1);
    s.write(dom(1), 'a', '');
    s.write(dom(1), 'b', '');
    s.write(dom(1), 'c', '');
    expect(s.store.entries(1)).toBe(4); // the home is owned by dom1 too
    const before = s.store.size;
    expect(errno(() => s.write(dom(1), 'd/e', ''))).toBe('ENOSPC');
    expect(s.store.size).toBe(before);
    expect(s.ls(DOM0, '/local/domain/1')).toEqual(['a', 'b', 'c']);
    s.write(DOM0, '/local/domain/1/byDom0', ''); // dom0 is never limited
  });

  it("has C xenstored's default of 1000 nodes per domain", () => {
    const s = setup();
    s.home(1);
    // Spread over directories: one directory's list of children is bounded by the node size.
    for (let i = 1; i <= 989; i++) s.write(dom(1), `d${i % 10}/n${i}`, '');
    expect(s.store.entries(1)).toBe(1000); // home + 10 directories + 989 leaves
    expect(errno(() => s.write(dom(1), 'd1/one-more', ''))).toBe('ENOSPC');
  });

  it("bounds a directory by the node size: its children's names count", () => {
    const s = setup();
    s.home(1);
    let i = 0;
    const e = errno(() => {
      for (; i < 1000; i++) s.write(dom(1), `dir/child-number-${i}`, '');
    });
    expect(e).toBe('ENOSPC');
    expect(i).toBeGreaterThan(50);
    expect(i).toBeLessThan(150);
  });

  it('limits the size of a node record (2048 bytes with header, perms and children)', () => {
    const s = setup();
    s.home(1);
    s.write(dom(1), 'v', 'x'.repeat(2048 - 24 - 8 - 1));
    expect(errno(() => s.write(dom(1), 'v', 'x'.repeat(2048 - 24 - 8)))).toBe('ENOSPC');
    s.write(DOM0, '/local/domain/1/v', 'x'.repeat(4000));
    expect(s.read(dom(1), 'v').length).toBe(4000);
  });
});
