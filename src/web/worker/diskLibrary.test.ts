/**
 * The browser's disk images, in Node over MemoryDirectory (the same rules as OPFS: one
 * handle per file): the store's ByteStore rules, create/upload/download/delete, overlays
 * over a shipped base that is never written, quota refusals that leave nothing behind,
 * corrupt uploads refused in one line, sharing rules, and the handle kept over a reboot.
 * The same code runs against real OPFS in e2e/disks.spec.ts.
 */
import { describe, expect, it } from 'vitest';
import { firstDifference } from '../../core/block/bytes';
import { checkByteStore } from '../../core/block/conformance';
import { createQcow2 } from '../../core/block/qcow2';
import { MemoryStore } from '../../core/block/store';
import type { DiskSpec } from '../../core/tools/xlDisk';
import { DiskLibrary, WRITEBACK_MS } from './diskLibrary';
import { openImage } from '../../core/block/open';
import { MemoryDirectory } from './opfsDir';
import { FileStore, OpenFile, QuotaBudget } from './opfsStore';

const spec = (target: string, format: 'raw' | 'qcow2', access: 'rw' | 'ro' = 'rw'): DiskSpec => ({
  target,
  format,
  vdev: 'xvda',
  devid: 51712,
  access,
  devtype: 'disk',
});

function library(quota = 64 << 20): { lib: DiskLibrary; dir: MemoryDirectory; base: Uint8Array; fetches: string[] } {
  const dir = new MemoryDirectory(quota);
  const base = new Uint8Array(1 << 20);
  for (let i = 0; i < base.length; i += 512) base[i] = (i >> 9) & 0xff;
  const fetches: string[] = [];
  const lib = new DiskLibrary(dir, (file) => {
    fetches.push(file);
    return file === 'base.raw' ? Promise.resolve(base) : Promise.reject(new Error(`${file}: not found on the server`));
  });
  return { lib, dir, base, fetches };
}

