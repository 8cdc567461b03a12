/**
 * The image layer alone, in Node: sequential (1 MiB requests) and 4 KiB random read and
 * write MB/s and IOPS for a raw image and for a qcow2 overlay over it (fresh, so its first
 * writes allocate clusters and copy-on-write from the base). Writes end with a flush (fsync)
 * inside the timing. Reads mostly come from the page cache: this measures the layer's own
 * cost, not the disk's. Medians of --runs runs, printed and written as JSON
 * (bench/results/disk-image.json).
 *
 *   npx tsx bench/disk-image.ts [--runs 5] [--size-mib 64] [--ops 16384] [--out FILE]
 *
 * `npm run bench -- --disk` runs it too (bench/disk.ts), into bench/results/disk.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BlockImage } from '../src/core/block/image';
import { createOverlayFile, createRawFile, openImageFile } from '../src/node/blockFile';
import { projectRoot } from '../src/node/paths';
import { seededRandom } from '../src/testing/support';

export interface Figure {
  mbPerSecond: number;
  iops: number;
}
export type Row = Record<'seqWrite' | 'seqRead' | 'randWrite4k' | 'randRead4k', Figure>;
/** The overlay also reads through to its base before anything is written. */
export type OverlayRow = Row & Record<'seqReadBacking' | 'randRead4kBacking', Figure>;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const rng = seededRandom;

function timed(bytes: number, requests: number, f: () => void): Figure {
  const t0 = performance.now();
  f();
  const s = (performance.now() - t0) / 1000;
  return { mbPerSecond: bytes / s / 1e6, iops: requests / s };
}

function seq(img: BlockImage, write: boolean): Figure {
  const buf = new Uint8Array(1 << 20).fill(0x5a);
  const n = img.size / buf.length;
  return timed(img.size, n, () => {
    for (let i = 0; i < n; i++) {
      if (write) img.write(i * buf.length, buf);
      else img.read(i * buf.length, buf);
    }
    if (write) img.flush();
  });
}

function random(img: BlockImage, write: boolean, ops: number, seed: number): Figure {
  const buf = new Uint8Array(4096).fill(0xa5);
  const rand = rng(seed);
  const blocks = img.size / 4096;
  return timed(ops * 4096, ops, () => {
    for (let i = 0; i < ops; i++) {
      const off = Math.floor(rand() * blocks) * 4096;
      if (write) img.write(off, buf);
      else img.read(off, buf);
    }
    if (write) img.flush();
  });
}

function runOnce(dir: string, size: number, ops: number, run: number): { raw: Row; qcow2Overlay: OverlayRow } {
  const base = join(dir, `base${run}.raw`);
  createRawFile(base, size);
  const raw = openImageFile(base, { format: 'raw' });
  const rawRow: Row = {
    seqWrite: seq(raw, true),
    seqRead: seq(raw, false),
    randWrite4k: random(raw, true, ops, run + 1),
    randRead4k: random(raw, false, ops, run + 2),
  };
  raw.close();
  const ov = join(dir, `overlay${run}.qcow2`);
  createOverlayFile(ov, `base${run}.raw`, { backingFormat: 'raw' });
  const q = openImageFile(ov, { format: 'qcow2' });
  // Fresh overlay: reads pass through to the base; random writes allocate and
  // copy-on-write from the base; a sequential write then fills every cluster, and the
  // last reads come from the overlay.
  const seqReadBacking = seq(q, false);
  const randRead4kBacking = random(q, false, ops, run + 2);
  const randWrite4k = random(q, true, ops, run + 1);
  const seqWrite = seq(q, true);
  const qRow: OverlayRow = { seqWrite, seqRead: seq(q, false), randWrite4k, randRead4k: random(q, false, ops, run + 2), seqReadBacking, randRead4kBacking };
  q.close();
  return { raw: rawRow, qcow2Overlay: qRow };
}

function summarize<R extends Row>(rows: R[]): R {
  const out: Record<string, Figure> = {};
  for (const k of Object.keys(rows[0]!) as (keyof R & string)[]) {
    out[k] = {
      mbPerSecond: round(median(rows.map((r) => (r[k] as Figure).mbPerSecond))),
      iops: Math.round(median(rows.map((r) => (r[k] as Figure).iops))),
    };
  }
  return out as R;
}

