/**
 * The image layer against QEMU's tools: images hyperlab creates and writes pass
 * `qemu-img check` and `qemu-img compare` against a raw reference with the same writes;
 * images made by `qemu-img create` and written by `qemu-io` read back the bytes that
 * `qemu-img convert -O raw` gives; a child killed with SIGKILL right after a flush leaves
 * the flushed data and an image that passes `qemu-img check`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { firstDifference } from '../core/block/bytes';
import { checkQcow2 } from '../core/block/check';
import { checkByteStore } from '../core/block/conformance';
import type { BlockImage } from '../core/block/image';
import { FileStore, createOverlayFile, createQcow2File, createRawFile, openImageFile } from './blockFile';
import { crashPattern } from './blockCrashChild';

const have = (tool: string): boolean => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
const QEMU_IMG = have('qemu-img');
const QEMU_IO = have('qemu-io');
if (!QEMU_IMG) console.warn('blockFile.test.ts: qemu-img is not installed (Debian: qemu-utils); the interoperability tests are skipped');

const dir = mkdtempSync(join(tmpdir(), 'hyperlab-block-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const p = (name: string): string => join(dir, name);
const MiB = 1 << 20;

function run(cmd: string, args: string[]): { status: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function qemuImg(...args: string[]): string {
  let r = run('qemu-img', args);
  // LUKS key setup times PBKDF2 against the thread's CPU clock and gives up now and then on
  // a loaded machine ("Unable to get accurate CPU usage"): qemu-img's flake, not ours.
  for (let i = 0; i < 3 && r.status !== 0 && r.out.includes('accurate CPU usage'); i++) r = run('qemu-img', args);
  if (r.status !== 0) throw new Error(`qemu-img ${args.join(' ')}: ${r.out}`);
  return r.out;
}

function expectCheckPasses(path: string): void {
  const r = run('qemu-img', ['check', '-f', 'qcow2', path]);
  expect(r.out).toContain('No errors were found');
  expect(r.status).toBe(0);
}

function sameBytes(got: Uint8Array, want: Uint8Array): void {
  const i = firstDifference(got, want);
  if (i >= 0) expect({ at: i, bytes: Array.from(got.subarray(i, i + 16)) }).toEqual({ at: i, bytes: Array.from(want.subarray(i, i + 16)) });
}

function fill(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** The same writes to an image and to a raw reference file. */
function writeBoth(img: BlockImage, ref: string, seed: number, count: number, maxSectors = 300): void {
  const refImg = openImageFile(ref, { format: 'raw' });
  let x = seed;
  const next = (n: number): number => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x % n;
  };
  for (let i = 0; i < count; i++) {
    const sectors = 1 + next(maxSectors);
    const off = next(img.size / 512 - sectors) * 512;
    if (next(10) === 0) {
      img.writeZeroes(off, sectors * 512);
      refImg.writeZeroes(off, sectors * 512);
    } else {
      const d = fill(sectors * 512, x);
      img.write(off, d);
      refImg.write(off, d);
    }
    if (next(8) === 0) img.flush();
  }
  refImg.close();
}

function readWhole(img: BlockImage): Uint8Array {
  const b = new Uint8Array(img.size);
  img.read(0, b);
  return b;
}

describe('FileStore', () => {
  it('keeps the ByteStore rules', () => {
    checkByteStore(
      () => new FileStore(p('rules.bin'), false, true),
      () => new FileStore(p('rules.bin'), true),
    );
  });

  it('reads, writes past the end with a zero gap, truncates, flushes, refuses writes read-only', () => {
    const f = p('store.bin');
    const s = new FileStore(f, false, true);
    expect(s.size).toBe(0);
    s.write(4096, fill(100, 1));
    expect(s.size).toBe(4196);
    const b = new Uint8Array(5000);
    expect(s.read(0, b)).toBe(4196);
    sameBytes(b.subarray(0, 4096), new Uint8Array(4096));
    sameBytes(b.subarray(4096, 4196), fill(100, 1));
    sameBytes(b.subarray(4196), new Uint8Array(5000 - 4196));
    s.truncate(8192);
    expect(s.size).toBe(8192);
    s.flush();
    s.close();
    const ro = new FileStore(f, true);
    expect(ro.size).toBe(8192);
    expect(() => ro.write(0, new Uint8Array(1))).toThrow(/read-only/);
    ro.close();
  });

  it('raw images: create, write, read, info', () => {
    createRawFile(p('r.raw'), 2 * MiB);
    const img = openImageFile(p('r.raw'), { format: 'raw' });
    img.write(MiB, fill(4096, 3));
    img.close();
    const again = openImageFile(p('r.raw'));
    expect(again.format).toBe('raw');
    expect(again.info()).toMatchObject({ format: 'raw', virtualSize: 2 * MiB, fileSize: 2 * MiB });
    const b = new Uint8Array(4096);
    again.read(MiB, b);
    sameBytes(b, fill(4096, 3));
    again.close();
  });

  it('missing files and missing backing files are one-line errors', () => {
    expect(() => openImageFile(p('nope.qcow2'))).toThrow(/nope\.qcow2: no such file$/);
    createRawFile(p('gone.raw'), MiB);
    createOverlayFile(p('orphan.qcow2'), 'gone.raw', { backingFormat: 'raw' });
    unlinkSync(p('gone.raw'));
    expect(() => openImageFile(p('orphan.qcow2'))).toThrow(/orphan\.qcow2: backing file 'gone\.raw' not found$/);
  });
});

