/**
 * Issue 10 items 4 and 5: a granter that takes a grant away while another domain maps or
 * copies through it. The granter grants a page, then ends the grant (or makes it
 * read-only, or gives it to another domain) with a compare-exchange of the entry's
 * flags/domid word that fails while the hypervisor shows the grant pinned, as Linux does.
 * Xen pins with a compare-exchange of its own (_set_status_v1) that fails if the entry
 * changed, and pins a copy for its duration (acquire_grant_for_copy), so once the
 * granter's compare-exchange has succeeded no mapping with the old rights is made and no
 * copy lands: the granter never sees a pin appear afterwards, the mark it then writes in
 * the page (ended, read-only, another domain's) is never read through a mapping, and no
 * copy lands after the end.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Hypervisor } from '../../core/xen/common/hypervisor';
import { bootHypervisor, Consoles, createHostile, type HostileGuest } from '../testSupport';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

const MS = Number(process.env['HYPERLAB_RACE_MS'] ?? 8000);
const HOLD = 400;

async function pair(): Promise<{ granter: HostileGuest; other: HostileGuest; page: number; win: number }> {
  hv = bootHypervisor(64);
  const con = new Consoles(hv);
  const granter = await createHostile(hv, con, 'granter');
  const other = await createHostile(hv, con, 'other');
  return { granter, other, page: granter.gfn(0x100), win: other.gfn(2048) };
}

/** Map-side race for MODE (0 end, 1 read-only, 2 other domain): both sides' counts. */
async function mapRace(mode: number, ro: boolean): Promise<void> {
  const { granter, other, page, win } = await pair();
  const [g, m] = await Promise.all([
    granter.start(`race-granter 8 ${other.domid} ${page} ${MS + 500} ${mode} ${HOLD} 1`),
    other.start(`race-mapper ${granter.domid} 8 ${win} ${MS} ${ro ? 1 : 0} 8 1`),
  ]);
  console.log(`mode ${mode}: ${g.line} | ${m.line}`);
  expect(g.result).toBe('ok');
  expect(m.result).toBe('ok');
  expect(m['okay']).toBeGreaterThan(0); // the mapper did map while the grant stood
  expect(g['taken']).toBeGreaterThan(10);
  expect({ stale: g['stale'], secret: m['secret'] }).toEqual({ stale: 0, secret: 0 });
}

describe('isolation: grant map and copy against a granter taking the grant away (issue 10 items 4, 5)', () => {
  it('map pins with a compare-exchange: no mapping after the grant was ended, no secret read through it', async () => {
    await mapRace(0, true);
  }, 40_000);

  it('map pins with a compare-exchange: no writable mapping after the grant was made read-only', async () => {
    await mapRace(1, false);
  }, 40_000);

  it('map pins with a compare-exchange: no mapping after the grant was given to another domain', async () => {
    await mapRace(2, true);
  }, 40_000);

  it('copy pins the grant for its duration: no copy lands after the grant was ended', async () => {
    const { granter, other, page } = await pair();
    const [g, c] = await Promise.all([
      granter.start(`race-granter 8 ${other.domid} ${page} ${MS + 500} 3 ${HOLD} 1`),
      other.start(`race-copier ${granter.domid} 8 ${other.gfn(0x100)} ${MS} 16 1`),
    ]);
    console.log(`copy: ${g.line} | ${c.line}`);
    expect(c['okay']).toBeGreaterThan(0);
    expect(g['taken']).toBeGreaterThan(10);
    expect(g['stale']).toBe(0);
  }, 40_000);
});