const round = (x: number): number => Math.round(x * 10) / 10;
const round2 = (x: number): number => Math.round(x * 100) / 100;

export interface DiskImageBench {
  runs: number;
  imageBytes: number;
  randomOps: number;
  note: string;
  raw: Row;
  qcow2Overlay: OverlayRow;
  qcow2ReadTimeOverRaw: Record<'seqRead' | 'randRead4k' | 'seqReadBacking' | 'randRead4kBacking', number>;
}

/** The image layer's figures: `runs` runs on a fresh temporary directory (removed after), medians. */
export function measureDiskImage(
  runs = 5,
  sizeMiB = 64,
  ops = 16384,
  log: (line: string) => void = (l) => void process.stderr.write(`${l}\n`),
): DiskImageBench {
  const dir = mkdtempSync(join(tmpdir(), 'hyperlab-disk-bench-'));
  try {
    runOnce(dir, 4 << 20, 1024, -1); // warm-up, not counted
    const raws: Row[] = [];
    const qs: OverlayRow[] = [];
    for (let r = 0; r < runs; r++) {
      const { raw, qcow2Overlay } = runOnce(dir, sizeMiB << 20, ops, r);
      raws.push(raw);
      qs.push(qcow2Overlay);
      log(
        `run ${r + 1}/${runs}: raw seq w/r ${raw.seqWrite.mbPerSecond.toFixed(0)}/${raw.seqRead.mbPerSecond.toFixed(0)} MB/s, 4k w/r ${raw.randWrite4k.iops.toFixed(0)}/${raw.randRead4k.iops.toFixed(0)} IOPS; ` +
          `qcow2 overlay seq w/r ${qcow2Overlay.seqWrite.mbPerSecond.toFixed(0)}/${qcow2Overlay.seqRead.mbPerSecond.toFixed(0)} MB/s, 4k w/r ${qcow2Overlay.randWrite4k.iops.toFixed(0)}/${qcow2Overlay.randRead4k.iops.toFixed(0)} IOPS, ` +
          `through to the base seq ${qcow2Overlay.seqReadBacking.mbPerSecond.toFixed(0)} MB/s, 4k ${qcow2Overlay.randRead4kBacking.iops.toFixed(0)} IOPS`,
      );
    }
    const raw = summarize(raws);
    const qcow2Overlay = summarize(qs);
    return {
      runs,
      imageBytes: sizeMiB << 20,
      randomOps: ops,
      note: 'image layer only (no guest); writes include a final flush (fsync); reads are mostly from the page cache',
      raw,
      qcow2Overlay,
      // How many times longer a qcow2 overlay read takes than a raw one (target: at most 1.5).
      qcow2ReadTimeOverRaw: {
        seqRead: round2(raw.seqRead.mbPerSecond / qcow2Overlay.seqRead.mbPerSecond),
        randRead4k: round2(raw.randRead4k.iops / qcow2Overlay.randRead4k.iops),
        seqReadBacking: round2(raw.seqRead.mbPerSecond / qcow2Overlay.seqReadBacking.mbPerSecond),
        randRead4kBacking: round2(raw.randRead4k.iops / qcow2Overlay.randRead4kBacking.iops),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(argv: string[]): void {
  let runs = 5;
  let sizeMiB = 64;
  let ops = 16384;
  let out = join(projectRoot(), 'bench', 'results', 'disk-image.json');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') runs = Number(argv[++i]);
    else if (a === '--size-mib') sizeMiB = Number(argv[++i]);
    else if (a === '--ops') ops = Number(argv[++i]);
    else if (a === '--out') out = argv[++i] ?? out;
    else throw new Error(`unknown option '${a}'`);
  }
  const r = measureDiskImage(runs, sizeMiB, ops);
  const json = JSON.stringify(
    { benchmark: 'disk-image', date: new Date().toISOString(), host: { node: process.version, platform: `${process.platform}-${process.arch}` }, ...r },
    null,
    2,
  );
  process.stdout.write(`${json}\n`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${json}\n`);
}

// Run as a script (npx tsx bench/disk-image.ts), not when bench/main.ts imports it for `bench --disk`.
if (/disk-image\.ts$/.test(process.argv[1] ?? '')) main(process.argv.slice(2));
