/**
 * Save and restore of domains with disks, end to end on real vCPU workers, as Xen's OSSTest
 * recipe runs it (create; save and restore twice; local migrate ten times, hvm; destroy;
 * after each step the guest's shell answers and what it wrote to its disk before the first
 * save reads back intact):
 *
 * - pv: the teaching OS's blkfront over Domain-0's blkback. The restored domain keeps its
 *   domid (its frontend names the backend's path), blkback attaches to the ring the frontend
 *   kept (BACK_RING_ATTACH), and the guest reads its disk without knowing it moved;
 * - hvm: the teaching OS's virtio-blk driver; the transport and queue state travel in the
 *   stream (EMULATOR_CONTEXT VIRTIO_MMIO), the disk is the same image (shared storage).
 *
 * Also: the bytes are on the image file after the save (flushed), a bystander domain keeps
 * running through every step and through refused restores, and a restore whose disk image is
 * missing builds nothing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Domain } from '../core/xen/common/domain';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { Toolstack } from '../core/tools/toolstack';
import { runXl, type XlIo } from '../core/tools/xl';
import { openDiskFile, openImageFile } from './blockFile';
import { ensureBundleSync } from './testBundle';
import { guestImage, projectRoot } from './paths';
import { nodeVcpuHost } from './vcpuHost';
import { typeOn } from './diskTestSupport';
import { readSaveFile, writeSaveFile } from '../core/tools/migration/saveFile';
import { readVirtioEntry, virtioEntry } from '../core/tools/migration/deviceCodec';
import { HVM_SAVE } from '../core/tools/migration/deviceState';
import { INIT_PROMPT } from '../../guests/linux/session';
import { consoleText, waitForConsole } from '../testing/support';

let hv: Hypervisor | undefined;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hyperlab-saverestore-'));
});
afterEach(() => {
  hv?.shutdownHost();
  hv = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const files = new Map<string, Uint8Array>();
const lines: string[] = [];
const io: XlIo = {
  out: (t) => lines.push(t),
  readFile: (p) => new TextDecoder().decode(files.get(p)),
  readBytes: (p) => {
    const b = files.get(p);
    if (!b) throw new Error(`${p}: no such file`);
    return b;
  },
  writeBytes: (p, b) => files.set(p, b),
};

function setup(): { h: Hypervisor; ts: Toolstack } {
  const h = new Hypervisor({ memoryMiB: 96, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
  hv = h;
  h.start();
  const ts = new Toolstack(h, {
    readFile: (p) => readFileSync(guestImage(p)),
    openDisk: (spec) => openImageFile(spec.target, { format: spec.format, readOnly: spec.access === 'ro' }),
  });
  return { h, ts };
}

/** An xl command as the host runs it: a failure is one line, `xl: ...`, and status 1. */
async function xl(ts: Toolstack, ...argv: string[]): Promise<number> {
  try {
    const r = runXl(ts, argv, io);
    return r.pending ? await r.pending : r.status;
  } catch (e) {
    lines.push(`xl: ${(e as Error).message}`);
    return 1;
  }
}

const byName = (h: Hypervisor, name: string): Domain => {
  const d = [...h.domains.values()].find((x) => x.name === name);
  if (!d) throw new Error(`no domain ${name}`);
  return d;
};

/** Type a command at the teaching OS's prompt; wait for `expect` and the prompt again. */
const run = (h: Hypervisor, d: Domain, line: string, expect: RegExp | string, ms = 60_000): Promise<string> =>
  typeOn(h, d, /tos\$ $|[a-z]+\$ $/, line, expect, ms);

/** The bystander answers at its prompt (the host kept it running). */
async function bystanderAnswers(h: Hypervisor): Promise<void> {
  const b = byName(h, 'bystander');
  const from = consoleText(b).length;
  h.consoleInput(b.domid, new TextEncoder().encode('uptime\n'));
  await waitForConsole(b, /timing: up/, { from, ms: 60_000 });
}

