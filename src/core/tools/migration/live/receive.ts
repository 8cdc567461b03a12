/**
 * The receiving side of a live migration: Xen's xl `migrate_receive` (tools/xl/xl_migrate.c).
 * Banner; the stream, verified as it arrives (saveFile.ts SaveFileReader: every record's
 * checksum and place before it counts), its pages written into the incoming domain's frames
 * as each PAGE_DATA record is verified (incoming.ts, as Xen's restore does); at END the
 * domain is built around that memory as NAME--incoming and left paused (restore.ts: the
 * whole stream checked against its config first, vCPU and device state put back);
 * "domain received, ready to unpause"; then, on the permission to go, renamed NAME and
 * unpaused, and the report sent (status 0). If anything fails before the permission, the
 * incoming copy is destroyed and the sender resumes its own; if renaming or unpausing fails
 * after it, the report says so (status 1), the copy is destroyed and the sender gets the
 * permission to resume.
 */
import type { Domain } from '../../../xen/common/domain';
import type { Toolstack } from '../../toolstack';
import { parseXlConfig, validateDomainConfig } from '../../xlConfig';
import { PAGE_SIZE } from '../pageData';
import { restoreDomain } from '../restore';
import { formatXlConfig } from '../save';
import { SaveFileReader } from '../saveFile';
import type { MigrationChannel } from './channel';
import type { MigrateReceiveOptions } from './progress';
import { describe, INCOMING, MIGRATE_PERMISSION_TO_GO, MIGRATE_RECEIVER_BANNER, MIGRATE_RECEIVER_READY, MIGRATE_REPORT, sameBytes } from './protocol';
import { renameDomain } from './rename';
import { IncomingMemory } from './incoming';
import type { RestoreTimings } from '../restore';

const MiB = 1024 * 1024;
/** How many times its memory a stream may carry (round 0 and the rounds after it, at most 5 by default, each at most all of it). */
export const MAX_ROUNDS_OF_MEMORY = 8;

