import { describe, expect, it } from 'vitest';
import { XenstoreError } from './errors';
import {
  baseName,
  canonicalize,
  checkNodePath,
  checkWatchPath,
  childPath,
  isChildPath,
  isValidNodePath,
  parentPath,
  relativeTo,
  XENSTORE_ABS_PATH_MAX,
} from './path';

describe('xenstore paths', () => {
  it('makes relative paths relative to /local/domain/<domid>', () => {
    expect(canonicalize('device/vif/0', 3)).toBe('/local/domain/3/device/vif/0');
    expect(canonicalize('/vm', 3)).toBe('/vm');
    expect(canonicalize('@releaseDomain', 3)).toBe('@releaseDomain');
  });

  it('accepts alphanumerics and -/_@ only, no empty, doubled or trailing slashes', () => {
    for (const ok of ['/', '/a', '/local/domain/0/name', '/a-b_c@d/E9']) expect(isValidNodePath(ok)).toBe(true);
    for (const bad of ['', 'a', '/a/', '//a', '/a//b', '/a b', '/a.b', '/a\0', '/ä', '/a:b']) expect(isValidNodePath(bad)).toBe(false);
  });

  it('limits absolute paths to XENSTORE_ABS_PATH_MAX', () => {
    const max = '/' + 'a'.repeat(XENSTORE_ABS_PATH_MAX - 1);
    expect(isValidNodePath(max)).toBe(true);
    expect(isValidNodePath(max + 'a')).toBe(false);
  });

  it('limits the part below /local/domain/<domid>/ for unprivileged callers (path-max)', () => {
    const long = '/local/domain/7/' + 'x'.repeat(100);
    expect(() => checkNodePath(long, 100)).not.toThrow();
    expect(() => checkNodePath(long + 'x', 100)).toThrow(XenstoreError);
    expect(() => checkNodePath('/' + 'x'.repeat(101), 100)).toThrow(/too long/);
    expect(() => checkNodePath(long + 'x')).not.toThrow();
  });

  it('checks watch paths: special @ paths pass with any syntax, node paths are validated', () => {
    expect(checkWatchPath('@releaseDomain', 1)).toEqual({ path: '@releaseDomain', relative: false });
    expect(checkWatchPath('@any thing', 1).path).toBe('@any thing');
    expect(checkWatchPath('backend', 2)).toEqual({ path: '/local/domain/2/backend', relative: true });
    expect(() => checkWatchPath('/a/', 0)).toThrow(XenstoreError);
  });

  it('has parent, base name, child and "is a child of" as xenstore.txt defines', () => {
    expect(parentPath('/a/b/c')).toBe('/a/b');
    expect(parentPath('/a')).toBe('/');
    expect(baseName('/a/b/c')).toBe('c');
    expect(childPath('/', 'a')).toBe('/a');
    expect(childPath('/a', 'b')).toBe('/a/b');
    expect(isChildPath('/a/b', '/a')).toBe(true);
    expect(isChildPath('/a', '/a')).toBe(true);
    expect(isChildPath('/ab', '/a')).toBe(false);
    expect(isChildPath('/x', '/')).toBe(true);
    expect(isChildPath('@releaseDomain', '/')).toBe(false);
    expect(relativeTo('/local/domain/4/device/vbd', 4)).toBe('device/vbd');
    expect(relativeTo('/vm/x', 4)).toBe('/vm/x');
  });
});
