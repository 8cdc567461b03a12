/**
 * `npm run bench -- --disk`: disk benchmarks in Node (bench/results/disk.json).
 *
 * 1. The image layer alone (bench/disk-image.ts): raw and a qcow2 overlay over it.
 * 2. The pv split block driver end to end: the teaching OS (public/guests/teaching-os-pv.elf)
 *    as a pv domain with a disk in a temporary directory, served by Domain-0's blkback; the
 *    guest's `disk bench` (guests/teaching-os/kernel/disk.c) prints MB/s and IOPS, and the
 *    blkback counters and the domain's exits give exits per request and requests per
 *    notification. Once on a raw image, once on a qcow2 overlay over a raw base.
 * 3. The same for hvm: the hvm teaching OS (public/guests/teaching-os-hvm.elf, its
 *    virtio-blk driver guests/teaching-os/hvm/virtio_blk.c) as an hvm domain whose disk is a
 *    virtio-blk device (src/core/backends/blk/virtioBlk.ts) served in the hypervisor thread;
 *    the same requests (44 KiB sequential, 4 KiB random, 8 in flight), so exits per request
 *    and requests per notification compare the two front doors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hypervisor } from '../src/core/xen/common/hypervisor';
import type { Domain } from '../src/core/xen/common/domain';
import { Toolstack } from '../src/core/tools/toolstack';
import { createOverlayFile, openImageFile } from '../src/node/blockFile';
import { guestImage } from '../src/node/paths';
import { nodeVcpuHost } from '../src/node/vcpuHost';
import { ensureWorkerScript } from '../src/node/workerScript';
import { measureDiskImage, type DiskImageBench } from './disk-image';
import { measureLinuxDd } from './diskLinux';

export interface Rate {
  mbPerSecond: number;
  iops: number;
}

/** What the guest's `disk bench` printed (figures it did not print are absent). */
export interface GuestDiskBench {
  seqRead?: Rate;
  seqWrite?: Rate;
  randRead4k?: Rate;
  randWrite4k?: Rate;
  requests?: number;
  notificationsSent?: number;
  eventsReceived?: number;
}

const KEYS: [RegExp, keyof GuestDiskBench][] = [
  [/^sequential read /, 'seqRead'],
  [/^sequential write /, 'seqWrite'],
  [/^random read /, 'randRead4k'],
  [/^random write /, 'randWrite4k'],
];

/** Read the `timing:` lines of the teaching OS's `disk bench`. */
export function parseDiskBench(text: string): GuestDiskBench {
  const r: GuestDiskBench = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^timing: (.+): \d+\.\d+ s, (\d+\.\d) MB\/s, (\d+) IOPS\s*$/.exec(line);
    if (m) {
      const key = KEYS.find(([re]) => re.test(m[1]!))?.[1];
      if (key) (r as Record<string, Rate>)[key] = { mbPerSecond: Number(m[2]), iops: Number(m[3]) };
      continue;
    }
    // pv counts event-channel events, hvm virtio interrupts.
    const t = /^timing: disk bench: (\d+) requests, (\d+) notifications sent, (\d+) (?:events|interrupts) received/.exec(line);
    if (t) {
      r.requests = Number(t[1]);
      r.notificationsSent = Number(t[2]);
      r.eventsReceived = Number(t[3]);
    }
  }
  return r;
}

export interface PvDiskRun {
  guest: GuestDiskBench;
  /** The backend's counters over the command (blkback's, or virtio-blk's: QueueNotify exits in, interrupts out): requests served (read, write, flush), notifications in and out. */
  backendRequests: number;
  notifyIn: number;
  notifyOut: number;
  /** Every exit of the domain over the command (by reason). */
  exits: Record<string, number>;
  seconds: number;
}

const exitCounts = (d: Domain): Map<string, number> => new Map(d.exits);

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * One boot of the teaching OS with a `mib` MiB disk (at most 8: the guest's limit) (raw, or a
 * fresh qcow2 overlay over a raw base) and one `disk bench`: a pv domain (blkfront, blkback) or
 * an hvm domain (virtio-blk).
 */
