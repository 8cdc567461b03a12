/**
 * `xl migrate [-p] DOM HOST` (xl(1), tools/xl/xl_migrate.c). HOST is `localhost` (the same
 * host: an in-process channel to a receiver run here, Xen's documented single-host test)
 * or `ADDR:PORT` of another host's `hyperlab host --listen` (the host's `migrationChannel`:
 * TCP in Node). Xen reaches the other end through `ssh HOST xl migrate-receive`; hyperlab's
 * receiver is the listening host itself. `-p`: leave the domain paused at the target
 * (localhost only: a listening host unpauses what it receives). `--live` is accepted and
 * ignored, as by Xen's xl.
 *
 * Output: xl's progress lines ("Savedata: round ...", "migration sender: ...") and a
 * summary, `Migrated domain N (NAME) to HOST: R rounds, P pages (B bytes) in T ms, downtime D ms`.
 */
import type { Toolstack } from '../../toolstack';
import type { XlIo } from '../../xl';
import { channelPair } from './channel';
import { migrateReceive } from './receive';
import { checkMigratable, migrateSend } from './send';

export const MIGRATE_USAGE = 'usage: xl migrate [-p] DOM HOST (HOST: localhost or ADDR:PORT of a hyperlab host --listen)';

export function xlMigrate(ts: Toolstack, args: readonly string[], io: XlIo): Promise<number> {
  const rest = [...args];
  let paused = false;
  while (rest[0]?.startsWith('-')) {
    const f = rest.shift()!;
    if (f === '-p') paused = true;
    else if (f !== '--live') throw new Error(`migrate: unknown option ${f} (${MIGRATE_USAGE})`);
  }
  if (rest.length !== 2) throw new Error(MIGRATE_USAGE);
  const d = ts.find(rest[0]!);
  const host = rest[1]!;
  const local = host === 'localhost';
  if (!local && paused) throw new Error('migrate: -p is for localhost (a listening host unpauses what it receives)');
  if (!local && !io.migrationChannel) throw new Error(`migrate: this host cannot reach ${host} (only localhost)`);
  checkMigratable(ts, d);
  const log = (line: string): void => io.out(line);
  return (async () => {
    const ch = local ? undefined : await io.migrationChannel!(host);
    let stats;
    if (local) {
      const [src, dst] = channelPair();
      const recv = migrateReceive(ts, dst, { paused, log });
      recv.catch(() => undefined); // its failure is the sender's too, reported below
      stats = await migrateSend(ts, d, src, { log });
      await recv;
    } else {
      stats = await migrateSend(ts, d, ch!, { log, ...ch!.senderHooks?.(d.domid) });
    }
    const pages = stats.rounds.reduce((a, r) => a + r.pagesSent, 0);
    io.out(
      `Migrated domain ${stats.domid} (${stats.name}) to ${host}: ${stats.rounds.length} rounds, ${pages} pages (${stats.bytes} bytes) in ${stats.totalMs.toFixed(0)} ms, downtime ${stats.downtimeMs.toFixed(1)} ms`,
    );
    return 0;
  })();
}
