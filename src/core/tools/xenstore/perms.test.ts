import { describe, expect, it } from 'vitest';
import { XenstoreError } from './errors';
import { formatPerm, inheritPerms, parsePerm, permFor, type XsCaller, type XsPerm } from './perms';

const dom = (domid: number, target?: number): XsCaller => ({ domid, privileged: domid === 0, target });
const perms = (...s: string[]): XsPerm[] => s.map(parsePerm);

describe('xenstore permissions', () => {
  it('parses and formats w/r/b/n<domid>', () => {
    expect(parsePerm('b12')).toEqual({ domid: 12, perm: 'b' });
    expect(formatPerm({ domid: 3, perm: 'n' })).toBe('n3');
    for (const bad of ['', 'x1', 'r', 'r-1', 'r65536', 'rr1', 'r1 ']) expect(() => parsePerm(bad)).toThrow(XenstoreError);
  });

  it("gives the owner everything and others the first entry's access", () => {
    const p = perms('r5');
    expect(permFor(dom(5), p)).toEqual({ read: true, write: true, owner: true });
    expect(permFor(dom(6), p)).toEqual({ read: true, write: false, owner: false });
    expect(permFor(dom(6), perms('n5'))).toEqual({ read: false, write: false, owner: false });
  });

  it('lets a later entry for the caller override the default', () => {
    const p = perms('n5', 'w6', 'b7');
    expect(permFor(dom(6), p)).toMatchObject({ read: false, write: true });
    expect(permFor(dom(7), p)).toMatchObject({ read: true, write: true, owner: false });
    expect(permFor(dom(8), p)).toMatchObject({ read: false, write: false });
  });

  it('lets dom0 bypass, and a SET_TARGET stand-in act as the owner', () => {
    expect(permFor(dom(0), perms('n5'))).toEqual({ read: true, write: true, owner: true });
    expect(permFor(dom(9, 5), perms('n5'))).toEqual({ read: true, write: true, owner: true });
    expect(permFor(dom(9, 6), perms('n5', 'r6'))).toMatchObject({ read: true, write: false });
  });

  it('makes unprivileged creators the owners of what they create', () => {
    expect(inheritPerms(dom(4), perms('r0', 'b4'))).toEqual(perms('r4', 'b4'));
    expect(inheritPerms(dom(0), perms('r3', 'b4'))).toEqual(perms('r3', 'b4'));
  });
});
