/**
 * Linux `dd` on its disk (part of `npm run bench -- --disk`, docs/bench.md): each kernel
 * boots from a fresh qcow2 overlay over the shipped rootfs (guests/linux/diskSession.ts:
 * hvm, virtio-blk, root=/dev/vda, ext2) and copies 32 MiB to a file with conv=fsync (the
 * write is timed to stable storage), drops the page cache (/proc/sys/vm/drop_caches), and
 * reads the file back; the MB/s are the ones the guest's dd prints (guests/linux/userland/dd.c).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinuxDiskLab, diskConfig, type DiskGuest } from '../guests/linux/diskSession';
import { ensureWorkerScript } from '../src/node/workerScript';

export interface LinuxDdRun {
  writeMbPerSecond: number;
  readMbPerSecond: number;
  /** The domain's exits by reason over the two copies. */
  exits: Record<string, number>;
}

const UNIT: Record<string, number> = { '': 1e-6, k: 1e-3, M: 1, G: 1e3 };

/** The rate on dd's summary line ("... copied, 1.23 s, 27.2 MB/s"), in MB/s; undefined if absent. */
export function parseDdRate(lines: readonly string[]): number | undefined {
  for (const l of lines) {
    const m = / copied, \d+(?:\.\d+)? s, (\d+(?:\.\d+)?) ([kMG]?)B\/s$/.exec(l);
    if (m) return Number(m[1]) * UNIT[m[2]!]!;
  }
  return undefined;
}

async function ddRun(workerScript: string, guest: DiskGuest, mib: number): Promise<LinuxDdRun> {
  const dir = mkdtempSync(join(tmpdir(), 'hyperlab-dd-'));
  const lab = new LinuxDiskLab(workerScript);
  try {
    lab.create(diskConfig('dd', guest, join(dir, 'root.qcow2')));
    await lab.nextPrompt('dd');
    const d = lab.domain('dd')!;
    const exits0 = new Map(d.exits);
    const w = await lab.run('dd', `dd if=/dev/zero of=/root/dd.bin bs=64k count=${mib * 16} conv=fsync`, 600_000);
    await lab.run('dd', 'sync; echo 3 > /proc/sys/vm/drop_caches');
    const r = await lab.run('dd', 'dd if=/root/dd.bin of=/dev/null bs=64k', 600_000);
    const exits: Record<string, number> = {};
    for (const [k, v] of d.exits) if (v - (exits0.get(k) ?? 0) > 0) exits[k] = v - (exits0.get(k) ?? 0);
    const writeMbPerSecond = parseDdRate(w);
    const readMbPerSecond = parseDdRate(r);
    if (writeMbPerSecond === undefined || readMbPerSecond === undefined) throw new Error(`dd printed no rate:\n${[...w, ...r].join('\n')}`);
    await lab.poweroff('dd');
    return { writeMbPerSecond, readMbPerSecond, exits };
  } finally {
    lab.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Both kernels, `runs` times each; a line per run through `log`. */
export async function measureLinuxDd(runs: number, log: (line: string) => void, mib = 32): Promise<Record<string, unknown>> {
  const workerScript = await ensureWorkerScript();
  const out: Record<string, unknown> = { command: `dd bs=64k count=${mib * 16} (${mib} MiB), conv=fsync; drop_caches; dd back`, diskMiB: 64 };
  for (const guest of ['nommu', 'mmu'] as const) {
    const rs: LinuxDdRun[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await ddRun(workerScript, guest, mib);
      rs.push(r);
      log(`linux ${guest} dd run ${i + 1}/${runs}: write ${r.writeMbPerSecond.toFixed(1)} MB/s, read ${r.readMbPerSecond.toFixed(1)} MB/s`);
    }
    out[guest === 'nommu' ? 'linux612Nommu' : 'linux61Mmu'] = {
      medianWriteMbPerSecond: median(rs.map((r) => r.writeMbPerSecond)),
      medianReadMbPerSecond: median(rs.map((r) => r.readMbPerSecond)),
      runs: rs,
    };
  }
  return out;
}
