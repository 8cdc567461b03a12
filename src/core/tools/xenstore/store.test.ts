import { describe, expect, it } from 'vitest';
import { EMPTY_VALUE, nodeSize } from './node';
import { parsePerm } from './perms';
import { XsStore } from './store';

const data = (owner: number, children: string[] = []) => ({ value: EMPTY_VALUE, perms: [parsePerm(`n${owner}`)], children });

describe('xenstore database', () => {
  it('starts with the root and the special nodes, owned by dom0 with no access for others', () => {
    const s = new XsStore();
    expect(s.size).toBe(3);
    for (const p of ['/', '@introduceDomain', '@releaseDomain']) expect(s.get(p)?.perms).toEqual([{ domid: 0, perm: 'n' }]);
    expect(s.entries(0)).toBe(3);
  });

  it('gives every change a new, higher generation', () => {
    const s = new XsStore();
    s.set('/a', data(0));
    const g1 = s.get('/a')!.generation;
    s.set('/a', data(0));
    expect(s.get('/a')!.generation).toBeGreaterThan(g1);
    expect(s.generation).toBe(s.get('/a')!.generation);
    expect(s.allocGeneration()).toBeGreaterThan(s.generation - 1);
  });

  it('counts nodes per owner, following changes of owner and removals', () => {
    const s = new XsStore();
    s.set('/a', data(3));
    s.set('/b', data(3));
    expect(s.entries(3)).toBe(2);
    s.set('/b', data(4));
    expect([s.entries(3), s.entries(4)]).toEqual([1, 1]);
    s.delete('/a');
    s.delete('/a');
    expect(s.entries(3)).toBe(0);
    expect(s.ownership().get(4)).toBe(1);
  });

  it('measures nodes as C xenstored does for the node-size quota', () => {
    expect(nodeSize({ value: new Uint8Array(10), perms: [parsePerm('n0'), parsePerm('r1')], children: ['ab', 'c'] })).toBe(24 + 2 * 8 + 10 + 3 + 2);
  });
});