export async function measurePvDisk(format: 'raw' | 'qcow2', mib = 8, kind: 'pv' | 'hvm' = 'pv'): Promise<PvDiskRun> {
  const dir = mkdtempSync(join(tmpdir(), 'hyperlab-disk-bench-'));
  const hv = new Hypervisor({ memoryMiB: 64, pcpus: 2, host: nodeVcpuHost(await ensureWorkerScript()) });
  hv.start();
  try {
    // Not zeros: the bench reads the content and writes it back.
    const base = join(dir, 'base.raw');
    writeFileSync(
      base,
      new Uint8Array(mib << 20).map((_, i) => (i * 31 + (i >> 12)) & 0xff),
    );
    let spec = `${base},raw,xvda,rw`;
    if (format === 'qcow2') {
      createOverlayFile(join(dir, 'overlay.qcow2'), 'base.raw', { backingFormat: 'raw' });
      spec = `format=qcow2, vdev=xvda, access=rw, target=${join(dir, 'overlay.qcow2')}`;
    }
    const ts = new Toolstack(hv, {
      readFile: () => readFileSync(guestImage(`teaching-os-${kind}`)),
      openDisk: (s) => openImageFile(s.target, { format: s.format, readOnly: s.access === 'ro' }),
    });
    let text = '';
    let domid = -1;
    const off = hv.on('console', (id, b) => {
      if (id === domid) text += String.fromCharCode(...b);
    });
    try {
      const d = ts.create(`name = "diskbench"\ntype = "${kind}"\nmemory = 32\nkernel = "tos"\ndisk = [ '${spec}' ]`);
      domid = d.domid;
      // Console output before `domid` was known is in the domain's history.
      text = String.fromCharCode(...d.console);
      await until(() => /(?:diskbench|tos)\$ $/.test(text.replace(/\r\n/g, '\n')), 60_000, 'the prompt'); // hvm guests do not know their name
      const stats = () => ts.disks.statsOf(d.domid)[0]!;
      const s0 = { ...stats() };
      const e0 = exitCounts(d);
      const mark = text.length;
      const t0 = performance.now();
      hv.consoleInput(d.domid, new TextEncoder().encode(`disk bench ${mib}\n`));
      await until(() => /timing: disk bench: \d+ requests.*\n/.test(text.slice(mark).replace(/\r\n/g, '\n')), 600_000, 'disk bench');
      const seconds = (performance.now() - t0) / 1000;
      const s1 = stats();
      const exits: Record<string, number> = {};
      for (const [k, v] of d.exits) if (v - (e0.get(k) ?? 0) > 0) exits[k] = v - (e0.get(k) ?? 0);
      const out = text.slice(mark);
      const guest = parseDiskBench(out);
      if (!guest.seqRead || !guest.randRead4k) throw new Error(`disk bench printed no figures:\n${out}`);
      return {
        guest,
        backendRequests: s1.rdReq + s1.wrReq + s1.flReq - (s0.rdReq + s0.wrReq + s0.flReq),
        notifyIn: s1.notifyIn - s0.notifyIn,
        notifyOut: s1.notifyOut - s0.notifyOut,
        exits,
        seconds,
      };
    } finally {
      off();
    }
  } finally {
    hv.shutdownHost();
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const round = (x: number): number => Math.round(x * 1000) / 1000;
const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

/** Medians and every run of `runs` (also the Chromium part, bench/diskBrowser.ts). */
export function summarizePv(runs: PvDiskRun[]): Record<string, unknown> {
  const rate = (k: 'seqRead' | 'seqWrite' | 'randRead4k' | 'randWrite4k'): Record<string, unknown> | undefined => {
    const xs = runs.map((r) => r.guest[k]).filter((x): x is Rate => x !== undefined);
    if (!xs.length) return undefined;
    return {
      medianMbPerSecond: round(median(xs.map((x) => x.mbPerSecond))),
      medianIops: Math.round(median(xs.map((x) => x.iops))),
      mbPerSecond: xs.map((x) => x.mbPerSecond),
      iops: xs.map((x) => x.iops),
    };
  };
  const perReq = runs.map((r) => sum(r.exits) / r.backendRequests);
  // The same without the console's exits (the bench's printed lines: UART register exits on hvm, console_io on pv).
  const console = (k: string): boolean => k === 'mmio:uart0' || k === 'hypercall:console_io';
  const diskPerReq = runs.map((r) => sum(Object.fromEntries(Object.entries(r.exits).filter(([k]) => !console(k)))) / r.backendRequests);
  const reqPerNotify = runs.map((r) => r.backendRequests / Math.max(1, r.notifyIn));
  const reqPerGuestNotify = runs.map((r) => (r.guest.requests ?? 0) / Math.max(1, r.guest.notificationsSent ?? 0));
  return {
    seqRead: rate('seqRead'),
    seqWrite: rate('seqWrite'),
    randRead4k: rate('randRead4k'),
    randWrite4k: rate('randWrite4k'),
    // Every exit of the domain during the command over the requests blkback served (the save pass, the flush included).
    medianExitsPerRequest: round(median(perReq)),
    exitsPerRequest: perReq.map(round),
    medianExitsPerRequestWithoutConsole: round(median(diskPerReq)),
    // Requests blkback served per notification it received from the frontend.
    medianRequestsPerNotification: round(median(reqPerNotify)),
    requestsPerNotification: reqPerNotify.map(round),
    // The guest's own count (timed passes only): requests it queued per notification it sent.
    medianGuestRequestsPerNotification: round(median(reqPerGuestNotify)),
    runs: runs.map((r) => ({
      seconds: round(r.seconds),
      backendRequests: r.backendRequests,
      notifyIn: r.notifyIn,
      notifyOut: r.notifyOut,
      guestRequests: r.guest.requests,
      guestNotificationsSent: r.guest.notificationsSent,
      guestEventsReceived: r.guest.eventsReceived,
      exits: r.exits,
    })),
  };
}

export interface DiskBench {
  image: DiskImageBench;
  pv: Record<string, unknown>;
  hvm: Record<string, unknown>;
  /** Linux's dd of 32 MiB to and from its root disk (bench/diskLinux.ts). */
  linuxDd: Record<string, unknown>;
}

/** Both parts, `runs` times each; prints a line per run through `log`. */
export async function measureDisk(runs: number, log: (line: string) => void, mib = 8): Promise<DiskBench> {
  log('disk image layer (bench/disk-image.ts):');
  const image = measureDiskImage(runs, 64, 16384, (l) => log(`  ${l}`));
  const pv: Record<string, unknown> = {};
  const hvm: Record<string, unknown> = {};
  for (const [kind, format] of [
    ['pv', 'raw'],
    ['pv', 'qcow2'],
    ['hvm', 'raw'],
    ['hvm', 'qcow2'],
  ] as const) {
    const rs: PvDiskRun[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await measurePvDisk(format, mib, kind);
      rs.push(r);
      const g = r.guest;
      const f = (x: Rate | undefined, unit: 'mb' | 'iops'): string => (x ? (unit === 'mb' ? x.mbPerSecond.toFixed(1) : String(x.iops)) : '-');
      log(
        `${kind === 'pv' ? 'pv blkfront' : 'hvm virtio-blk'} ${format === 'raw' ? 'raw' : 'qcow2 overlay'} run ${i + 1}/${runs}: seq r/w ${f(g.seqRead, 'mb')}/${f(g.seqWrite, 'mb')} MB/s, 4k r/w ${f(g.randRead4k, 'iops')}/${f(g.randWrite4k, 'iops')} IOPS, ` +
          `${(sum(r.exits) / r.backendRequests).toFixed(2)} exits/request, ${(r.backendRequests / Math.max(1, r.notifyIn)).toFixed(1)} requests/notification`,
      );
    }
    (kind === 'pv' ? pv : hvm)[format === 'raw' ? 'raw' : 'qcow2Overlay'] = summarizePv(rs);
  }
  log('Linux dd on its root disk (bench/diskLinux.ts):');
  const linuxDd = await measureLinuxDd(runs, (l) => log(`  ${l}`));
  return {
    image,
    linuxDd,
    pv: { guest: 'public/guests/teaching-os-pv.elf', command: `disk bench ${mib}`, diskMiB: mib, ...pv },
    hvm: { guest: 'public/guests/teaching-os-hvm.elf', device: 'virtio-blk on virtio-mmio', command: `disk bench ${mib}`, diskMiB: mib, ...hvm },
  };
}
