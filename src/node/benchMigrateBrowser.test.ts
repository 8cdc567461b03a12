/** The migrate benchmark's pure parts (bench/migrate.ts, shared by its Chromium part bench/migrateBrowser.ts). */
import { describe, expect, it } from 'vitest';
import { addLiveRun, emptyLiveRuns, liveSummary, quantile } from '../../bench/migrate';
import { BROWSER_MIGRATE_GUESTS, probeCommand } from '../../bench/migrateBrowser';
import type { MigrationStats, RoundStats } from '../core/tools/migration/live/progress';

const round = (n: number, decision: RoundStats['decision']): RoundStats => ({
  round: n,
  pagesSent: 100,
  zeroPages: 10,
  bytes: 400_000,
  pagesDirtied: 5,
  ms: 3,
  decision,
  reason: 'test',
});
const stats = (totalMs: number, downtimeMs: number, rounds: number, pagesSent: number): MigrationStats => ({
  domid: 1,
  name: 'x',
  rounds: Array.from({ length: rounds }, (_, i) => round(i, i === rounds - 1 ? 'final' : 'continue')),
  pagesSent,
  bytes: pagesSent * 4096,
  totalMs,
  downtimeMs,
  bandwidthMBps: 100,
});

describe('bench migrate summaries', () => {
  it('takes the worst of up to 100 runs as the 99th percentile and the middle one as the median', () => {
    expect(quantile([5, 1, 9, 3], 0.99)).toBe(9);
    expect(quantile([5, 1, 9, 3, 7], 0.5)).toBe(5);
    expect(quantile([5, 1, 9, 3], 0.5)).toBe(3); // the lower middle of an even count
  });

  it('adds each migration to the runs, keeps the first run rounds, and summarises them under a prefix', () => {
    const l = emptyLiveRuns();
    addLiveRun(l, stats(300, 12.34, 3, 5000));
    addLiveRun(l, stats(500, 80, 2, 4200));
    addLiveRun(l, stats(400, 20, 4, 6000));
    expect(l.totalMs).toEqual([300, 500, 400]);
    expect(l.rounds).toEqual([3, 2, 4]);
    expect(l.bytes).toEqual([5000 * 4096, 4200 * 4096, 6000 * 4096]);
    expect(l.firstRun.map((r) => r.decision)).toEqual(['continue', 'continue', 'final']);
    expect(liveSummary('idle', l)).toEqual({
      idleTotalMedianMs: 400,
      idleDowntimeMedianMs: 20,
      idleDowntimeP99Ms: 80,
      idleRoundsMedian: 3,
      idlePagesSentMedian: 5000,
    });
  });
});

describe('bench:browser --only migrate', () => {
  it('checks the shell with a command whose answer is not its own echo', () => {
    for (const shell of ['tos', 'linux'] as const) {
      const p = probeCommand(shell, 'b3');
      expect(p.command.endsWith('\n')).toBe(true);
      expect(p.command).not.toContain(p.answer); // the typed line echoed back does not count
    }
    expect(probeCommand('linux', 'a1')).toEqual({ command: 'echo a1""ok\n', answer: 'a1ok' });
    expect(probeCommand('tos', 'a1').answer).toBe('a1: unknown command');
  });

  it('measures the teaching OS pv and hvm and a 64 MiB Linux 6.1', () => {
    expect(BROWSER_MIGRATE_GUESTS.map((g) => [g.preset, g.memoryMiB])).toEqual([
      ['teaching-os-pv', 16],
      ['teaching-os-hvm', 16],
      ['linux-sbi', 64],
    ]);
  });
});
