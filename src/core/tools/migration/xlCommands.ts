/**
 * `xl save [-c] [-p] DOM FILE` and `xl restore [-p] [CONFIG] FILE` (xl(1)), for the Domain-0
 * prompt (tools/xl.ts). Both finish later (the domain is paused and its vCPUs asked for
 * their state first): each returns its exit status as a promise, and reports a failure as
 * one line on `io.out`, prefixed as xl does.
 *
 * Failure handling, as Xen's xl: a save that fails leaves the domain running as it was (it
 * is unpaused unless it was paused before); a restore that fails leaves nothing behind.
 */
import type { Toolstack } from '../toolstack';
import type { XlIo } from '../xl';
import { restoreDomain } from './restore';
import { captureDomain, checkSavable } from './save';

function errorLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

export async function xlSave(ts: Toolstack, args: readonly string[], io: XlIo): Promise<number> {
  const flags = new Set<string>();
  const rest = [...args];
  while (rest[0]?.startsWith('-')) flags.add(rest.shift()!);
  for (const f of flags) if (f !== '-c' && f !== '-p') throw new Error(`save: unknown option ${f} (usage: xl save [-c] [-p] DOM FILE)`);
  if (rest.length !== 2) throw new Error('usage: xl save [-c] [-p] DOM FILE');
  if (!io.writeBytes) throw new Error('save: this host cannot write files');
  const d = ts.find(rest[0]!);
  checkSavable(d, ts.disks.of(d.domid).length);
  const wasPaused = d.paused;
  const t0 = performance.now();
  let bytes: Uint8Array;
  try {
    bytes = await captureDomain(ts.hv, d);
    io.writeBytes(rest[1]!, bytes);
  } catch (e) {
    if (!wasPaused && ts.hv.domains.get(d.domid) === d && !d.dying) ts.hv.unpauseDomain(d.domid);
    io.out(`xl: save of domain ${d.domid} failed: ${errorLine(e)}`);
    return 1;
  }
  const ms = (performance.now() - t0).toFixed(0);
  ts.hv.dmesg(`domain ${d.domid} (${d.name}): saved to ${rest[1]} (${bytes.length} bytes, ${ms} ms)`);
  if (flags.has('-c')) {
    if (!flags.has('-p')) ts.hv.unpauseDomain(d.domid);
  } else if (!flags.has('-p')) {
    ts.hv.destroyDomain(d.domid, 'saved');
  }
  io.out(`Saved domain ${d.domid} (${d.name}) to ${rest[1]}: ${bytes.length} bytes in ${ms} ms`);
  return 0;
}

export async function xlRestore(ts: Toolstack, args: readonly string[], io: XlIo): Promise<number> {
  const rest = [...args];
  let paused = false;
  while (rest[0]?.startsWith('-')) {
    const f = rest.shift()!;
    if (f === '-p') paused = true;
    else throw new Error(`restore: unknown option ${f} (usage: xl restore [-p] [CONFIG] FILE)`);
  }
  if (rest.length < 1 || rest.length > 2) throw new Error('usage: xl restore [-p] [CONFIG] FILE');
  if (!io.readBytes) throw new Error('restore: this host cannot read files');
  const file = rest[rest.length - 1]!;
  try {
    const configText = rest.length === 2 ? io.readFile(rest[0]!) : undefined;
    const bytes = io.readBytes(file);
    const t0 = performance.now();
    const d = await restoreDomain(ts.hv, bytes, { paused, ...(configText !== undefined ? { configText } : {}) });
    io.out(`Domain ${d.domid} (${d.name}) restored from ${file} in ${(performance.now() - t0).toFixed(0)} ms${paused ? ' (paused)' : ''}`);
    return 0;
  } catch (e) {
    io.out(`xl: restore from ${file} failed: ${errorLine(e)}`);
    return 1;
  }
}