export async function migrateReceive(ts: Toolstack, ch: MigrationChannel, opts: MigrateReceiveOptions = {}): Promise<Domain> {
  const hv = ts.hv;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const log = opts.log ?? (() => {});
  let name = '';
  const phase = (p: 'connect' | 'transferred' | 'handover' | 'done' | 'failed', domid: number, message: string): void =>
    opts.onProgress?.({ kind: 'phase', side: 'receive', phase: p, domid, name, message });
  let d: Domain | undefined;
  let memory: IncomingMemory | undefined;
  const timings: RestoreTimings = { check: 0, create: 0, devices: 0 };
  try {
    log('migration target: Ready to receive domain.');
    await ch.send(MIGRATE_RECEIVER_BANNER);
    phase('connect', -1, 'banner sent');
    let total = 0;
    // A stream may carry each page several times (pre-copy rounds), but not without end: a
    // sender that goes on past this is refused rather than let fill the host's memory.
    let limit = Infinity;
    const reader = new SaveFileReader(
      (h) => {
        const c = validateDomainConfig(parseXlConfig(h.config));
        name = c.name;
        limit = MAX_ROUNDS_OF_MEMORY * c.maxmem * MiB + (16 << 20);
        memory = new IncomingMemory(hv.memory, c); // refuses here a domain this host cannot hold
        return { maxPfn: (c.maxmem * MiB) / PAGE_SIZE, maxVcpus: c.vcpus };
      },
      (layer, rec) => memory?.apply(layer, rec),
    );
    let pages = 0;
    let read;
    // Where the receiver's time goes while the stream comes: waiting for bytes, or verifying
    // and writing them (a receiver slower than the sender falls behind, and what it has not
    // read yet when the source pauses is downtime).
    let tFirst = 0,
      busyMs = 0,
      waitLastMs = 0;
    for (;;) {
      const tWait = performance.now();
      const m = await ch.receive(timeoutMs);
      const tGot = performance.now();
      waitLastMs = tGot - tWait;
      if (tFirst === 0) tFirst = tGot;
      total += m.length;
      if (total > limit) throw new Error(`the stream goes on past ${limit} bytes (${MAX_ROUNDS_OF_MEMORY} times the domain's maxmem)`);
      read = reader.push(m);
      busyMs += performance.now() - tGot;
      opts.onProgress?.({ kind: 'received', side: 'receive', bytes: total, pages: (pages = Math.max(pages, Math.floor(total / (PAGE_SIZE + 8)))) });
      if (read) break;
    }
    const tEnd = performance.now();
    log(
      `migration target: stream of ${total} bytes in ${(tEnd - tFirst).toFixed(0)} ms: ${busyMs.toFixed(0)} ms verifying and writing pages (${memory?.applyMs.toFixed(0) ?? 0} ms of it writing); waited ${waitLastMs.toFixed(1)} ms for the last piece`,
    );
    const cfg = validateDomainConfig(parseXlConfig(read.header.config));
    const incoming = { ...cfg, name: cfg.name + INCOMING };
    // Verified as it came (every checksum and rule, END included); restore.ts checks it against the config and builds.
    const release = await opts.prepare?.(incoming);
    try {
      d = await restoreDomain(hv, read, { paused: true, configText: formatXlConfig(incoming), toolstack: ts, memory: memory!, timings });
    } finally {
      release?.();
    }
    log(
      `migration target: Transfer complete (${memory!.entries} pages written on arrival; domain ${d.domid} (${d.name}) built in ${(performance.now() - tEnd).toFixed(1)} ms: checks ${timings.check.toFixed(1)}, domain and vCPUs ${timings.create.toFixed(1)}, devices ${timings.devices.toFixed(1)}), requesting permission to start domain.`,
    );
    phase('transferred', d.domid, `${d.name} built, paused`);
    await ch.send(MIGRATE_RECEIVER_READY);
    const go = await ch.receive(timeoutMs);
    if (!sameBytes(go, MIGRATE_PERMISSION_TO_GO)) throw new Error(`the sender sent ${describe(go)} where xl expects the permission to go`);
  } catch (e) {
    if (d && hv.domains.get(d.domid) === d) hv.destroyDomain(d.domid, 'migration failed');
    memory?.discard(); // the frames not yet given to a domain, back and zeroed
    ch.close(`the receiver failed: ${errorLine(e)}`);
    log(`migration target: Domain creation failed: ${errorLine(e)}`);
    phase('failed', d?.domid ?? -1, errorLine(e));
    throw new Error(`migration receive failed: ${errorLine(e)}`, { cause: e });
  }
  // The domain is ours now: whatever becomes of the channel, it runs here.
  log('migration target: Got permission, starting domain.');
  phase('handover', d.domid, 'permission to go received');
  let rc = 0;
  try {
    renameDomain(hv, d, name);
    const t0 = performance.now();
    if (!opts.paused) hv.unpauseDomain(d.domid);
    log(`migration target: Domain started successsfully (renamed and unpaused in ${(performance.now() - t0).toFixed(1)} ms).`);
  } catch (e) {
    rc = 1;
    log(`migration target: Failure, destroying our copy: ${errorLine(e)}`);
  }
  try {
    await ch.send(MIGRATE_REPORT);
    await ch.send(Uint8Array.of(rc));
    if (rc !== 0) {
      hv.destroyDomain(d.domid, 'migration failed');
      log('migration target: Cleanup OK, granting sender permission to resume.');
      await ch.send(MIGRATE_PERMISSION_TO_GO);
    }
  } catch {
    // The sender went away after the handover: the domain stays here (Xen's xl does the same).
  }
  ch.close();
  if (rc !== 0) {
    phase('failed', d.domid, 'could not start the domain; the sender resumes it');
    throw new Error(`migration receive failed: could not start domain ${d.domid} (${name})`);
  }
  phase('done', d.domid, `${name} running as domain ${d.domid}`);
  return d;
}

function errorLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}
