/**
 * The pv split block driver end to end: the teaching OS (blkfront) in a pv domain with a
 * raw image file attached through xl.cfg `disk = [ ... ]`, served by Domain-0's blkback
 * (src/core/backends/blk) over the image layer's file store. `disk write`, `disk read`
 * back, `disk flush` and the bytes on the file, `xl block-list`, a read-only disk the
 * guest cannot write, `xl block-attach` of a second disk while the guest runs, and
 * `xl block-detach` with the frontend's Closing/Closed handshake.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Domain } from '../core/xen/common/domain';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { Toolstack } from '../core/tools/toolstack';
import { checkQcow2 } from '../core/block/check';
import { FileStore, createOverlayFile, openImageFile } from './blockFile';
import { ensureBundleSync } from './testBundle';
import { guestImage } from './paths';
import { nodeVcpuHost } from './vcpuHost';
import { teachingOsWithDisks, typeOn, type DiskDomain } from './diskTestSupport';
import { consoleText, sleep, until, waitForConsole } from '../testing/support';

let hv: Hypervisor | undefined;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hyperlab-blk-'));
});
afterEach(() => {
  hv?.shutdownHost();
  hv = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const out = (d: Domain): string => consoleText(d, { lf: true });

function setup(disks: string[]): DiskDomain {
  const r = teachingOsWithDisks('pv', 'disky', disks);
  hv = r.h;
  return r;
}

/** Type a command and wait for its answer and the prompt of domain `name`. */
const runOn = (h: Hypervisor, d: Domain, name: string, line: string, expect: RegExp | string, ms = 30_000): Promise<string> =>
  typeOn(h, d, new RegExp(`${name}\\$ $`), line, expect, ms);
const run = (h: Hypervisor, d: Domain, line: string, expect: RegExp | string, ms = 30_000): Promise<string> => runOn(h, d, 'disky', line, expect, ms);