describe('save and restore with disks (OSSTest: create, save and restore twice, destroy)', () => {
  for (const type of ['pv', 'hvm'] as const) {
    it(`${type}: what the guest wrote to its disk before the first save reads back after each restore`, async () => {
      const { h, ts } = setup();
      const img = join(dir, 'disk.raw');
      writeFileSync(img, new Uint8Array(1 << 20));
      ts.create(`name = "bystander"\ntype = "hvm"\nmemory = 8\nkernel = "teaching-os-hvm"`);
      const cfg = `name = "disky"\ntype = "${type}"\nmemory = 16\nkernel = "teaching-os-${type}"\ndisk = [ '${img},raw,xvda,rw' ]`;
      const a = ts.create(cfg);
      await waitForConsole(a, /\$ $/, { lf: true, ms: 60_000 });
      if (type === 'pv') await waitForConsole(a, 'connected to domain 0', { lf: true });
      expect(await run(h, a, 'disk write 10 written before the first save', 'disk: wrote')).toContain('at sector 10');
      // A read after it reuses the write's data pages: a backend that served the ring's old
      // requests again after the restore (attaching at index 0, not at rsp_prod) would write
      // these zeros over sector 10.
      expect(await run(h, a, 'disk read 30', '|................|')).toContain('00 00 00 00');
      const domid0 = a.domid;

      let restoredAt = 0,
        mtimeBefore = 0;
      for (const round of [1, 2]) {
        const file = `disky-${round}.save`;
        const savedAt = performance.now();
        expect(await xl(ts, 'save', 'disky', file)).toBe(0);
        // Guest time goes on from the save, it does not jump by the time the domain was away:
        // between the last restore and this save the guest's mtime moved by about the wall
        // time that passed (the 1.5 s gap below is not in it).
        const mtime = readSaveFile(files.get(file)!, { maxPfn: 4096, maxVcpus: 1 }).libxc.timers![0]!.mtime / 10_000_000;
        if (round > 1) {
          expect(mtime).toBeGreaterThan(mtimeBefore);
          expect(mtime - mtimeBefore).toBeLessThan((savedAt - restoredAt) / 1000 + 1);
        }
        mtimeBefore = mtime;
        await new Promise((r) => setTimeout(r, 1500)); // the domain is away for a while
        expect(lines.at(-1)).toMatch(/^Saved domain \d+ \(disky\) to disky-\d.save: \d+ bytes/);
        // Flushed before the last pages went: the image file has the write.
        expect(Buffer.from(readFileSync(img).subarray(10 * 512, 10 * 512 + 29)).toString()).toBe('written before the first save');
        expect(await xl(ts, 'restore', file)).toBe(0);
        restoredAt = performance.now();
        const b = byName(h, 'disky');
        if (type === 'pv') expect(b.domid).toBe(domid0); // a pv domain with split devices keeps its id
        const rd = await run(h, b, 'disk read 10', '|');
        expect(rd).toContain('|written before t');
        if (type === 'pv') {
          // blkback attached where the ring stood: that read is all it served, nothing of the
          // ring's past was taken again (attaching at 0 would replay two old requests).
          const st = ts.disks.inspect(b.domid)[0]!.stats;
          expect([st.rdReq, st.wrReq, Object.values(st.refused).reduce((x, y) => x + y, 0)]).toEqual([1, 0, 0]);
        } else {
          const st = ts.disks.inspectVirtio(b.domid)[0]!.stats;
          expect([st.rdReq, st.wrReq, Object.values(st.refused).reduce((x, y) => x + y, 0)]).toEqual([1, 0, 0]);
        }
        expect(await run(h, b, `disk write ${20 + round} round ${round}`, 'disk: wrote')).toContain(`at sector ${20 + round}`);
        expect(await run(h, b, `disk read ${20 + round}`, `|round ${round}`)).toContain(`|round ${round}`);
        await bystanderAnswers(h);
      }
      if (type === 'hvm') {
        // OSSTest's local migrate, ten times (a pv domain with disks keeps its domid, so it
        // cannot be migrated to the same host: Xen's non-cooperative-migration design says so).
        for (let i = 0; i < 10; i++) {
          lines.length = 0;
          expect(await xl(ts, 'migrate', 'disky', 'localhost')).toBe(0);
          expect(lines.at(-1)).toMatch(/^Migrated domain \d+ \(disky\) to localhost/);
          const m = byName(h, 'disky');
          expect(await run(h, m, 'disk read 10', '|written before t')).toContain('|written before t');
        }
        expect(await run(h, byName(h, 'disky'), 'disk read 22', '|round 2')).toContain('|round 2');
        await bystanderAnswers(h);
      }
      expect(await xl(ts, 'destroy', 'disky')).toBe(0);
      const bytes = readFileSync(img);
      expect(Buffer.from(bytes.subarray(21 * 512, 21 * 512 + 7)).toString()).toBe('round 1');
      expect(Buffer.from(bytes.subarray(22 * 512, 22 * 512 + 7)).toString()).toBe('round 2');
      await bystanderAnswers(h);
    }, 240_000);
  }

  it('a restore whose disk image is gone, or whose pv domid is taken, builds nothing', async () => {
    const { h, ts } = setup();
    const img = join(dir, 'gone.raw');
    writeFileSync(img, new Uint8Array(1 << 20));
    ts.create(`name = "bystander"\ntype = "hvm"\nmemory = 8\nkernel = "teaching-os-hvm"`);
    const a = ts.create(`name = "disky"\ntype = "pv"\nmemory = 16\nkernel = "teaching-os-pv"\ndisk = [ '${img},raw,xvda,rw' ]`);
    await waitForConsole(a, 'connected to domain 0', { lf: true, ms: 60_000 });
    // -c: the original runs on with the id the copy would need.
    expect(await xl(ts, 'save', '-c', 'disky', 'snap')).toBe(0);
    files.set('copy.cfg', new TextEncoder().encode(`name = "copy"\ntype = "pv"\nmemory = 16\nkernel = "teaching-os-pv"\ndisk = [ '${img},raw,xvda,rw' ]`));
    const free = h.memory.nrFree;
    expect(await xl(ts, 'restore', 'copy.cfg', 'snap')).toBe(1);
    expect(lines.at(-1)).toMatch(new RegExp(`^xl: restore from snap failed: domain id ${a.domid} is in use: a pv domain with disks`));
    expect(h.memory.nrFree).toBe(free);
    expect(await xl(ts, 'destroy', 'disky')).toBe(0);
    rmSync(img);
    const free2 = h.memory.nrFree;
    expect(await xl(ts, 'restore', 'snap')).toBe(1);
    expect(lines.at(-1)).toMatch(/^xl: restore from snap failed: .*gone\.raw/);
    expect(lines.at(-1)).not.toContain('\n');
    expect(h.memory.nrFree).toBe(free2);
    expect([...h.domains.values()].map((d) => d.name)).toEqual(['bystander']);
    await bystanderAnswers(h);
  }, 120_000);
});

