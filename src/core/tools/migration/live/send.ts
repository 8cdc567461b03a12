/**
 * The sending side of a live migration: Xen's xl `migrate_domain` (tools/xl/xl_migrate.c)
 * around libxc's pre-copy (tools/libs/guest/xg_sr_save.c, Clark et al., NSDI 2005):
 *
 * 1. wait for the receiver's banner;
 * 2. log-dirty on (xen/common/logDirty.ts); round 0 sends every page while the domain runs;
 * 3. each later round sends the pages dirtied during the one before, until the policy
 *    stops: fewer than `dirtyThreshold` (50) dirty pages, or `maxRounds` (5) rounds, or the
 *    pages left would go in `downtimeTargetMs` at the bandwidth measured so far (QEMU's
 *    test), or, with `stopWhenNotShrinking` (off by default, not Xen's), the dirty set
 *    stopped shrinking (the guest dirties as fast as we send);
 * 4. stop-and-copy: pause, the last CLEAN, those pages, the vCPU and device state, END;
 * 5. the handshake (live/protocol.ts): "ready to unpause" -> rename NAME--migratedaway ->
 *    permission to go -> the target's report; destroy on success.
 *
 * Until the permission to go is sent, any failure (the channel breaks, the target refuses)
 * resumes the source where it was: log-dirty off, unpaused, its name back. After it, a
 * broken channel leaves the state undefined, as Xen says ("CHECK AT BOTH ENDS"): the
 * source stays paused as NAME--migratedaway.
 *
 * The stream is one save file (the same layers as `xl save`), written incrementally: the
 * PAGE_DATA records of every round, then the state records, END. A later PAGE_DATA of a
 * pfn replaces an earlier one on the receiver (libxc.ts), as in Xen's live streams.
 */
import { P2M_GRANT, P2M_MFN_MASK } from '../../../bus/bus';
import type { Domain } from '../../../xen/common/domain';
import { resumeSuspended, suspendDomain } from '../../../xen/common/domainSave';
import { requestGuestSuspend } from '../guestSuspend';
import { LogDirty } from '../../../xen/common/logDirty';
import { pvLayout } from '../../../xen/pv/builder';
import type { Toolstack } from '../../toolstack';
import { ByteWriter, type ByteWriter as Writer } from '../bytes';
import { crc32c } from '../crc32c';
import { writeDeviceState } from '../deviceState';
import { RecordWriter } from '../framing';
import { LibxcWriter } from '../libxc';
import { isZeroPage, MAX_BATCH_SIZE, PAGE_SIZE, type PageEntry } from '../pageData';
import { EMULATOR, LIBXL_IDENT_HI, LIBXL_IDENT_LO, LIBXL_VERSION, XL } from '../records';
import { checkMigratable as checkNomigrate, checkSavable, domainState, formatXlConfig } from '../save';
import { quiesceDevices } from '../xlCommands';
import { writeXlHeader } from '../xlHeader';
import { ChannelError, type MigrationChannel } from './channel';
import type { MigrateSendOptions, MigrationStats, RoundStats } from './progress';
import { describe, MIGRATE_PERMISSION_TO_GO, MIGRATE_RECEIVER_BANNER, MIGRATE_RECEIVER_READY, MIGRATE_REPORT, MIGRATED_AWAY, sameBytes } from './protocol';
import { renameDomain } from './rename';

export const DEFAULTS = { dirtyThreshold: 50, maxRounds: 5, downtimeTargetMs: 30, timeoutMs: 60_000, stopWhenNotShrinking: false } as const;

/** How long pre-copy sends before it lets the host's event loop (the scheduler, the backends) run: ms. */
const YIELD_EVERY_MS = 4;

/** Why a domain cannot be migrated (one line), checked before anything starts. */
export function checkMigratable(ts: Toolstack, d: Domain): void {
  if (d.name.endsWith(MIGRATED_AWAY)) throw new Error(`domain ${d.domid} (${d.name}) is being migrated away`);
  checkNomigrate(d);
  checkSavable(d);
  void ts;
}

