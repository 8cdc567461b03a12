/**
 * The disk benchmark in Chromium (the `disk` part of `npm run bench:browser`, also
 * `npm run bench -- --disk --browser`): the same guest command as bench/disk.ts, with the
 * disks in the page's OPFS (`disks/`, served by the hypervisor worker through sync access
 * handles) instead of files in a temporary directory.
 *
 *  - pv raw: the pv teaching OS (guests/teaching-os-pv.elf, 32 MiB) with an 8 MiB raw image
 *    as xvda (blkfront, blkback), `disk bench 8`;
 *  - pv qcow2 overlay: the same over a fresh qcow2 overlay of that raw image;
 *  - hvm raw: the hvm teaching OS (guests/teaching-os-hvm.elf, 32 MiB) with the raw image as
 *    a virtio-blk disk, `disk bench 8`.
 *
 * Each run uploads a fresh base (a pattern, not zeros: the bench reads the content and writes
 * it back), boots, runs the command, and destroys the domain and the images. The guest's
 * `timing:` lines are read by bench/disk.ts's parseDiskBench, and the runs are summarised by
 * its summarizePv: the backend's counters come from window.hyperlab.vbds (blkback) and
 * virtioDisks (virtio-blk), the exits by reason from window.hyperlab.stats(id).exits.
 */
import type { Page } from '@playwright/test';
import { parseDiskBench, summarizePv, type PvDiskRun } from './disk';

/** The members of window.hyperlab this part uses (src/web/protocol/automationTypes.ts). */
interface DiskPageStats {
  readonly rdReq: number;
  readonly wrReq: number;
  readonly flReq: number;
  readonly notifyIn: number;
  readonly notifyOut: number;
}
interface DiskPageHyperlab {
  create(spec: { readonly config: string }): Promise<number>;
  destroy(id: number): Promise<void>;
  waitForText(id: number, text: string, timeoutMs?: number): Promise<string>;
  sendInput(id: number, text: string): Promise<void>;
  consoleText(id: number): string;
  stats(id: number): { readonly seq: number; readonly exits: Readonly<Record<string, number>> };
  vbds(id: number): Promise<{ readonly stats: DiskPageStats }[]>;
  virtioDisks(id: number): Promise<{ readonly stats: DiskPageStats }[]>;
  readonly disks: {
    upload(name: string, bytes: Uint8Array): Promise<unknown>;
    create(req: { name: string; format: 'raw' | 'qcow2'; backing?: string }): Promise<unknown>;
    remove(name: string): Promise<void>;
  };
}
interface DiskPageGlobals {
  hyperlab?: DiskPageHyperlab;
  performance: { now(): number };
}

export interface BrowserDiskCase {
  kind: 'pv' | 'hvm';
  format: 'raw' | 'qcow2';
}

/** What one run in the page hands back: the console text of the command and the counters around it. */
interface PageRun {
  text: string;
  ms: number;
  before: DiskPageStats;
  after: DiskPageStats;
  exitsBefore: Record<string, number>;
  exitsAfter: Record<string, number>;
}

export const BROWSER_DISK_CASES: readonly BrowserDiskCase[] = [
  { kind: 'pv', format: 'raw' },
  { kind: 'pv', format: 'qcow2' },
  { kind: 'hvm', format: 'raw' },
];