describe('a hostile virtio-mmio entry', () => {
  it('a ready queue whose rings lie outside the domain is refused before anything is built', async () => {
    const { h, ts } = setup();
    const img = join(dir, 'v.raw');
    writeFileSync(img, new Uint8Array(1 << 20));
    ts.create(`name = "bystander"\ntype = "hvm"\nmemory = 8\nkernel = "teaching-os-hvm"`);
    const a = ts.create(`name = "vdisk"\ntype = "hvm"\nmemory = 16\nkernel = "teaching-os-hvm"\ndisk = [ '${img},raw,xvda,rw' ]`);
    await waitForConsole(a, /\$ $/, { lf: true, ms: 60_000 });
    expect(await run(h, a, 'disk write 1 x', 'disk: wrote')).toContain('at sector 1'); // the driver has set its queue up
    expect(await xl(ts, 'save', 'vdisk', 'v.save')).toBe(0);
    const r = readSaveFile(files.get('v.save')!, { maxPfn: 4096, maxVcpus: 1 });
    const e = r.emulator!.find((x) => x.typecode === HVM_SAVE.VIRTIO_MMIO)!;
    const st = readVirtioEntry(e);
    expect(st.queues[0]!.ready).toBe(true);
    st.queues[0]!.descAddr = 0x4000_0000; // below RAM: the device would read Domain-0's idea of nothing, or another domain
    const emulator = r.emulator!.map((x) => (x === e ? virtioEntry(e.instance, st) : x));
    files.set('bad.save', writeSaveFile({ config: r.header.config, libxc: r.libxc, emulator }));
    const free = h.memory.nrFree;
    expect(await xl(ts, 'restore', 'bad.save')).toBe(1);
    expect(lines.at(-1)).toMatch(
      /^xl: restore from bad.save failed: EMULATOR_CONTEXT: virtio-mmio slot 7 queue 0: size \d+ or its rings are not in the domain's memory$/,
    );
    expect(h.memory.nrFree).toBe(free);
    expect([...h.domains.values()].map((d) => d.name)).toEqual(['bystander']);
    await bystanderAnswers(h);
    expect(await xl(ts, 'restore', 'v.save')).toBe(0); // the good file still restores
    expect(await run(h, byName(h, 'vdisk'), 'disk read 1', '|x')).toContain('|x');
  }, 120_000);
});

