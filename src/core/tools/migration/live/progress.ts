/**
 * What a live migration reports as it goes (the browser's migration view draws it, `xl
 * migrate` prints it), and the options both ends take.
 */
import type { DomainConfig } from '../../xlConfig';

/** One pre-copy round (round 0 sends every page; the last is stop-and-copy). */
export interface RoundStats {
  round: number;
  /** Pages sent in this round (zero pages included: they cost a pfn each). */
  pagesSent: number;
  /** Of those, pages of zeros (XALLOC, no data). */
  zeroPages: number;
  /** Bytes of stream this round produced. */
  bytes: number;
  /** Pages found dirty at the end of this round (what the next round would send). */
  pagesDirtied: number;
  /** Wall time of the round, ms. */
  ms: number;
  /** The policy's decision after the round, and why. */
  decision: 'continue' | 'stop-and-copy' | 'final';
  reason: string;
}

export interface MigrationStats {
  domid: number;
  name: string;
  rounds: RoundStats[];
  /** Pages sent in all (a page sent in three rounds counts three times). */
  pagesSent: number;
  bytes: number;
  /** From the start (banner received) to the target's report. */
  totalMs: number;
  /** The source paused until the target reported its copy running (sender's view: includes one message from the target). */
  downtimeMs: number;
  /** The target's own part of the downtime: stream END received to its copy unpaused (the receiver's report). */
  bandwidthMBps: number;
}

export type MigrationPhase =
  | 'connect' // waiting for the receiver's banner
  | 'precopy' // log-dirty rounds, the domain runs
  | 'stop-and-copy' // paused: last dirty pages, vCPU and device state
  | 'transferred' // stream sent / received, waiting for "ready to unpause"
  | 'handover' // renamed NAME--migratedaway, permission to go sent
  | 'done'
  | 'failed';

export type MigrationEvent =
  | { kind: 'phase'; side: 'send' | 'receive'; phase: MigrationPhase; domid: number; name: string; message: string }
  | { kind: 'round'; side: 'send'; stats: RoundStats; dirtyPfns?: readonly number[] }
  | { kind: 'received'; side: 'receive'; bytes: number; pages: number }
  | { kind: 'done'; side: 'send'; stats: MigrationStats };

export interface MigrateSendOptions {
  /** Pre-copy rounds while the domain runs (default true). False: pause at once, send everything once (as `xl save`). */
  live?: boolean;
  /** Stop when fewer pages than this are dirty after a round (Xen's simple_precopy_policy: 50). */
  dirtyThreshold?: number;
  /** Stop after this many rounds of pre-copy, round 0 included (Xen's default: 5). */
  maxRounds?: number;
  /** Also stop once the pages left would take at most this long at the measured bandwidth (QEMU's downtime-limit, ms; default 30). */
  downtimeTargetMs?: number;
  /**
   * Also stop when a round did not shrink the dirty set (the guest dirties as fast as pages go):
   * saves the rounds Xen would spend up to its limit, but is not Xen's policy (default false).
   */
  stopWhenNotShrinking?: boolean;
  /** How long to wait for each message from the receiver, ms (default 60000). */
  timeoutMs?: number;
  /** Debug (Xen's VERIFY): at stop-and-copy compare every page with what was sent; a page that differs was missed by log-dirty. */
  verify?: boolean;
  /** Progress, for a view (the browser) or a log. */
  onProgress?: (e: MigrationEvent) => void;
  /**
   * Called once the domain is paused and its backends quiesced, before the last pages go: a
   * host whose disk handles are exclusive (OPFS sync access handles) closes them here so the
   * target can open them. `onResumed` is called (and awaited: the browser reopens its handles)
   * if the migration then fails and the source runs on; if it throws, the domain is left paused
   * (its disks are not back) and xl's log says why.
   */
  onStopped?: () => void | Promise<void>;
  onResumed?: () => void | Promise<void>;
  /** xl's stderr lines ("migration sender: ..."). */
  log?: (line: string) => void;
}

export interface MigrateReceiveOptions {
  /** `xl migrate -p`: leave the domain paused on arrival. */
  paused?: boolean;
  /**
   * Called once the whole stream is in (so the sender is paused and has run its `onStopped`),
   * before the domain's disks are opened: a host whose disk handles are opened asynchronously
   * (the browser's OPFS) opens them here. Returns what to call once the build is over.
   */
  prepare?: (config: DomainConfig) => Promise<(() => void) | undefined>;
  /** How long to wait for each message from the sender, ms (default 60000). */
  timeoutMs?: number;
  onProgress?: (e: MigrationEvent) => void;
  /** xl's stderr lines ("migration target: ..."). */
  log?: (line: string) => void;
}
