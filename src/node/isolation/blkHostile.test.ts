/**
 * Isolation of the block backend (issue 13): a hostile pv guest (guests/hostile, blk.c)
 * sets up a real blkif ring to Domain-0's blkback and fills it, for at least ten million of
 * its own instructions, with what a broken or malicious frontend may send (wild req_prod,
 * slots of random bytes, sectors past the end, first_sect > last_sect, 0 or 12+ segments,
 * grant refs it never made or made for another domain, its ring page as data, grants ended
 * and made again read-only while requests are in flight). Beside it a victim (the teaching
 * OS) benchmarks its own disk, whose bytes are a marker the attacker must never see.
 * Afterwards: the victim's image is byte for byte what it was and its requests were all
 * served, the attacker's memory holds no byte of the marker, every kind of refusal was
 * counted, the backend logged no exception, and both domains can still be destroyed with
 * every frame returned.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Domain } from '../../core/xen/common/domain';
import type { Hypervisor } from '../../core/xen/common/hypervisor';
import { Toolstack } from '../../core/tools/toolstack';
import { openImageFile } from '../blockFile';
import { guestImage } from '../paths';
import { bootHypervisor, Consoles, HostileGuest, mfnOf } from '../testSupport';
import { consoleText, sleep, waitForConsole } from '../../testing/support';

let hv: Hypervisor | undefined;
let dir = '';
afterEach(() => {
  hv?.shutdownHost();
  hv = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const MARKER = 'VICTIM-SECRET:';
const XVDA = 51712;

/** The victim's disk: every 512-byte sector starts with the marker and its number. */
function victimContent(sectors: number): Uint8Array {
  const b = new Uint8Array(sectors * 512);
  for (let s = 0; s < sectors; s++) {
    b.set(new TextEncoder().encode(`${MARKER}${s}:`), s * 512);
    for (let i = 32; i < 512; i++) b[s * 512 + i] = (s * 7 + i) & 0xff;
  }
  return b;
}

/** Whether any page of the domain's RAM holds the marker. */
function ramHolds(h: Hypervisor, d: Domain, pages: number, needle: string): boolean {
  const u8 = h.memory.views.u8;
  const n = new TextEncoder().encode(needle);
  for (let i = 0; i < pages; i++) {
    const mfn = mfnOf(d, d.ramBase / 4096 + i);
    if (mfn < 0) continue;
    const page = u8.subarray(mfn * 4096, mfn * 4096 + 4096);
    for (let at = page.indexOf(n[0]!); at >= 0 && at <= 4096 - n.length; at = page.indexOf(n[0]!, at + 1)) {
      if (n.every((c, k) => page[at + k] === c)) return true;
    }
  }
  return false;
}