describe.skipIf(!QEMU_IMG)('images hyperlab writes, checked by qemu-img', () => {
  it.each([16, 12, 9])('empty qcow2, cluster_bits %i: random writes pass check and compare', (bits) => {
    const img = p(`h${bits}.qcow2`);
    const ref = p(`h${bits}.raw`);
    createQcow2File(img, 6 * MiB, bits);
    createRawFile(ref, 6 * MiB);
    expectCheckPasses(img);
    const q = openImageFile(img, { format: 'qcow2' });
    writeBoth(q, ref, bits, 150);
    q.close();
    expectCheckPasses(img);
    qemuImg('compare', '-f', 'qcow2', '-F', 'raw', img, ref);
    const info = JSON.parse(qemuImg('info', '--output=json', img)) as { 'virtual-size': number; 'cluster-size': number; format: string };
    expect(info).toMatchObject({ 'virtual-size': 6 * MiB, 'cluster-size': 2 ** bits, format: 'qcow2' });
  });

  it('the refcount table grows and moves (512-byte clusters, 12 MiB written): check and compare pass', () => {
    const img = p('grow.qcow2');
    const ref = p('grow.raw');
    createQcow2File(img, 24 * MiB, 9);
    createRawFile(ref, 24 * MiB);
    const q = openImageFile(img, { format: 'qcow2' });
    const r = openImageFile(ref, { format: 'raw' });
    for (let i = 0; i < 12; i++) {
      const d = fill(MiB, i + 1);
      q.write(i * 2 * MiB, d);
      r.write(i * 2 * MiB, d);
      if (i % 3 === 2) q.flush();
    }
    q.close();
    r.close();
    const table = new Uint8Array(8);
    const s = new FileStore(img, true);
    s.read(48, table);
    s.close();
    expect(new DataView(table.buffer).getUint32(4)).toBeGreaterThan(512); // no longer right after the header
    expectCheckPasses(img);
    qemuImg('compare', '-f', 'qcow2', '-F', 'raw', img, ref);
  });

  it('overlays over raw and over qcow2 bases: check and compare, bases unchanged', () => {
    const base = p('base.raw');
    writeFileSync(base, fill(4 * MiB, 77));
    createOverlayFile(p('ov1.qcow2'), 'base.raw', { backingFormat: 'raw' });
    const ref = p('ov1.ref');
    writeFileSync(ref, fill(4 * MiB, 77));
    const o1 = openImageFile(p('ov1.qcow2'));
    expect(o1.info().backing?.name).toBe(base);
    writeBoth(o1, ref, 5, 120, 40);
    o1.close();
    expectCheckPasses(p('ov1.qcow2'));
    qemuImg('compare', p('ov1.qcow2'), ref);
    const info = JSON.parse(qemuImg('info', '--output=json', p('ov1.qcow2'))) as { 'backing-filename': string; 'backing-filename-format': string };
    expect(info).toMatchObject({ 'backing-filename': 'base.raw', 'backing-filename-format': 'raw' });
    // overlay over that overlay
    createOverlayFile(p('ov2.qcow2'), 'ov1.qcow2', { backingFormat: 'qcow2', size: 5 * MiB });
    const ref2 = p('ov2.ref');
    const r2 = new Uint8Array(5 * MiB);
    r2.set(readFileSync(ref));
    writeFileSync(ref2, r2);
    const o2 = openImageFile(p('ov2.qcow2'));
    writeBoth(o2, ref2, 6, 120, 40);
    o2.close();
    expectCheckPasses(p('ov2.qcow2'));
    expectCheckPasses(p('ov1.qcow2'));
    qemuImg('compare', p('ov2.qcow2'), ref2);
    sameBytes(new Uint8Array(readFileSync(base)), fill(4 * MiB, 77));
  });
});

