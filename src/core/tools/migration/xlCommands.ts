/**
 * `xl save [-c] [-p] DOM FILE` and `xl restore [-p] [CONFIG] FILE` (xl(1)), for the Domain-0
 * prompt (tools/xl.ts). The arguments, the host's file access and whether the domain can be
 * saved are checked at once (a usage error throws, as every xl command's does); the rest
 * finishes later (the domain is paused and its vCPUs asked for their state first), so each
 * returns a promise of its exit status, which rejects with one line on failure.
 *
 * Failure handling, as Xen's xl: a save that fails leaves the domain running as it was (it
 * is unpaused unless it was paused before); a restore that fails leaves nothing behind.
 */
import type { BlockImage } from '../../block/image';
import type { Toolstack } from '../toolstack';
import type { XlIo } from '../xl';
import { restoreDomain } from './restore';
import { captureDomain, checkSavable } from './save';

/**
 * The domain's backends finish what it asked and flush (the domain is paused): blkback
 * serves the requests queued in each ring; virtio-blk serves inside the guest's exit, so only
 * its image is flushed.
 */
export function quiesceDevices(ts: Toolstack, domid: number): void {
  for (const { device } of ts.disks.of(domid)) device.quiesce();
  for (const v of ts.disks.virtioOf(domid)) v.blk.image.flush();
}

const SAVE_USAGE = 'usage: xl save [-c] [-p] [--copy-storage] DOM FILE';

/** Every disk of the domain with its image (blkback's and virtio-blk's). */
function domainDisks(ts: Toolstack, domid: number): { devid: number; image: BlockImage }[] {
  return [
    ...ts.disks.of(domid).map((x) => ({ devid: x.spec.devid, image: x.device.spec.image })),
    ...ts.disks.virtioOf(domid).map((x) => ({ devid: x.spec.devid, image: x.blk.image })),
  ];
}

function errorLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

export function xlSave(ts: Toolstack, args: readonly string[], io: XlIo): Promise<number> {
  const flags = new Set<string>();
  const rest = [...args];
  while (rest[0]?.startsWith('-')) flags.add(rest.shift()!);
  for (const f of flags) if (f !== '-c' && f !== '-p' && f !== '--copy-storage') throw new Error(`save: unknown option ${f} (${SAVE_USAGE})`);
  if (rest.length !== 2) throw new Error(SAVE_USAGE);
  const write = io.writeBytes?.bind(io);
  if (!write) throw new Error('save: this host cannot write files');
  const d = ts.find(rest[0]!);
  checkSavable(d);
  const file = rest[1]!;
  return (async () => {
    const wasPaused = d.paused;
    const t0 = performance.now();
    let bytes: Uint8Array;
    try {
      bytes = await captureDomain(ts.hv, d, {
        quiesce: () => quiesceDevices(ts, d.domid),
        log: (line) => io.out(line),
        ...(flags.has('--copy-storage') ? { copyStorage: () => domainDisks(ts, d.domid) } : {}),
      });
      write(file, bytes);
    } catch (e) {
      if (!wasPaused && ts.hv.domains.get(d.domid) === d && !d.dying) ts.hv.unpauseDomain(d.domid);
      throw new Error(`save of domain ${d.domid} failed: ${errorLine(e)}`, { cause: e });
    }
    const ms = (performance.now() - t0).toFixed(0);
    ts.hv.dmesg(`domain ${d.domid} (${d.name}): saved to ${file} (${bytes.length} bytes, ${ms} ms)`);
    if (flags.has('-c')) {
      if (!flags.has('-p')) ts.hv.unpauseDomain(d.domid);
    } else if (!flags.has('-p')) {
      ts.hv.destroyDomain(d.domid, 'saved');
    }
    io.out(`Saved domain ${d.domid} (${d.name}) to ${file}: ${bytes.length} bytes in ${ms} ms`);
    return 0;
  })();
}

export function xlRestore(ts: Toolstack, args: readonly string[], io: XlIo): Promise<number> {
  const rest = [...args];
  let paused = false;
  while (rest[0]?.startsWith('-')) {
    const f = rest.shift()!;
    if (f === '-p') paused = true;
    else throw new Error(`restore: unknown option ${f} (usage: xl restore [-p] [CONFIG] FILE)`);
  }
  if (rest.length < 1 || rest.length > 2) throw new Error('usage: xl restore [-p] [CONFIG] FILE');
  const read = io.readBytes?.bind(io);
  if (!read) throw new Error('restore: this host cannot read files');
  const file = rest[rest.length - 1]!;
  const configText = rest.length === 2 ? io.readFile(rest[0]!) : undefined;
  const bytes = read(file);
  return (async () => {
    const t0 = performance.now();
    let d;
    try {
      d = await restoreDomain(ts.hv, bytes, {
        paused,
        toolstack: ts,
        ...(io.writeBytes ? { writeFile: io.writeBytes.bind(io) } : {}),
        ...(configText !== undefined ? { configText } : {}),
      });
    } catch (e) {
      throw new Error(`restore from ${file} failed: ${errorLine(e)}`, { cause: e });
    }
    io.out(`Domain ${d.domid} (${d.name}) restored from ${file} in ${(performance.now() - t0).toFixed(0)} ms${paused ? ' (paused)' : ''}`);
    return 0;
  })();
}
