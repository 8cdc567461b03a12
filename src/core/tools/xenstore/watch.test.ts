import { describe, expect, it } from 'vitest';
import { XenstoreError } from './errors';
import { parsePerm, type XsCaller } from './perms';
import { eventPath, matchWatch, XsWatchList, type XsChange, type XsWatch } from './watch';

const DOM0: XsCaller = { domid: 0, privileged: true };
const dom = (domid: number): XsCaller => ({ domid, privileged: false });
const w = (path: string, relative = false): XsWatch => ({ path, token: 't', relative });
const change = (path: string, perms = ['b0']): XsChange => ({ path, perms: [perms.map(parsePerm)] });

describe('xenstore watch matching', () => {
  it('matches the path and everything below it', () => {
    expect(matchWatch(w('/a'), change('/a'), DOM0)).toBe('/a');
    expect(matchWatch(w('/a'), change('/a/b/c'), DOM0)).toBe('/a/b/c');
    expect(matchWatch(w('/a/b'), change('/a'), DOM0)).toBeUndefined();
    expect(matchWatch(w('/a'), change('/ab'), DOM0)).toBeUndefined();
    expect(matchWatch(w('/'), change('/x'), DOM0)).toBe('/x');
  });

  it('reports the recursive removal of a parent with the watched path', () => {
    const removed = new Map([
      ['/a', [parsePerm('b0')]],
      ['/a/b', [parsePerm('b0')]],
    ]);
    const rm: XsChange = { path: '/a', perms: [[parsePerm('b0')]], removed };
    expect(matchWatch(w('/a/b/c/d'), rm, DOM0)).toBe('/a/b/c/d');
    expect(matchWatch(w('/a'), rm, DOM0)).toBe('/a');
    expect(matchWatch(w('/z'), rm, DOM0)).toBeUndefined();
  });

  it('tells unprivileged domains only about nodes they may read', () => {
    expect(matchWatch(w('/a'), change('/a/x', ['n0']), dom(1))).toBeUndefined();
    expect(matchWatch(w('/a'), change('/a/x', ['n0', 'r1']), dom(1))).toBe('/a/x');
    expect(matchWatch(w('/a'), change('/a/x', ['n1']), dom(1))).toBe('/a/x');
    const removed = new Map([
      ['/a', [parsePerm('n0')]],
      ['/a/mine', [parsePerm('n1')]],
    ]);
    const rm: XsChange = { path: '/a', perms: [[parsePerm('n0')]], removed };
    expect(matchWatch(w('/a/mine/x'), rm, dom(1))).toBe('/a/mine/x');
    expect(matchWatch(w('/a/other'), rm, dom(1))).toBeUndefined();
  });

  it('matches special paths only by themselves', () => {
    expect(matchWatch(w('@releaseDomain'), change('@releaseDomain'), DOM0)).toBe('@releaseDomain');
    expect(matchWatch(w('@releaseDomain'), change('@introduceDomain'), DOM0)).toBeUndefined();
    expect(matchWatch(w('/'), change('@introduceDomain'), DOM0)).toBeUndefined();
  });

  it('reports relative watches relatively', () => {
    expect(eventPath(w('/local/domain/3/device', true), '/local/domain/3/device/vif', 3)).toBe('device/vif');
    expect(eventPath(w('/local/domain/3/device'), '/local/domain/3/device/vif', 3)).toBe('/local/domain/3/device/vif');
  });

  it('keeps one watch per path and token', () => {
    const l = new XsWatchList();
    l.add(w('/a'));
    expect(() => l.add(w('/a'))).toThrow(XenstoreError);
    l.add({ ...w('/a'), token: 'u' });
    expect(l.size).toBe(2);
    l.remove('/a', 't');
    expect(() => l.remove('/a', 't')).toThrow(expect.objectContaining({ errno: 'ENOENT' }));
    expect([...l].map((x) => x.token)).toEqual(['u']);
  });
});
