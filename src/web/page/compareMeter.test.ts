import { describe, expect, it } from 'vitest';
import { CompareMeter, exitDelta, verdict, workloadCommand } from './compareMeter';
import type { DomainRow } from '../protocol/hvProtocol';

/** A row with the fields the meter reads; the cast lets DomainRow grow fields the meter does not need. */
function row(seq: number, o: Partial<DomainRow> = {}): DomainRow {
  const base = {
    seq,
    domid: 1,
    name: 'teaching-os-hvm',
    type: 'hvm',
    state: 'running',
    shutdown: null,
    cpuNs: 0,
    cpuPct: 0,
    memKiB: 16384,
    maxMemKiB: 16384,
    vcpus: [],
    instret: 0,
    mips: 0,
    exits: {},
    evtchnSends: 0,
    weight: 256,
    cap: 0,
    uptimeMs: 0,
    restarts: 0,
  };
  return { ...base, ...o } as DomainRow;
}
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('CompareMeter', () => {
  const first = row(10, { exits: { wfi: 100, 'mmio:uart0': 40 }, instret: 1_000, cpuNs: 5e6, uptimeMs: 2_000 });

  it('counts output bytes and exits from the command on, and stops the clock at the prompt after the timing line', () => {
    const m = new CompareMeter(1, { kind: 'write', bytes: 100 }, first, 1_000);
    m.onConsole(bytes('write 100\r\n'), 1_010);
    m.onConsole(bytes('x'.repeat(100)), 1_500);
    expect(m.figures(1_500).progress).toBeCloseTo(1, 5);
    expect(m.currentPhase).toBe('running'); // no timing line yet
    m.onRow(row(11, { exits: { wfi: 101, 'mmio:uart0': 440 }, instret: 51_000, cpuNs: 105e6, uptimeMs: 2_500 }), 1_600);
    const end = 'timing: write 100 bytes in 0.900 s (0.1 KiB/s)\r\ntos$ ';
    m.onConsole(bytes(end), 2_000);
    expect(m.currentPhase).toBe('settling');
    const settling = m.figures(9_999);
    expect(settling.elapsedMs).toBe(1_000); // the clock stopped at the prompt
    // The final exits wait for a row made after the prompt.
    m.onRow(row(12, { exits: { wfi: 102, 'mmio:uart0': 460 }, instret: 61_000, cpuNs: 125e6, uptimeMs: 3_000 }), 2_100);
    expect(m.currentPhase).toBe('done');
    const f = m.figures(9_999);
    const total = 11 + 100 + end.length;
    expect(f.bytes).toBe(total);
    expect(f.bytesPerSecond).toBeCloseTo(total, 5); // over 1 s
    expect(f.exitsByReason).toEqual({ wfi: 2, 'mmio:uart0': 420 });
    expect(f.exits).toBe(422);
    expect(f.hypercalls).toBe(0);
    expect(f.exitsPerKiB).toBeCloseTo(422 / (total / 1024), 5);
    expect(f.instructions).toBe(60_000);
    expect(f.instructionsPerSecond).toBeCloseTo(60_000, 5); // over the domain's 1000 ms
    expect(f.cpuNs).toBe(120e6);
    expect(f.guestSeconds).toBeCloseTo(0.9, 5);
    expect(f.guestTiming).toBe('write 100 bytes in 0.900 s (0.1 KiB/s)');
  });

  it('finds the timing line and the prompt across chunk boundaries, after megabytes of output', () => {
    const m = new CompareMeter(1, { kind: 'write', bytes: 1 << 20 }, first, 0);
    for (let i = 0; i < 1024; i++) m.onConsole(bytes('a'.repeat(1022) + '\r\n'), i);
    m.onConsole(bytes('timi'), 2_000);
    m.onConsole(bytes('ng: write 1048576 bytes in 1.0 s (1024 KiB/s)\r'), 2_001);
    m.onConsole(bytes('\nteaching-os-pv'), 2_002);
    expect(m.currentPhase).toBe('running');
    m.onConsole(bytes('$ '), 2_003);
    expect(m.currentPhase).toBe('settling');
    expect(m.figures(5_000).elapsedMs).toBe(2_003);
  });

  it('ignores rows of other domains and rows older than the newest', () => {
    const m = new CompareMeter(1, { kind: 'burn', millions: 1 }, first, 0);
    m.onRow(row(20, { domid: 2, instret: 9e9 }), 0);
    m.onRow(row(9, { instret: 9e9 }), 0);
    expect(m.figures(0).instructions).toBe(0);
    expect(m.figures(0).progress).toBe(0);
  });

  it('counts hypercalls among the exits', () => {
    const m = new CompareMeter(1, { kind: 'write', bytes: 10 }, row(1), 0);
    m.onConsole(bytes('0123456789'), 5);
    m.onRow(row(2, { exits: { 'hypercall:event_channel_op': 3, 'hypercall:sched_op': 1, block: 1 } }), 5);
    const f = m.figures(10);
    expect(f.hypercalls).toBe(4);
    expect(f.exits).toBe(5);
  });

  it('fails when the domain shuts down, and the clock stops there', () => {
    const m = new CompareMeter(1, { kind: 'burn', millions: 1 }, first, 0);
    m.onRow(row(11, { state: 'shutdown' }), 700);
    const f = m.figures(5_000);
    expect(f.phase).toBe('failed');
    expect(f.error).toContain('shut down');
    expect(f.elapsedMs).toBe(700);
  });
});

describe('verdict', () => {
  it('gives pv over hvm for throughput and hvm over pv for exits per KiB, null where a side has nothing', () => {
    const m1 = new CompareMeter(1, { kind: 'write', bytes: 1024 }, row(1), 0);
    const m2 = new CompareMeter(2, { kind: 'write', bytes: 1024 }, row(1, { domid: 2 }), 0);
    m1.onConsole(bytes('x'.repeat(1024)), 0);
    m1.onRow(row(2, { exits: { 'hypercall:event_channel_op': 2 } }), 0);
    m2.onConsole(bytes('x'.repeat(1024)), 0);
    m2.onRow(row(2, { domid: 2, exits: { 'mmio:uart0': 2048 } }), 0);
    const v = verdict(m1.figures(100), m2.figures(2_000));
    expect(v.throughputRatio).toBeCloseTo(20, 5);
    expect(v.exitsPerKiBRatio).toBeCloseTo(1024, 5);
    expect(v.elapsedRatio).toBeCloseTo(20, 5);
    expect(v.ipsRatio).toBeNull();
  });

  it('names the commands of the teaching OS', () => {
    expect(workloadCommand({ kind: 'write', bytes: 65536 })).toBe('write 65536');
    expect(workloadCommand({ kind: 'burn', millions: 20 })).toBe('burn 20');
    expect(exitDelta({ a: 1, b: 5 }, { a: 1, b: 7, c: 2 })).toEqual({ b: 2, c: 2 });
  });
});