describe('OPFS-style FileStore', () => {
  it('keeps the ByteStore rules (conformance check), reopened read-only too', async () => {
    const dir = new MemoryDirectory();
    const budget = new QuotaBudget(1 << 30);
    const handle = await dir.openSync('c.raw', true);
    const file = new OpenFile('c.raw', handle, budget);
    checkByteStore(
      () => new FileStore(file, false, () => file.close()),
      () => {
        const again = new OpenFile('c.raw', handleSync(dir), budget);
        return new FileStore(again, true, () => again.close());
      },
    );
  });

  it('a write past the quota is refused in one line and the file is left as it was', async () => {
    const dir = new MemoryDirectory();
    const file = new OpenFile('q.raw', await dir.openSync('q.raw', true), new QuotaBudget(8192));
    const s = new FileStore(file, false, () => {});
    s.write(0, new Uint8Array(4096).fill(1));
    expect(() => s.write(4096, new Uint8Array(8192))).toThrow(/^q\.raw: the browser's storage quota is used up \(8192 more bytes needed, 4096 left\)$/);
    expect(s.size).toBe(4096);
    s.write(0, new Uint8Array(4096).fill(2)); // overwriting costs nothing
    expect(() => s.truncate(1 << 20)).toThrow(/quota/);
    expect(s.size).toBe(4096);
  });
});

/** MemoryDirectory hands out handles asynchronously; the reopen above needs one now: take the file's bytes directly. */
function handleSync(dir: MemoryDirectory): import('./opfsStore').SyncHandle {
  const f = dir.files.get('c.raw')!;
  return {
    read: (b, { at }) => {
      const n = Math.max(0, Math.min(b.length, f.length - at));
      b.set(f.bytes.subarray(at, at + n));
      return n;
    },
    write: () => {
      throw new Error('read-only');
    },
    truncate: () => {},
    getSize: () => f.length,
    flush: () => {},
    close: () => {},
  };
}

describe('DiskLibrary', () => {
  it('creates raw, qcow2 and an overlay over a shipped base; lists them with sizes; the base is never written', async () => {
    const { lib, base, fetches } = library();
    await lib.create({ name: 'plain.raw', format: 'raw', size: 1000 });
    await lib.create({ name: 'empty.qcow2', format: 'qcow2', size: 16 << 20 });
    const ov = await lib.create({ name: 'root.qcow2', format: 'qcow2', backing: 'guests/base.raw' });
    expect(ov).toMatchObject({ format: 'qcow2', virtualSize: 1 << 20, backing: 'guests/base.raw', error: null });
    const { images } = await lib.list();
    expect(images.map((i) => [i.name, i.format, i.virtualSize])).toEqual([
      ['empty.qcow2', 'qcow2', 16 << 20],
      ['plain.raw', 'raw', 1024],
      ['root.qcow2', 'qcow2', 1 << 20],
    ]);
    const before = base.slice();
    const release = await lib.prepare(['root.qcow2']);
    const img = lib.openDisk(spec('root.qcow2', 'qcow2'));
    release();
    const sector = new Uint8Array(512);
    img.readSectors(3, sector);
    expect(sector[0]).toBe(3); // from the base
    img.writeSectors(3, new Uint8Array(512).fill(0xee));
    img.flush();
    img.readSectors(3, sector);
    expect(sector[0]).toBe(0xee);
    img.close();
    expect(firstDifference(base, before)).toBe(-1);
    expect(fetches).toEqual(['base.raw']); // fetched once, kept
    const row = await lib.describe('root.qcow2');
    expect(row.allocatedBytes).toBeGreaterThan(0);
    // A shipped image may only be opened read-only.
    const r2 = await lib.prepare(['guests/base.raw']);
    expect(lib.openDisk(spec('guests/base.raw', 'raw')).readOnly).toBe(true);
    r2();
  });

  it('refuses bad names, taken names, missing bases and sizes out of range, each in one line, leaving nothing behind', async () => {
    const { lib, dir } = library();
    await expect(lib.create({ name: '../x', format: 'raw', size: 512 })).rejects.toThrow(/is not an image name/);
    await lib.create({ name: 'a.raw', format: 'raw', size: 512 });
    await expect(lib.create({ name: 'a.raw', format: 'raw', size: 512 })).rejects.toThrow(/exists already/);
    await expect(lib.create({ name: 'o.qcow2', format: 'qcow2', backing: 'guests/missing.raw' })).rejects.toThrow(/missing\.raw: not found/);
    await expect(lib.create({ name: 'o.qcow2', format: 'qcow2', backing: 'nothere.raw' })).rejects.toThrow(/no such image/);
    await expect(lib.create({ name: 'z.raw', format: 'raw', size: -1 })).rejects.toThrow(/^size -1/);
    expect([...dir.files.keys()]).toEqual(['a.raw']);
  });

  it('creating an image larger than the quota is refused before anything is written', async () => {
    const { lib, dir } = library(4 << 20);
    await expect(lib.create({ name: 'huge.raw', format: 'raw', size: 8 << 20 })).rejects.toThrow(/^huge\.raw: the browser's storage quota is used up/);
    expect(dir.files.size).toBe(0);
    await expect(lib.upload('big.raw', new Uint8Array(5 << 20))).rejects.toThrow(/quota/);
    expect(dir.files.size).toBe(0);
  });

  it('uploads: a valid image is kept and downloads back; corrupt or truncated ones are refused in one line and not kept', async () => {
    const { lib, dir } = library();
    const raw = new Uint8Array(4096).map((_, i) => i & 0xff);
    await lib.upload('up.raw', raw);
    expect(await lib.download('up.raw')).toEqual(raw);
    const q = new MemoryStore();
    createQcow2(q, { size: 1 << 20 });
    const good = q.bytes();
    await lib.upload('up.qcow2', good);
    expect((await lib.describe('up.qcow2')).format).toBe('qcow2');
    const truncated = good.slice(0, 50);
    await expect(lib.upload('bad1.qcow2', truncated)).rejects.toThrow(/^bad1\.qcow2: truncated qcow2 image/);
    const corrupt = good.slice();
    corrupt[4 + 3] = 9; // version 9
    await expect(lib.upload('bad2.qcow2', corrupt)).rejects.toThrow(/^bad2\.qcow2: [^\n]+$/);
    await expect(lib.upload('odd.raw', new Uint8Array(1000))).rejects.toThrow(/whole 512-byte sectors/);
    expect([...dir.files.keys()].sort()).toEqual(['up.qcow2', 'up.raw']);
  });

  it('delete is refused while a disk has the image open; sharing rules as QEMU locks images', async () => {
    const { lib, dir } = library();
    await lib.create({ name: 'd.raw', format: 'raw', size: 4096 });
    await lib.create({ name: 'ov.qcow2', format: 'qcow2', backing: 'd.raw' });
    const release = await lib.prepare(['d.raw', 'ov.qcow2']);
    const img = lib.openDisk(spec('d.raw', 'raw'));
    expect(() => lib.openDisk(spec('d.raw', 'raw'))).toThrow(/in use by another disk/);
    expect(() => lib.openDisk(spec('ov.qcow2', 'qcow2'))).toThrow(/written by a domain/);
    release();
    await expect(lib.remove('d.raw')).rejects.toThrow(/^d\.raw: attached to a domain/);
    img.close();
    // Closed but within the grace period: a reboot's reopen finds the handle without an await.
    expect(lib.openDisk(spec('d.raw', 'raw')).size).toBe(4096);
    await lib.remove('ov.qcow2');
    expect(dir.files.has('ov.qcow2')).toBe(false);
  });

  it('a corrupt image in the directory is listed with its error, and refused at attach in one line', async () => {
    const { lib, dir } = library();
    const h = await dir.openSync('broken.qcow2', true);
    const q = new MemoryStore();
    createQcow2(q, { size: 1 << 20 });
    const b = q.bytes();
    b.fill(0xff, 0x28, 0x30); // L1 table offset far past the end
    h.write(b, { at: 0 });
    h.close();
    const row = (await lib.list()).images.find((i) => i.name === 'broken.qcow2')!;
    expect(row.error).toMatch(/^broken\.qcow2: /);
    const release = await lib.prepare(['broken.qcow2']);
    expect(() => lib.openDisk(spec('broken.qcow2', 'qcow2'))).toThrow(/^broken\.qcow2: [^\n]+$/);
    release();
  });

  it('a disk spec with backing= whose image is missing gets its overlay made at prepare (the Linux disk presets), once', async () => {
    const { lib, dir } = library();
    const release = await lib.prepare([{ target: 'linux-root.qcow2', backing: 'guests/base.raw' }]);
    const img = lib.openDisk({ ...spec('linux-root.qcow2', 'qcow2'), backing: 'guests/base.raw' });
    release();
    expect(img.info()).toMatchObject({ format: 'qcow2', virtualSize: 1 << 20, backingName: 'guests/base.raw' });
    img.writeSectors(0, new Uint8Array(512).fill(7));
    img.close();
    // Made once: a second prepare keeps what the first domain wrote.
    const again = await lib.prepare([{ target: 'linux-root.qcow2', backing: 'guests/base.raw' }]);
    const img2 = lib.openDisk(spec('linux-root.qcow2', 'qcow2'));
    const b = new Uint8Array(512);
    img2.readSectors(0, b);
    expect(b[0]).toBe(7);
    img2.close();
    again();
    expect([...dir.files.keys()]).toEqual(['linux-root.qcow2']);
  });

  it('selfCheck runs the ByteStore rules on a scratch file and leaves nothing behind', async () => {
    const { lib, dir } = library();
    expect(await lib.selfCheck()).toMatch(/^the ByteStore rules hold in memory disks\/ \(\d+ ms\)$/);
    expect(dir.files.size).toBe(0);
  });

  it('write-back: a qcow2 image written and never flushed by its guest is flushed by the host within WRITEBACK_MS', async () => {
    const { lib, dir } = library();
    await lib.create({ name: 'wb.qcow2', format: 'qcow2', size: 1 << 20 });
    const release = await lib.prepare(['wb.qcow2']);
    const img = lib.openDisk(spec('wb.qcow2', 'qcow2'));
    release();
    img.writeSectors(100, new Uint8Array(512).fill(0x5a));
    // What a power cut (the page closed) would leave: the durable bytes, opened as an image.
    const durableSector = (): number => {
      const crashed = openImage(new MemoryStore(dir.files.get('wb.qcow2')!.flushed, true), { name: 'crashed', format: 'qcow2', readOnly: true });
      const b = new Uint8Array(512);
      crashed.readSectors(100, b);
      return b[0]!;
    };
    expect(durableSector()).toBe(0); // not yet: its L2 entry is in memory only
    await new Promise((r) => setTimeout(r, WRITEBACK_MS + 300));
    expect(durableSector()).toBe(0x5a);
    img.close();
  });
});

describe('handing images over between tabs (live migration, shared OPFS)', () => {
  it('handOver closes the chain for the other tab, which waits for it; takeBack reopens under the same image; forget lets go; a shared base is refused', async () => {
    const { lib, dir } = library();
    await lib.create({ name: 'base.qcow2', format: 'qcow2', size: 1 << 20 });
    await lib.create({ name: 'top.qcow2', format: 'qcow2', backing: 'base.qcow2' });
    const release = await lib.prepare(['top.qcow2']);
    const img = lib.openDisk(spec('top.qcow2', 'qcow2'));
    release();
    img.write(0, new Uint8Array(512).fill(0x5a));

    // The other tab cannot open the image while this one holds it; waiting a bounded time fails in one line.
    const other = new DiskLibrary(dir, () => Promise.reject(new Error('no shipped images')));
    await expect(other.prepare(['top.qcow2'], 120)).rejects.toThrow(
      /^top\.qcow2: the image is still open elsewhere after 0 s \(another tab of the lab holds it\)$/,
    );

    // At the pause point (the backends quiesced: the image flushed), the whole chain goes; the image refuses I/O meanwhile.
    img.flush();
    const given: string[] = [];
    lib.handOver(['top.qcow2'], given);
    expect(given.sort()).toEqual(['base.qcow2', 'top.qcow2']);
    expect(lib.holds('top.qcow2')).toBe(false);
    expect(() => img.read(0, new Uint8Array(512))).toThrow(/top\.qcow2: the image was handed to another tab \(migration\)/);
    const otherRelease = await other.prepare(['top.qcow2'], 1000);
    const there = other.openDisk(spec('top.qcow2', 'qcow2'));
    const seen = new Uint8Array(512);
    there.read(0, seen);
    expect(seen.every((b) => b === 0x5a)).toBe(true);

    // The migration fails: the other tab lets go within the wait, this one takes the files back.
    const back = lib.takeBack(given, 2000);
    setTimeout(() => {
      there.close();
      otherRelease();
      other.dropIdle();
    }, 100);
    await back;
    expect(lib.holds('top.qcow2')).toBe(true);
    img.write(512, new Uint8Array(512).fill(0x6b));
    img.flush();
    const again = new Uint8Array(512);
    img.read(512, again);
    expect(again.every((b) => b === 0x6b)).toBe(true);

    // A base another domain of this tab reads as well cannot move.
    const release2 = await lib.prepare(['base.qcow2']);
    const reader = lib.openDisk(spec('base.qcow2', 'qcow2', 'ro'));
    release2();
    expect(() => lib.handOver(['top.qcow2'], [])).toThrow(/^base\.qcow2: another domain of this tab uses the image too; it cannot move to another tab$/);
    expect(lib.holds('base.qcow2')).toBe(true);
    reader.close();

    // The migration succeeds: the files are forgotten here, and the other tab opens them at once.
    const moved: string[] = [];
    lib.handOver(['top.qcow2'], moved);
    img.close(); // the source's domain destroyed (migrateSend does it before it returns): nothing is written
    lib.forget(moved);
    expect(lib.inUse('top.qcow2')).toBe(false);
    const r3 = await other.prepare(['top.qcow2']);
    r3();
  });
});