/** Exits by reason between two snapshots (reasons that did not move are left out). */
export function exitDelta(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

/** One boot and one `disk bench MIB` in the page (a `?boot=` page of the lab). */
export async function measureBrowserDisk(page: Page, c: BrowserDiskCase, mib = 8): Promise<PvDiskRun> {
  const r: PageRun = await page.evaluate(
    async ([kind, format, mib]) => {
      const g = globalThis as unknown as DiskPageGlobals;
      const h = g.hyperlab!;
      const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
      const base = 'diskbench-base.raw';
      const overlay = 'diskbench-overlay.qcow2';
      const bytes = new Uint8Array(mib << 20);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 12)) & 0xff;
      await h.disks.upload(base, bytes);
      let spec = `${base},raw,xvda,rw`;
      if (format === 'qcow2') {
        await h.disks.create({ name: overlay, format: 'qcow2', backing: base });
        spec = `format=qcow2, vdev=xvda, access=rw, target=${overlay}`;
      }
      const config = [`name = "diskbench"`, `type = "${kind}"`, 'memory = 32', `kernel = "guests/teaching-os-${kind}.elf"`, `disk = [ '${spec}' ]`, ''].join(
        '\n',
      );
      const id = await h.create({ config });
      try {
        // hvm guests do not know their name.
        await h.waitForText(id, kind === 'pv' ? 'diskbench$ ' : 'tos$ ', 60_000);
        const disk = async (): Promise<DiskPageStats> => {
          const [d] = kind === 'pv' ? await h.vbds(id) : await h.virtioDisks(id);
          if (!d) throw new Error('the domain has no disk');
          return { ...d.stats };
        };
        // The exits come with the page's statistics reports: take them once two newer reports came.
        const settledExits = async (): Promise<Record<string, number>> => {
          const seq = h.stats(id).seq;
          const end = g.performance.now() + 10_000;
          while (h.stats(id).seq < seq + 2 && g.performance.now() < end) await sleep(20);
          return { ...h.stats(id).exits };
        };
        const exitsBefore = await settledExits();
        const before = await disk();
        const mark = h.consoleText(id).length;
        const t0 = g.performance.now();
        await h.sendInput(id, `disk bench ${mib}\n`);
        const done = /timing: disk bench: \d+ requests.*\n/;
        const end = t0 + 600_000;
        while (!done.test(h.consoleText(id).slice(mark).replace(/\r\n/g, '\n'))) {
          if (g.performance.now() > end) throw new Error(`disk bench did not finish:\n${h.consoleText(id).slice(mark)}`);
          await sleep(5);
        }
        const ms = g.performance.now() - t0;
        const after = await disk();
        const exitsAfter = await settledExits();
        return { text: h.consoleText(id).slice(mark), ms, before, after, exitsBefore, exitsAfter };
      } finally {
        await h.destroy(id);
        // The images are refused while the domain is still being torn down: try for 10 s (a
        // leftover image makes the next run's upload fail with its name taken).
        for (const name of format === 'qcow2' ? [overlay, base] : [base]) {
          for (let i = 0; i < 100; i++) {
            const removed = await h.disks.remove(name).then(
              () => true,
              () => false,
            );
            if (removed) break;
            await sleep(100);
          }
        }
      }
    },
    [c.kind, c.format, mib] as const,
  );
  const guest = parseDiskBench(r.text);
  if (!guest.seqRead || !guest.randRead4k) throw new Error(`disk bench printed no figures:\n${r.text}`);
  const req = (s: DiskPageStats): number => s.rdReq + s.wrReq + s.flReq;
  return {
    guest,
    backendRequests: req(r.after) - req(r.before),
    notifyIn: r.after.notifyIn - r.before.notifyIn,
    notifyOut: r.after.notifyOut - r.before.notifyOut,
    exits: exitDelta(r.exitsBefore, r.exitsAfter),
    seconds: r.ms / 1000,
  };
}

/** Every case `runs` times on one page; a line per run through `log`. The JSON's `disk` part. */
export async function measureDiskBrowser(page: Page, runs: number, log: (line: string) => void, mib = 8): Promise<Record<string, unknown>> {
  const pv: Record<string, unknown> = {};
  const hvm: Record<string, unknown> = {};
  for (const c of BROWSER_DISK_CASES) {
    const rs: PvDiskRun[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await measureBrowserDisk(page, c, mib);
      rs.push(r);
      const g = r.guest;
      const exits = Object.values(r.exits).reduce((a, b) => a + b, 0);
      log(
        `Chromium ${c.kind === 'pv' ? 'pv blkfront' : 'hvm virtio-blk'} ${c.format === 'raw' ? 'raw' : 'qcow2 overlay'} (OPFS) run ${i + 1}/${runs}: ` +
          `seq r/w ${g.seqRead?.mbPerSecond.toFixed(1) ?? '-'}/${g.seqWrite?.mbPerSecond.toFixed(1) ?? '-'} MB/s, ` +
          `4k r/w ${g.randRead4k?.iops ?? '-'}/${g.randWrite4k?.iops ?? '-'} IOPS, ` +
          `${(exits / r.backendRequests).toFixed(2)} exits/request, ${(r.backendRequests / Math.max(1, r.notifyIn)).toFixed(1)} requests/notification`,
      );
    }
    (c.kind === 'pv' ? pv : hvm)[c.format === 'raw' ? 'raw' : 'qcow2Overlay'] = summarizePv(rs);
  }
  return {
    storage: 'OPFS disks/ (the hypervisor worker, sync access handles)',
    command: `disk bench ${mib}`,
    diskMiB: mib,
    runs,
    pv: { guest: 'guests/teaching-os-pv.elf', ...pv },
    hvm: { guest: 'guests/teaching-os-hvm.elf', device: 'virtio-blk on virtio-mmio', ...hvm },
  };
}