describe('save and restore with a network interface', () => {
  for (const type of ['pv', 'hvm'] as const) {
    it(`${type}: ping works before and after; the host announces the MAC on the new port at once`, async () => {
      const { h, ts } = setup();
      const mac = type === 'pv' ? '00:16:3e:00:05:01' : '00:16:3e:00:05:02';
      const ip = type === 'pv' ? '10.0.0.81' : '10.0.0.82';
      const a = ts.create(`name = "netty"\ntype = "${type}"\nmemory = 16\nkernel = "teaching-os-${type}"\nvif = [ 'mac=${mac},ip=${ip}' ]`);
      await waitForConsole(a, /\$ $/, { lf: true, ms: 60_000 });
      expect(await run(h, a, `ifconfig ${ip}/24`, 'eth0:')).toContain(`inet ${ip}`);
      const ping = async (): Promise<void> => {
        lines.length = 0;
        expect(await xl(ts, 'ping', '-c', '2', '-i', '0.2', ip)).toBe(0);
        expect(lines.join('\n')).toContain('2 packets transmitted, 2 received, 0% packet loss');
      };
      await ping();
      expect(await xl(ts, 'save', 'netty', 'netty.save')).toBe(0);
      const bridge = ts.nets.bridges.get('xenbr0')!;
      expect(bridge.fdbEntries().some((e) => e.mac === mac)).toBe(false); // its port went with the domain
      expect(await xl(ts, 'restore', '-p', 'netty.save')).toBe(0);
      const b = byName(h, 'netty');
      // Paused, so the guest has sent nothing: the bridge learned the MAC from the host's RARP.
      const port = type === 'pv' ? `vif${b.domid}.0` : `vif${b.domid}.0-emu`;
      expect(bridge.fdbEntries().find((e) => e.mac === mac)?.port).toBe(port);
      expect(await xl(ts, 'unpause', 'netty')).toBe(0);
      // pv: the guest suspended itself for the save (cooperative) and, resumed, reconnects its
      // netfront on new rings (frames that come meanwhile are dropped, as with Linux's).
      if (type === 'pv') await waitForConsole(b, 'control: net eth0 reconnected', { ms: 60_000 });
      await ping();
      expect(await run(h, b, 'ping 10.0.0.1 2', 'ping statistics')).toContain('2 packets transmitted, 2 received, 0% packet loss');
    }, 120_000);
  }
});