describe('blkback against a hostile frontend', () => {
  it("ten million instructions of hostile requests beside a victim: refusals counted, the victim's disk and data untouched", async () => {
    dir = mkdtempSync(join(tmpdir(), 'hyperlab-blkhostile-'));
    const h = bootHypervisor(96, 2);
    hv = h;
    const consoles = new Consoles(h);
    const ts = new Toolstack(h, {
      readFile: (p) => readFileSync(guestImage(p === 'hostile' ? 'hostile' : 'teaching-os-pv')),
      openDisk: (spec) => openImageFile(spec.target, { format: spec.format, readOnly: spec.access === 'ro' }),
    });
    const aImg = join(dir, 'attacker.raw');
    const vImg = join(dir, 'victim.raw');
    const aSectors = 2048;
    writeFileSync(aImg, new Uint8Array(aSectors * 512).fill(0x41));
    const vContent = victimContent(4096);
    writeFileSync(vImg, vContent);

    const a = ts.create(`name = "attacker"\ntype = "pv"\nmemory = 8\nkernel = "hostile"\ndisk = [ '${aImg},raw,xvda,rw' ]`);
    const g = new HostileGuest(h, consoles, a);
    await g.ready();
    const v = ts.create(`name = "victim"\ntype = "pv"\nmemory = 16\nkernel = "tos"\ndisk = [ '${vImg},raw,xvda,rw' ]`);
    await waitForConsole(v, /victim\$ $/, { lf: true });

    // The ring: the attacker's page 1024 (4 MiB in, far past its image), grant ref 20; the
    // test writes the frontend's xenstore nodes as a frontend would, and the backend connects.
    const ringGfn = g.gfn(1024);
    const ring = await g.cmd(`blk-ring ${ringGfn} 20`);
    expect(ring.rc).toBe(0);
    const xs = h.xsDom0();
    const fe = `/local/domain/${a.domid}/device/vbd/${XVDA}`;
    const be = `/local/domain/0/backend/vbd/${a.domid}/${XVDA}`;
    await xs.write(`${fe}/ring-ref`, '20');
    await xs.write(`${fe}/event-channel`, String(ring.port));
    await xs.write(`${fe}/protocol`, 'riscv32-abi');
    await xs.write(`${fe}/state`, '3');
    for (let t = 0; (await xs.read(`${be}/state`)) !== '4'; t++) {
      if (t > 2000) throw new Error('blkback did not connect');
      await sleep(5);
    }
    await xs.write(`${fe}/state`, '4');

    // The victim benchmarks its disk over and over (each write puts back what it read);
    // the attacker fuzzes until it has run ten million instructions.
    let victimRuns = 0;
    let stop = false;
    const victimLoop = (async (): Promise<void> => {
      while (!stop) {
        const mark = consoleText(v, { lf: true }).length;
        h.consoleInput(v.domid, new TextEncoder().encode('disk bench 1\n'));
        await waitForConsole(v, /victim\$ $/, { from: mark, lf: true, ms: 60_000 });
        const said = consoleText(v, { lf: true }).slice(mark);
        expect(said).toMatch(/timing: disk bench: \d+ requests/);
        expect(said).not.toMatch(/failed|error|no answer/i);
        victimRuns++;
      }
    })();
    const instret = (): number => a.vcpus.reduce((s, x) => s + x.instret, 0);
    const start = instret();
    const totals = { rounds: 0, sent: 0, ok: 0, err: 0, unsupp: 0, other: 0, stray: 0, regrants: 0 };
    for (let seed = 1; instret() - start < 10_000_000; seed++) {
      const r = await g.cmd(`blk-fuzz ${seed} 100000000 1500 ${ringGfn} ${ring.port} ${g.gfn(1040)} 8 40 ${aSectors}`, 60_000);
      expect(r.result, r.line).toBe('ok');
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += Number(r[k]);
      if (seed > 200) throw new Error('the attacker did not get ten million instructions');
    }
    stop = true;
    await victimLoop;
    await sleep(50);

    expect(instret() - start).toBeGreaterThanOrEqual(10_000_000);
    expect(victimRuns).toBeGreaterThan(0);
    // (`stray` and `other` are not checked: the attacker rewrites slots whose responses
    // are still being written, so it may read its own requests back as responses.)
    expect(totals.ok).toBeGreaterThan(0);
    expect(totals.err).toBeGreaterThan(0);
    expect(totals.unsupp).toBeGreaterThan(0);
    const dev = ts.disks.of(a.domid)[0]!.device;
    for (const why of ['badSegments', 'badSector', 'pastEnd', 'badGrant', 'notSupported'] as const) expect(dev.stats.refused[why], why).toBeGreaterThan(0);
    expect(dev.stats.badRing).toBeGreaterThan(0);
    expect(dev.stats.rdReq + dev.stats.wrReq).toBeGreaterThan(0);
    const vdev = ts.disks.of(v.domid)[0]!.device;
    expect(Object.values(vdev.stats.refused).every((n) => n === 0)).toBe(true);
    expect(vdev.stats.rdReq).toBeGreaterThan(0);
    // The victim's data: on its image unchanged, and nowhere in the attacker's memory.
    expect(readFileSync(vImg).equals(vContent)).toBe(true);
    expect(ramHolds(h, a, 2048, MARKER)).toBe(false);
    expect(ramHolds(h, v, 4096, MARKER)).toBe(true); // the check can see it where it is
    expect(h.log.filter((l) => /exception|TypeError|RangeError|internal error/i.test(l))).toEqual([]);
    // The victim still works, and both domains go away with every frame returned.
    expect(a.shutdownReason).toBeNull();
    const free = h.memory.nrFree;
    h.destroyDomain(a.domid);
    h.destroyDomain(v.domid);
    await sleep(50);
    expect(h.memory.nrFree).toBe(free + (8 + 16) * 256);
  }, 300_000);
});