describe("pv block devices: the teaching OS's blkfront and Domain-0's blkback", () => {
  it('writes, reads back, flushes to the image file, lists and detaches', async () => {
    const img = join(dir, 'disk.raw');
    writeFileSync(img, new Uint8Array(1 << 20)); // 1 MiB raw
    const { h, ts, d, xl } = setup([`${img},raw,xvda,rw`]);
    await waitForConsole(d, 'disk: xvda (51712): 2048 sectors of 512 bytes (1024 KiB), sector-size 512, read-write, flush, connected to domain 0', {
      lf: true,
    });
    await waitForConsole(d, /disky\$ $/, { lf: true });

    const listing = await run(h, d, 'disk', /ring-ref \d+/);
    expect(listing).toContain('xvda: device 51712, 2048 sectors of 512 bytes (1024 KiB), sector-size 512, read-write, flush, backend domain 0, Connected');

    expect(await run(h, d, 'disk write 10 hello from the teaching OS', 'disk: wrote')).toContain('disk: wrote 26 bytes to xvda at sector 10 (1 sector)');
    const dump = await run(h, d, 'disk read 10', '|hello from the t|');
    expect(dump).toContain('00001400  68 65 6c 6c 6f 20 66 72  6f 6d 20 74 68 65 20 74  |hello from the t|');
    expect(await run(h, d, 'disk flush', 'flushed')).toContain("disk: xvda flushed: the backend's image is on stable storage");
    const bytes = readFileSync(img);
    expect(bytes.subarray(10 * 512, 10 * 512 + 26).toString()).toBe('hello from the teaching OS');

    // The frontend closes its ring and connects again (what a restored guest does); the backend follows.
    expect(await run(h, d, 'disk reconnect', 'reconnected')).toMatch(/disk: xvda reconnected: ring-ref \d+ \(was \d+\), event channel \d+/);
    expect(await run(h, d, 'disk read 10', '|hello from the t|')).toContain('|hello from the t|');
    expect(ts.disks.of(d.domid)[0]!.device.state).toBe(4);

    // A request past the end is refused by the guest before it is sent; the ring is fine after.
    expect(await run(h, d, 'disk read 2048', 'past the end')).toContain('disk: xvda has 2048 sectors: 2048..2048 is past the end');

    const [ins] = ts.disks.inspect(d.domid);
    expect(ins).toMatchObject({ vdev: 'xvda', devid: 51712, sectors: 2048, readOnly: false, backendStateName: 'Connected', frontendStateName: 'Connected' });
    expect(ins!.ring).toMatchObject({ inFlight: 0 });
    expect(ins!.ring!.rspProd).toBe(ins!.ring!.reqCons);
    expect(ins!.frontendNodes).toMatchObject({ protocol: 'riscv32-abi', 'ring-ref': String(ins!.ringRef), state: '4' });
    expect(ins!.backendNodes).toMatchObject({ sectors: '2048', 'feature-flush-cache': '1', mode: 'w', state: '4' });

    const top = xl('top').split('\n');
    expect(top[0]).toMatch(/VBDS VBD_OO VBD_RD VBD_WR VBD_RSECT VBD_WSECT$/);
    expect(top[1]).toMatch(/ 1 +0 +\d+ +1 +\d+ +1$/); // one disk, the one-sector write

    const bl = xl('block-list', String(d.domid));
    expect(bl.split('\n')[0]).toMatch(/^Vdev\s+BE\s+handle\s+state\s+evt-ch\s+ring-ref\s+BE-path/);
    expect(bl).toMatch(new RegExp(`^51712\\s+0\\s+${d.domid}\\s+4\\s+\\d+\\s+\\d+\\s+/local/domain/0/backend/vbd/${d.domid}/51712`, 'm'));
    expect(bl).toMatch(/51712 xvda\s+2048\s+4\s+\d+\/1\/1\s+0 /);

    // Detach: the backend goes Closing, the guest closes and says so; both areas go.
    xl('block-detach', String(d.domid), 'xvda');
    await waitForConsole(d, 'disk: xvda (51712) detached: the backend is closing', { lf: true });
    const xs = h.xsDom0();
    await until(() => ts.disks.of(d.domid).length === 0, 8000, 'the disk to go');
    await expect(xs.read(`/local/domain/0/backend/vbd/${d.domid}/51712/state`)).rejects.toThrow();
    await expect(xs.read(`/local/domain/${d.domid}/device/vbd/51712/state`)).rejects.toThrow();
    expect(xl('block-list', String(d.domid)).split('\n')).toHaveLength(1);
    expect(await run(h, d, 'disk', 'no disks')).toContain('disk: no disks');
    expect(out(d)).not.toContain('still in use by the backend');
    // Every grant the frontend gave Domain-0 is unpinned: nothing of the guest is mapped by Domain-0.
    expect(d.activeGrants.size).toBe(0);
  }, 120_000);

  it('a read-only disk cannot be written: the backend answers BLKIF_RSP_ERROR and the file is unchanged', async () => {
    const img = join(dir, 'ro.raw');
    const content = new Uint8Array(64 * 1024).fill(0x5a);
    writeFileSync(img, content);
    const { h, d, xl } = setup([`format=raw, vdev=xvdb, access=ro, target=${img}`]);
    await waitForConsole(d, 'disk: xvdb (51728): 128 sectors of 512 bytes (64 KiB), sector-size 512, read-only, flush, connected to domain 0', { lf: true });
    await waitForConsole(d, /disky\$ $/, { lf: true });
    expect(await run(h, d, 'disk write 0 overwrite', 'disk: xvdb')).toContain('disk: xvdb: write at sector 0: BLKIF_RSP_ERROR');
    expect(await run(h, d, 'disk read 0', '|ZZZZ')).toContain('00000000  5a 5a 5a 5a 5a 5a 5a 5a  5a 5a 5a 5a 5a 5a 5a 5a  |ZZZZZZZZZZZZZZZZ|');
    expect(readFileSync(img).equals(content)).toBe(true);
    expect(xl('block-list', String(d.domid))).toMatch(/51728 xvdb\s+128\s+4\s+1\/0\/0\s+1 /);
  }, 120_000);

  it('xl block-attach gives a running guest a second disk; destroy tears the disks down', async () => {
    const a = join(dir, 'a.raw');
    const b = join(dir, 'b.raw');
    writeFileSync(a, new Uint8Array(256 * 1024));
    writeFileSync(b, new Uint8Array(512 * 1024));
    const { h, d, xl } = setup([`${a},,xvda`]);
    await waitForConsole(d, /disky\$ $/, { lf: true });
    xl('block-attach', String(d.domid), `${b},raw,xvdb,rw`);
    await waitForConsole(d, 'disk: xvdb (51728): 1024 sectors of 512 bytes (512 KiB), sector-size 512, read-write, flush, connected to domain 0', { lf: true });
    expect(await run(h, d, 'disk write xvdb 3 second disk', 'disk: wrote')).toContain('to xvdb at sector 3');
    await run(h, d, 'disk flush xvdb', 'flushed');
    expect(
      readFileSync(b)
        .subarray(3 * 512, 3 * 512 + 11)
        .toString(),
    ).toBe('second disk');
    expect(readFileSync(a).every((x) => x === 0)).toBe(true);
    expect(() => xl('block-attach', String(d.domid), `${b},raw,xvdb,rw`)).toThrow(/has a disk xvdb already/);
    const free = h.memory.nrFree;
    xl('destroy', String(d.domid));
    await sleep(50);
    expect(h.memory.nrFree).toBe(free + 16 * 256); // every frame back, the ring pages too
    expect(h.dom0.ports.filter((p) => p && p.s.state !== 'free')).toHaveLength(0);
  }, 120_000);

  it('disk bench: sequential and random reads and writes with MB/s and IOPS, and the disk unchanged after', async () => {
    const img = join(dir, 'bench.raw');
    const content = new Uint8Array(2 << 20).map((_, i) => (i * 31 + (i >> 12)) & 0xff);
    writeFileSync(img, content);
    const { h, d } = setup([`${img},raw,xvda,rw`]);
    await waitForConsole(d, /disky\$ $/, { lf: true });
    const text = await run(h, d, 'disk bench 2', /timing: disk bench: \d+ requests/, 60_000);
    for (const what of ['sequential read 2048 KiB', 'sequential write 2048 KiB \\(and a flush\\)', 'random read 4 KiB', 'random write 4 KiB']) {
      expect(text).toMatch(new RegExp(`timing: ${what}: \\d+\\.\\d{3} s, \\d+\\.\\d MB/s, \\d+ IOPS`));
    }
    console.log(
      text
        .split('\n')
        .filter((l) => l.startsWith('timing:'))
        .join('\n'),
    );
    expect(readFileSync(img).equals(content)).toBe(true); // every write put back what was read
  }, 120_000);

  it('the data survives a reboot: the restarted domain gets its disk again', async () => {
    const img = join(dir, 'boot.raw');
    writeFileSync(img, new Uint8Array(128 * 1024));
    const { h, ts, d } = setup([`${img},raw,xvda,rw`]);
    await waitForConsole(d, /disky\$ $/, { lf: true });
    await run(h, d, 'disk write 5 kept across reboot', 'disk: wrote');
    h.consoleInput(d.domid, new TextEncoder().encode('reboot\n'));
    await until(() => [...h.domains.values()].some((x) => x.name === 'disky' && x.domid !== d.domid), 10_000, 'the restarted domain');
    const d2 = [...h.domains.values()].find((x) => x.name === 'disky')!;
    await waitForConsole(d2, 'disk: xvda (51712): 256 sectors', { lf: true });
    await waitForConsole(d2, /disky\$ $/, { lf: true });
    expect(await run(h, d2, 'disk read 5', 'kept across reb')).toContain('|kept across rebo|');
    expect(ts.disks.of(d.domid)).toHaveLength(0);
    expect(ts.disks.of(d2.domid)).toHaveLength(1);
  }, 120_000);

  it('a qcow2 overlay over a raw base: the guest reads the base through it, its writes land in the overlay only', async () => {
    const base = join(dir, 'base.raw');
    const baseBytes = new Uint8Array(256 * 1024).fill(0x42);
    writeFileSync(base, baseBytes);
    const overlay = join(dir, 'overlay.qcow2');
    createOverlayFile(overlay, 'base.raw', { backingFormat: 'raw' });
    const { h, d } = setup([`format=qcow2, vdev=xvda, target=${overlay}`]);
    await waitForConsole(d, 'disk: xvda (51712): 512 sectors of 512 bytes (256 KiB), sector-size 512, read-write, flush', { lf: true });
    await waitForConsole(d, /disky\$ $/, { lf: true });
    expect(await run(h, d, 'disk read 0', '|BBBB')).toContain('00000000  42 42 42 42 42 42 42 42  42 42 42 42 42 42 42 42  |BBBBBBBBBBBBBBBB|');
    await run(h, d, 'disk write 3 into the overlay', 'disk: wrote');
    await run(h, d, 'disk flush', 'flushed');
    expect(readFileSync(base).equals(baseBytes)).toBe(true);
    const store = new FileStore(overlay, true);
    expect(checkQcow2(store, 'overlay.qcow2').errors).toEqual([]);
    store.close();
    const q = spawnSync('qemu-img', ['check', '-f', 'qcow2', overlay], { encoding: 'utf8' });
    if (q.error === undefined) expect(q.status, q.stdout + q.stderr).toBe(0); // where qemu-img is installed
    const img = openImageFile(overlay, { format: 'qcow2', readOnly: true });
    const sector = new Uint8Array(512);
    img.readSectors(3, sector);
    img.close();
    expect(Buffer.from(sector.subarray(0, 16)).toString()).toBe('into the overlay');
  }, 120_000);

  it("a frontend whose ring is scribbled on from outside while a victim does disk I/O: refusals counted, the victim's disk intact", async () => {
    const h = new Hypervisor({ memoryMiB: 96, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
    hv = h;
    h.start();
    const ts = new Toolstack(h, {
      readFile: () => readFileSync(guestImage('teaching-os-pv')),
      openDisk: (spec) => openImageFile(spec.target, { format: spec.format, readOnly: spec.access === 'ro' }),
    });
    const aImg = join(dir, 'attacker.raw');
    const vImg = join(dir, 'victim.raw');
    writeFileSync(aImg, new Uint8Array(256 * 1024));
    const vContent = new Uint8Array(2 << 20).map((_, i) => (i * 13 + (i >> 9)) & 0xff);
    writeFileSync(vImg, vContent);
    const cfg = (name: string, img: string): string => `name = "${name}"\ntype = "pv"\nmemory = 16\nkernel = "tos"\ndisk = [ '${img},raw,xvda,rw' ]`;
    const a = ts.create(cfg('attacker', aImg));
    const v = ts.create(cfg('victim', vImg));
    await waitForConsole(a, /attacker\$ $/, { lf: true });
    await waitForConsole(v, /victim\$ $/, { lf: true });
    const dev = ts.disks.of(a.domid)[0]!.device;
    const mfn = dev.ringMfn;
    expect(mfn).toBeGreaterThan(0);
    const feport = Number(await h.xsDom0().read(`/local/domain/${a.domid}/device/vbd/51712/event-channel`));
    // The victim benchmarks its disk (every write puts back what it read) while the
    // attacker's ring page gets random slots and random req_prod values, each followed by
    // a notification, as a hostile frontend would send them.
    const mark = out(v).length;
    h.consoleInput(v.domid, new TextEncoder().encode('disk bench 2\n'));
    const u8 = h.memory.views.u8;
    let seed = 987654321;
    const rnd = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>>= 0);
    };
    let rounds = 0;
    while (!/timing: disk bench: \d+ requests/.test(out(v).slice(mark)) || rounds < 2000) {
      // 1..8 new slots, random or with plausible fields (grant refs near the frontend's own),
      // then a req_prod that covers them, or now and then a wild one.
      const from = dev.ringIndices!.rspProd;
      const n = 1 + (rnd() % 8);
      for (let k = 0; k < n; k++) {
        const at = mfn * 4096 + 64 + ((from + k) % 32) * 112;
        for (let i = 0; i < 112; i++) u8[at + i] = rnd() & 0xff;
        if (rnd() % 2) {
          u8[at] = rnd() % 4;
          u8[at + 1] = 1 + (rnd() % 11);
          u8.fill(0, at + 17, at + 24);
          u8[at + 16] = rnd() % 256;
          u8[at + 17] = rnd() % 4; // sectors up to 1023 on a 512-sector disk
          for (let g = 0; g < 11; g++) {
            const sg = at + 24 + g * 8;
            u8.fill(0, sg, sg + 4);
            u8[sg] = rnd() % 128;
            u8[sg + 4] = rnd() % 8;
            u8[sg + 5] = u8[sg + 4]! + (rnd() % (8 - u8[sg + 4]!));
          }
        }
      }
      Atomics.store(h.memory.views.i32, mfn * 1024, rnd() % 10 === 0 ? rnd() | 0 : (from + n) | 0);
      h.evtchn.send(a, feport);
      if (++rounds % 50 === 0) await sleep(1);
      if (rounds > 200_000) throw new Error("the victim's bench did not finish");
    }
    await waitForConsole(v, /victim\$ $/, { from: mark, lf: true });
    expect(out(v).slice(mark)).not.toMatch(/failed|BLKIF_RSP_ERROR|no answer/);
    expect(readFileSync(vImg).equals(vContent)).toBe(true);
    const st = dev.stats;
    const refused = Object.values(st.refused).reduce((x, y) => x + y, 0) + st.badRing;
    expect(refused).toBeGreaterThan(0);
    for (const why of ['badSegments', 'badSector', 'pastEnd', 'badGrant', 'notSupported'] as const) expect(st.refused[why], why).toBeGreaterThan(0);
    expect(st.badRing).toBeGreaterThan(0);
    expect(st.rdReq + st.wrReq).toBeGreaterThan(0); // plausible requests on its own grants were served
    expect(ts.disks.of(v.domid)[0]!.device.stats.refused).toEqual({
      badSegments: 0,
      badSector: 0,
      misaligned: 0,
      pastEnd: 0,
      readOnly: 0,
      badGrant: 0,
      ioError: 0,
      closed: 0,
      notSupported: 0,
    });
    expect(h.log.filter((l) => /error|exception|TypeError/i.test(l) && !l.includes('blkback'))).toEqual([]);
    // The victim still works, and the attacker can still be destroyed cleanly.
    expect(await runOn(h, v, 'victim', 'disk read 1', '00000200')).toContain('00000200');
    const free = h.memory.nrFree;
    h.destroyDomain(a.domid);
    await sleep(20);
    expect(h.memory.nrFree).toBe(free + 16 * 256);
  }, 180_000);

  it('a disk whose image is missing refuses the create, and nothing is built', async () => {
    const h = new Hypervisor({ memoryMiB: 64, pcpus: 1, host: nodeVcpuHost(ensureBundleSync()) });
    hv = h;
    const ts = new Toolstack(h, {
      readFile: () => readFileSync(guestImage('teaching-os-pv')),
      openDisk: (spec) => openImageFile(spec.target, { format: spec.format }),
    });
    expect(() => ts.create(`name = "x"\ntype = "pv"\nkernel = "tos"\ndisk = [ '${join(dir, 'nope.raw')},raw,xvda,rw' ]`)).toThrow(/nope\.raw: no such file/);
    expect(h.domains.size).toBe(0);
  });
});