describe('xl save --copy-storage', () => {
  it('carries the disk in the file: restored on a host without the image, refused where the image exists', async () => {
    const { h, ts } = setup();
    const img = join(dir, 'moved.raw');
    writeFileSync(img, new Uint8Array(3 << 20)); // 3 MiB: three chunks, two of them zeros
    const a = ts.create(`name = "mover"\ntype = "pv"\nmemory = 16\nkernel = "teaching-os-pv"\ndisk = [ '${img},raw,xvda,rw' ]`);
    await waitForConsole(a, 'connected to domain 0', { lf: true, ms: 60_000 });
    expect(await run(h, a, 'disk write 4100 carried in the stream', 'disk: wrote')).toContain('at sector 4100');
    expect(await xl(ts, 'save', '--copy-storage', 'mover', 'mover.save')).toBe(0);
    const read = readSaveFile(files.get('mover.save')!, { maxPfn: 4096, maxVcpus: 1 });
    // One record for the disk's size at offset 0 (its first MiB is zeros), one for the MiB written.
    expect(read.disks?.map((c) => [c.offset, c.data.length])).toEqual([
      [0, 0],
      [2 << 20, 1 << 20],
    ]);
    expect(read.header.config).toContain(`disk = [ 'format=raw, vdev=xvda, access=rw, target=${img}' ]`);
    // Where the image exists, a restore refuses to overwrite it, and builds nothing.
    expect(await xl(ts, 'restore', 'mover.save')).toBe(1);
    expect(lines.at(-1)).toMatch(/^xl: restore from mover.save failed: disk xvda: '.*moved\.raw' exists and the stream carries the disk's contents/);
    expect(h.domains.size).toBe(0);
    // "Another machine": the image is not there; the restore writes it from the stream.
    rmSync(img);
    const wrote: string[] = [];
    const io2: XlIo = { ...io, writeBytes: (p, b) => (wrote.push(p), writeFileSync(p, b)) };
    const r = runXl(ts, ['restore', 'mover.save'], io2);
    expect(await r.pending).toBe(0);
    expect(wrote).toEqual([img]);
    expect(readFileSync(img).length).toBe(3 << 20);
    const b = byName(h, 'mover');
    expect(await run(h, b, 'disk read 4100', '|carried in the s')).toContain('|carried in the s');
  }, 120_000);
});

describe('Linux with its root on virtio-blk', () => {
  it('Linux 6.1 (root=/dev/vda, a qcow2 overlay) saved at its prompt writes and syncs to its disk after the restore', async () => {
    const h = new Hypervisor({ memoryMiB: 320, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
    hv = h;
    h.start();
    const ts = new Toolstack(h, { readFile: (p) => readFileSync(join(projectRoot(), p)), openDisk: openDiskFile });
    const overlay = join(dir, 'root.qcow2');
    const text = readFileSync(join(projectRoot(), 'examples/linux-6.1-disk.cfg'), 'utf8').replace(
      /disk = \[.*\]/,
      `disk = [ "format=qcow2, vdev=xvda, access=rw, backing=${join(projectRoot(), 'public/guests/linux/rootfs.qcow2')}, target=${overlay}" ]`,
    );
    const a = ts.create(text);
    await waitForConsole(a, INIT_PROMPT, { ms: 180_000 });
    h.consoleInput(a.domid, new TextEncoder().encode('echo before > /root/f; sync\n'));
    await waitForConsole(a, INIT_PROMPT, { from: consoleText(a).length, ms: 60_000 });
    expect(await xl(ts, 'save', 'linux-6.1-disk', 'linux-disk.save')).toBe(0);
    expect(await xl(ts, 'restore', 'linux-disk.save')).toBe(0);
    const b = byName(h, 'linux-6.1-disk');
    const from = consoleText(b).length;
    // sync goes through virtio-blk: with a broken queue it would hang or fail.
    h.consoleInput(b.domid, new TextEncoder().encode('echo after > /root/g; sync; cat /root/f /root/g; echo done\n'));
    await waitForConsole(b, 'before\r\nafter\r\ndone\r\n', { from, ms: 60_000 });
    expect(consoleText(b)).not.toMatch(/I\/O error|EXT[24]-fs error|rcu/);
    expect(ts.disks.inspectVirtio(b.domid)[0]!.stats.wrReq).toBeGreaterThan(0);
  }, 300_000);
});