/** The stream as it is written, sent in pieces as it grows. */
class StreamOut {
  readonly w = new ByteWriter(true, 1 << 20);
  private sent = 0;
  bytes = 0;
  constructor(private readonly ch: MigrationChannel) {}
  async flush(): Promise<void> {
    if (this.w.length === this.sent) return;
    const chunk = this.w.view8().slice(this.sent);
    this.sent = this.w.length;
    this.bytes += chunk.length;
    await this.ch.send(chunk);
  }
}

/**
 * Migrate `d` over `ch` to a receiver running `migrateReceive`. Resolves once the target
 * reports its copy running (the source is then destroyed); rejects with one line otherwise,
 * the source resumed unless the message says the handshake failed past the point of no return.
 */
export async function migrateSend(ts: Toolstack, d: Domain, ch: MigrationChannel, opts: MigrateSendOptions = {}): Promise<MigrationStats> {
  const hv = ts.hv;
  const o = { ...DEFAULTS, ...opts };
  const live = opts.live ?? true;
  const log = opts.log ?? (() => {});
  const name = d.name;
  const phase = (p: 'connect' | 'precopy' | 'stop-and-copy' | 'transferred' | 'handover' | 'done' | 'failed', message: string): void =>
    opts.onProgress?.({ kind: 'phase', side: 'send', phase: p, domid: d.domid, name: d.name, message });
  checkMigratable(ts, d);
  const t0 = performance.now();
  const wasPaused = d.paused;
  let ld: LogDirty | undefined;
  let tPause: number;
  let stopped = false;
  const rounds: RoundStats[] = [];
  const out = new StreamOut(ch);
  const expect = async (want: Uint8Array, what: string): Promise<void> => {
    const m = await ch.receive(o.timeoutMs);
    if (!sameBytes(m, want)) throw new Error(`the receiver sent ${describe(m)} where xl expects the ${what}`);
  };

  // ---- up to the point of no return: any failure resumes the source ----
  try {
    phase('connect', 'waiting for the receiver');
    await expect(MIGRATE_RECEIVER_BANNER, 'banner');
    const always = d.kind === 'pv' ? pvLayout(d.config).specialGfns : [];
    if (live && !wasPaused) ld = await LogDirty.enable(hv, d, always);
    const w = out.w;
    writeXlHeader(w, { config: formatXlConfig(d.config), json: false });
    const prefix = crc32c(w.view8());
    const libxlStart = w.length;
    w.u32(LIBXL_IDENT_HI, false).u32(LIBXL_IDENT_LO, false).u32(LIBXL_VERSION, false).u32(0, false);
    const xl = new RecordWriter(w, crc32c(w.view8().subarray(libxlStart), prefix));
    xl.record(XL.LIBXC_CONTEXT);
    const xc = new LibxcWriter(w, d.kind);
    xc.staticDataEnd();
    const sentCopy = o.verify ? new Map<number, Uint8Array | 'zero'>() : undefined;
    const limit = Math.min(d.p2m.maxFrames, (d.config.maxmem * 1024 * 1024) / PAGE_SIZE);

    /** Send `pfns` (the invalid ones as XTAB), in batches of 1024, yielding between batches so the domain and the host run on. */
    /** `atomic`: no yield between batches (stop-and-copy: a backend must not write between two batches of the last copy). */
    let lastYield = performance.now();
    const sendPages = async (pfns: readonly number[], gone: readonly number[], atomic = false): Promise<{ pages: number; zeros: number; bytes: number }> => {
      const before = out.bytes;
      let pages = 0,
        zeros = 0;
      const all = [...pfns.map((p) => ({ pfn: p, gone: false })), ...gone.map((p) => ({ pfn: p, gone: true }))];
      for (let i = 0; i < all.length; i += MAX_BATCH_SIZE) {
        const batch: PageEntry[] = [];
        for (const { pfn, gone: g } of all.slice(i, i + MAX_BATCH_SIZE)) {
          if (g) {
            batch.push({ pfn, data: 'invalid' });
            continue;
          }
          const e = d.p2m.get(pfn);
          if (e < 0 || (e & P2M_GRANT) !== 0) {
            batch.push({ pfn, data: 'invalid' });
            continue;
          }
          const at = (e & P2M_MFN_MASK) * PAGE_SIZE;
          const page = hv.machine.u8.subarray(at, at + PAGE_SIZE);
          const zero = isZeroPage(page);
          const data = zero ? 'zero' : page.slice();
          if (zero) zeros++;
          sentCopy?.set(pfn, data);
          batch.push({ pfn, data });
        }
        pages += batch.length;
        if (batch.length > 0) xc.pages(batch);
        if (!atomic) {
          await out.flush();
          // A send that does not block resolves at once, and awaiting it yields only to
          // microtasks: the hypervisor's timers (the scheduler granting the vCPUs their
          // slices) would not run until the round ended, and the guest would stand still
          // through "live" pre-copy. So give the event loop a turn every few ms of sending.
          if (performance.now() - lastYield >= YIELD_EVERY_MS) {
            await new Promise<void>((r) => setTimeout(r, 0));
            lastYield = performance.now();
          }
        }
        if (d.dying || hv.domains.get(d.domid) !== d) throw new Error(`domain ${d.domid} went away during the migration`);
      }
      return { pages, zeros, bytes: out.bytes - before };
    };

    // Round 0: every page the domain has (a pfn never populated is simply not sent).
    let pending: number[] = [];
    for (let pfn = 0; pfn < limit; pfn++) {
      const e = d.p2m.get(pfn);
      if (e >= 0 && (e & P2M_GRANT) === 0) pending.push(pfn);
    }
    let gone: number[] = [];
    let sentBytes = 0,
      sentMs = 0;
    if (ld) {
      phase('precopy', `log-dirty on, round 0: ${pending.length} pages`);
      for (let round = 0; ; round++) {
        const r0 = performance.now();
        const s = await sendPages(pending, gone);
        const ms = performance.now() - r0;
        sentBytes += s.bytes;
        sentMs += ms;
        const set = ld.clean();
        const dirty = set.dirty.length + set.gone.length;
        const bw = sentMs > 0 ? sentBytes / sentMs : Infinity; // bytes per ms
        const leftMs = (dirty * (PAGE_SIZE + 8)) / bw;
        let decision: RoundStats['decision'] = 'continue',
          reason = '';
        if (dirty < o.dirtyThreshold) [decision, reason] = ['stop-and-copy', `${dirty} dirty pages < ${o.dirtyThreshold}`];
        else if (round + 1 >= o.maxRounds) [decision, reason] = ['stop-and-copy', `${round + 1} rounds = the limit`];
        else if (leftMs <= o.downtimeTargetMs)
          [decision, reason] = ['stop-and-copy', `${dirty} pages would take ${leftMs.toFixed(1)} ms <= ${o.downtimeTargetMs} ms`];
        else if (o.stopWhenNotShrinking && round > 0 && dirty >= pending.length + gone.length)
          [decision, reason] = ['stop-and-copy', `the dirty set did not shrink (${dirty} after ${pending.length + gone.length} sent)`];
        else reason = `${dirty} dirty pages, about ${leftMs.toFixed(1)} ms to send`;
        const stats: RoundStats = { round, pagesSent: s.pages, zeroPages: s.zeros, bytes: s.bytes, pagesDirtied: dirty, ms, decision, reason };
        rounds.push(stats);
        opts.onProgress?.({ kind: 'round', side: 'send', stats, dirtyPfns: set.dirty });
        log(
          `Savedata: round ${round}: ${s.pages} pages sent (${s.zeros} zero), ${(s.bytes / 1024).toFixed(0)} KiB in ${ms.toFixed(0)} ms; ${dirty} dirtied; ${decision}: ${reason}`,
        );
        pending = set.dirty;
        gone = set.gone;
        if (decision !== 'continue') break;
      }
    }

    // ---- stop-and-copy ----
    phase('stop-and-copy', 'pausing the domain');
    // A pv guest is asked to suspend itself first (guestSuspend.ts). The downtime starts once
    // the handshake is over: until then the guest runs (and log-dirty catches what it writes),
    // so one that does not answer pays the wait in total time, not in downtime.
    await requestGuestSuspend(hv, d, (line) => {
      hv.dmesg(line);
      log(line);
    });
    tPause = performance.now();
    const vcpus = await suspendDomain(hv, d);
    const tPaused = performance.now();
    quiesceDevices(ts, d.domid); // blkback serves what is queued (writing guest pages) and flushes: before the last CLEAN
    stopped = true;
    await opts.onStopped?.();
    if (ld) {
      const last = ld.clean();
      pending = [...new Set([...pending, ...last.dirty])].sort((a, b) => a - b);
      gone = [...new Set([...gone, ...last.gone])].filter((p) => !pending.includes(p));
      ld.disable();
    }
    const r0 = performance.now();
    const s = await sendPages(pending, gone, true);
    let missed = 0;
    if (sentCopy) missed = verifyPages(hv.machine.u8, d, limit, sentCopy);
    const img = domainState(hv, d, vcpus); // the state records, from the same code as xl save
    const st = img.libxc;
    if (typeof st === 'function') throw new Error('internal: no state image');
    for (const v of st.vcpus) xc.vcpu(v);
    if (st.timers !== undefined) xc.timers(st.timers);
    if (st.hvmContext !== undefined) xc.hvmContext(st.hvmContext);
    if (st.sharedInfo !== undefined) xc.sharedInfo(st.sharedInfo);
    if (st.evtchn !== undefined) xc.evtchnTable(st.evtchn);
    if (st.grants !== undefined) xc.grantTable(st.grants);
    if (st.xenstore !== undefined) xc.xenstore(st.xenstore);
    if (st.xenstoreWatches !== undefined) xc.xenstoreWatches(st.xenstoreWatches);
    xl.embedded(xc.end());
    const emulator = img.emulator;
    if (emulator) xl.record(XL.EMULATOR_CONTEXT, (b: Writer) => writeDeviceState(b.u32(EMULATOR.HYPERLAB).u32(0), emulator));
    xl.end();
    await out.flush();
    const final: RoundStats = {
      round: rounds.length,
      pagesSent: s.pages,
      zeroPages: s.zeros,
      bytes: out.bytes - rounds.reduce((a, r) => a + r.bytes, 0),
      pagesDirtied: missed,
      ms: performance.now() - r0,
      decision: 'final',
      reason: o.verify ? `paused; ${missed} page(s) differed from what was sent (verify)` : 'paused: last dirty pages, vCPU and device state',
    };
    rounds.push(final);
    opts.onProgress?.({ kind: 'round', side: 'send', stats: final });
    const tSent = performance.now();
    log(
      `Savedata: stop-and-copy: ${s.pages} pages, stream ${(out.bytes / 1024).toFixed(0)} KiB in all; paused in ${(tPaused - tPause).toFixed(1)} ms, last pages and state sent in ${(tSent - tPaused).toFixed(1)} ms`,
    );
    if (missed > 0) throw new Error(`verify: ${missed} page(s) changed without being marked dirty`);
    phase('transferred', 'waiting for the target');
    await expect(MIGRATE_RECEIVER_READY, '"ready" message');
    log(`migration sender: Target has acknowledged transfer (${(performance.now() - tSent).toFixed(1)} ms after the last byte).`);
    renameDomain(hv, d, name + MIGRATED_AWAY);
    log(`migration sender: domain ${d.domid} is ${name}${MIGRATED_AWAY} until the target reports.`);
  } catch (e) {
    ld?.disable();
    ch.close(`the sender failed: ${errorLine(e)}`);
    if (hv.domains.get(d.domid) === d && !d.dying) {
      if (d.suspended) resumeSuspended(hv, d, 1); // suspended and then failed: it goes on, cancelled
      if (d.name !== name) renameDomain(hv, d, name);
      if ((!stopped || (await resumeDevices(opts, log))) && !wasPaused) hv.unpauseDomain(d.domid);
    }
    log('Migration failed, resuming at sender.');
    phase('failed', `resumed at the sender: ${errorLine(e)}`);
    throw new Error(`migration of domain ${d.domid} (${name}) failed, resumed at sender: ${errorLine(e)}`, { cause: e });
  }

  // ---- the point of no return ----
  let status: number;
  try {
    log('migration sender: Giving target permission to start.');
    phase('handover', `renamed ${name}${MIGRATED_AWAY}; permission to go sent`);
    await ch.send(MIGRATE_PERMISSION_TO_GO);
    const report = await ch.receive(o.timeoutMs);
    if (!sameBytes(report, MIGRATE_REPORT)) throw new ChannelError(`the receiver sent ${describe(report)} where xl expects the report`);
    const code = await ch.receive(o.timeoutMs);
    if (code.length !== 1) throw new ChannelError(`a report status of ${code.length} bytes`);
    status = code[0]!;
  } catch (e) {
    log('** Migration failed during final handshake **');
    phase('failed', `undefined state: ${errorLine(e)}`);
    throw new Error(
      `migration of domain ${d.domid} (${name}) failed during the final handshake: ${errorLine(e)}; the domain may run at the target: check both ends (this copy is left paused as ${d.name})`,
      { cause: e },
    );
  }
  if (status !== 0) {
    log(`migration sender: Target reports startup failure (status code ${status}).`);
    await ch.receive(o.timeoutMs).catch(() => undefined); // its permission to resume (xl waits for it)
    renameDomain(hv, d, name);
    if ((await resumeDevices(opts, log)) && !wasPaused) hv.unpauseDomain(d.domid);
    log('migration sender: Resumed OK.');
    phase('failed', 'the target failed to start it; resumed at the sender');
    ch.close();
    throw new Error(`migration of domain ${d.domid} (${name}) failed: the target reports startup failure (status ${status}); resumed at sender`);
  }
  const tEnd = performance.now();
  log('migration sender: Target reports successful startup.');
  hv.destroyDomain(d.domid, 'migrated');
  ch.close();
  const stats: MigrationStats = {
    domid: d.domid,
    name,
    rounds,
    pagesSent: rounds.reduce((a, r) => a + r.pagesSent, 0),
    bytes: out.bytes,
    totalMs: tEnd - t0,
    downtimeMs: tEnd - tPause,
    bandwidthMBps: out.bytes / 1e6 / Math.max(1e-3, (tPause - t0) / 1000),
  };
  log('Migration successful.');
  phase('done', `downtime ${stats.downtimeMs.toFixed(1)} ms`);
  opts.onProgress?.({ kind: 'done', side: 'send', stats });
  return stats;
}

function errorLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

/** Debug: pages whose contents differ from the last copy sent (log-dirty missed a write). */
function verifyPages(u8: Uint8Array, d: Domain, limit: number, sent: Map<number, Uint8Array | 'zero'>): number {
  let missed = 0;
  for (let pfn = 0; pfn < limit; pfn++) {
    const e = d.p2m.get(pfn);
    if (e < 0 || (e & P2M_GRANT) !== 0) continue;
    const at = (e & P2M_MFN_MASK) * PAGE_SIZE;
    const now = u8.subarray(at, at + PAGE_SIZE);
    const was = sent.get(pfn);
    if (was === undefined) {
      missed++;
      continue;
    }
    if (was === 'zero' ? !isZeroPage(now) : !sameBytes(was, now)) missed++;
  }
  return missed;
}

/** The host's `onResumed` (its disks reopened): false if that failed, and the domain is then left paused rather than run without them. */
async function resumeDevices(opts: MigrateSendOptions, log: (line: string) => void): Promise<boolean> {
  try {
    await opts.onResumed?.();
    return true;
  } catch (e) {
    log(`migration sender: the domain's devices did not come back (${errorLine(e)}); left paused`);
    return false;
  }
}