describe.skipIf(!QEMU_IMG)('images qemu-img makes, read and written by hyperlab', () => {
  /** Write with qemu-io when it is installed, else put the bytes in with qemu-img convert from raw. */
  function qemuWrites(img: string, fmt: 'qcow2', rawOfSameContent: string, ops: string[]): void {
    if (QEMU_IO) {
      const r = run('qemu-io', ['-f', fmt, ...ops.flatMap((o) => ['-c', o]), img]);
      if (r.status !== 0 || /error|failed/i.test(r.out)) throw new Error(`qemu-io: ${r.out}`);
    } else {
      qemuImg('convert', '-f', 'raw', '-O', 'qcow2', rawOfSameContent, img);
    }
  }

  it.each<[string, string[]]>([
    ['default options', []],
    ['version 2 (compat=0.10)', ['-o', 'compat=0.10']],
    ['512-byte clusters', ['-o', 'cluster_size=512']],
    ['2 MiB clusters', ['-o', 'cluster_size=2M']],
    ['1-bit refcounts', ['-o', 'refcount_bits=1']],
    ['64-bit refcounts', ['-o', 'refcount_bits=64']],
    ['metadata preallocation', ['-o', 'preallocation=metadata']],
    ['lazy refcounts (closed cleanly)', ['-o', 'lazy_refcounts=on']],
  ])('qemu-img create (%s), qemu-io writes: same bytes; then hyperlab writes pass check', (_what, opts) => {
    const img = p(`q-${opts.join('').replace(/\W/g, '')}.qcow2`);
    qemuImg('create', '-q', '-f', 'qcow2', ...opts, img, '8M');
    const v2 = opts.includes('compat=0.10');
    // the raw twin, for the no-qemu-io path
    const twin = p('twin.raw');
    const t = new Uint8Array(8 * MiB);
    t.fill(0xab, 0, 65536);
    t.fill(0xcd, 70 * 1024, 300 * 1024);
    t.fill(0x11, 5 * MiB + 512, 5 * MiB + 1024);
    writeFileSync(twin, t);
    qemuWrites(img, 'qcow2', twin, [
      'write -P 0xab 0 64k',
      'write -P 0xcd 70k 230k',
      'write -P 0x11 5243392 512',
      'write -P 0x22 1M 128k',
      v2 ? 'write -P 0 1M 128k' : 'write -z 1M 128k',
    ]);
    const truth = p('truth.raw');
    qemuImg('convert', '-f', 'qcow2', '-O', 'raw', img, truth);
    const q = openImageFile(img, { format: 'qcow2' });
    sameBytes(readWhole(q), new Uint8Array(readFileSync(truth)));
    writeBoth(q, truth, 99, 80, 64);
    q.close();
    expectCheckPasses(img);
    qemuImg('compare', '-f', 'qcow2', '-F', 'raw', img, truth);
  });

  it('qemu-img create -b base -F raw and -F qcow2 overlays open; writes by both sides agree', () => {
    const base = p('qbase.raw');
    writeFileSync(base, fill(2 * MiB, 5));
    qemuImg('create', '-q', '-f', 'qcow2', '-b', 'qbase.raw', '-F', 'raw', p('qov.qcow2'));
    qemuImg('create', '-q', '-f', 'qcow2', '-b', 'qov.qcow2', '-F', 'qcow2', p('qtop.qcow2'));
    const twin = new Uint8Array(fill(2 * MiB, 5));
    twin.fill(0x5a, 4096, 8192);
    writeFileSync(p('qtwin.raw'), twin);
    if (QEMU_IO) {
      const r = run('qemu-io', ['-c', 'write -P 0x5a 4096 4096', p('qov.qcow2')]);
      expect(r.status).toBe(0);
    } else {
      const ov = openImageFile(p('qov.qcow2'));
      ov.write(4096, twin.subarray(4096, 8192));
      ov.close();
    }
    const top = openImageFile(p('qtop.qcow2'));
    expect(top.info().backing?.backing?.format).toBe('raw');
    sameBytes(readWhole(top), twin);
    writeBoth(top, p('qtwin.raw'), 3, 60, 40);
    top.close();
    expectCheckPasses(p('qtop.qcow2'));
    qemuImg('compare', p('qtop.qcow2'), p('qtwin.raw'));
  });

  it.skipIf(!QEMU_IO)('an image left dirty by a crash with lazy refcounts opens read-only only', () => {
    const img = p('dirty.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'lazy_refcounts=on', img, '4M');
    run('qemu-io', ['-c', 'write -P 0x33 0 128k', '-c', 'sigraise 9', img]); // dies with the dirty bit set
    expect(() => openImageFile(img, { format: 'qcow2' })).toThrow(/dirty.*qemu-img check -r all/);
    const ro = openImageFile(img, { format: 'qcow2', readOnly: true });
    const b = new Uint8Array(128 * 1024);
    ro.read(0, b);
    sameBytes(b, new Uint8Array(128 * 1024).fill(0x33));
    ro.close();
    qemuImg('check', '-q', '-r', 'all', img);
    const rw = openImageFile(img, { format: 'qcow2' });
    rw.write(0, new Uint8Array(512).fill(0x44));
    rw.close();
    expectCheckPasses(img);
  });

  it('refuses compressed clusters, encryption and external data files in one line', () => {
    writeFileSync(p('plain.raw'), new Uint8Array(MiB).fill(0x41)); // compressible
    qemuImg('convert', '-c', '-f', 'raw', '-O', 'qcow2', p('plain.raw'), p('comp.qcow2'));
    expect(() => openImageFile(p('comp.qcow2'))).toThrow(/^\S+comp\.qcow2: compressed clusters are not supported/);
    qemuImg(
      'create',
      '-q',
      '-f',
      'qcow2',
      '--object',
      'secret,id=s0,data=hunter2',
      '-o',
      'encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10',
      p('enc.qcow2'),
      '1M',
    );
    expect(() => openImageFile(p('enc.qcow2'))).toThrow(/encrypted qcow2 images are not supported/);
    qemuImg('create', '-q', '-f', 'qcow2', '-o', `data_file=${p('data.raw')}`, p('ext.qcow2'), '1M');
    expect(() => openImageFile(p('ext.qcow2'))).toThrow(/external data files are not supported/);
    qemuImg('create', '-q', '-f', 'qcow2', '-o', 'extended_l2=on', p('l2x.qcow2'), '1M');
    expect(() => openImageFile(p('l2x.qcow2'))).toThrow(/extended L2 entries/);
    // a backing loop made with rebase -u
    qemuImg('create', '-q', '-f', 'qcow2', p('la.qcow2'), '1M');
    qemuImg('create', '-q', '-f', 'qcow2', '-b', 'la.qcow2', '-F', 'qcow2', p('lb.qcow2'));
    qemuImg('rebase', '-u', '-f', 'qcow2', '-b', 'lb.qcow2', '-F', 'qcow2', p('la.qcow2'));
    expect(() => openImageFile(p('lb.qcow2'))).toThrow(/backing file loop/);
  });
});

describe.skipIf(!QEMU_IMG)('crash: SIGKILL after a flush', () => {
  const child = join(import.meta.dirname, 'blockCrashChild.ts');

  async function crash(mode: 'idle' | 'busy', rounds: number): Promise<string> {
    const base = p(`cbase-${mode}.raw`);
    writeFileSync(base, fill(8 * MiB, 9));
    const img = p(`crash-${mode}.qcow2`);
    createOverlayFile(img, `cbase-${mode}.raw`, { backingFormat: 'raw' });
    const proc = spawn(process.execPath, ['--import', 'tsx', child, img, String(rounds), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((res, rej) => {
      let out = '';
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('flushed\n')) res();
      });
      proc.on('exit', (code) => rej(new Error(`child exited (${code}) before flushing: ${err}`)));
    });
    if (mode === 'busy') await new Promise((r) => setTimeout(r, 300));
    proc.kill('SIGKILL');
    await new Promise((r) => proc.on('exit', r));
    // what was flushed is there
    const want = fill(8 * MiB, 9);
    for (let r = 0; r < rounds; r++) {
      const { offset, data } = crashPattern(r);
      want.set(data, offset);
    }
    const q = openImageFile(img, { readOnly: true });
    const got = readWhole(q);
    q.close();
    sameBytes(got.subarray(0, 4 * MiB), want.subarray(0, 4 * MiB));
    if (mode === 'idle') sameBytes(got, want);
    const c = checkQcow2(new FileStore(img, true));
    expect(c.errors).toEqual([]);
    return img;
  }

  it('killed idle right after the flush: the data is there and qemu-img check passes', async () => {
    const img = await crash('idle', 300);
    expectCheckPasses(img);
  });

  it('killed while writing more without a flush: the flushed data is there, no corruption', async () => {
    const img = await crash('busy', 200);
    const r = run('qemu-img', ['check', '-f', 'qcow2', img]);
    // 0: clean; 3: leaked clusters only (what QEMU itself may leave after a crash).
    expect(r.out).not.toMatch(/ERROR/);
    expect([0, 3]).toContain(r.status);
  });
});
