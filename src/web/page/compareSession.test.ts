/**
 * CompareSession over a real Lab whose hypervisor is a fake port: the test plays the
 * worker's part (domains created, console bytes, stats reports) and checks which domains
 * the session picks, what it types into them and when it calls the run done.
 */
import { describe, expect, it, vi } from 'vitest';
import { CompareSession } from './compareSession';
import type { HvPort } from './hypervisorClient';
import type { CreateRequest, DomainRow, HostRow, HvEvent, HvSink } from '../protocol/hvProtocol';
import { Lab } from './lab';

const HOST: HostRow = { pcpus: 2, scheduler: 'credit', totalKiB: 262144, freeKiB: 200000 };

/** A row with the fields the session reads; the cast lets DomainRow grow fields it does not need. */
function row(domid: number, type: 'pv' | 'hvm', seq: number, o: Partial<DomainRow> = {}): DomainRow {
  const base = {
    seq,
    domid,
    name: `teaching-os-${type}`,
    type,
    state: 'blocked',
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

async function fakeLab(): Promise<{ lab: Lab; send: (events: HvEvent[]) => void; typed: [number, string][]; creates: CreateRequest[] }> {
  let sink: HvSink = () => {};
  const typed: [number, string][] = [];
  const creates: CreateRequest[] = [];
  let next = 10;
  const port = {
    attach: async (_init: unknown, s: HvSink) => {
      sink = s;
      return { host: HOST, presets: [] };
    },
    createDomain: async (req: CreateRequest) => {
      creates.push(req);
      const type = req.preset === 'teaching-os-pv' ? 'pv' : 'hvm';
      return { ok: true, value: row(next++, type, 1) };
    },
    consoleInput: async (domid: number, b: Uint8Array) => {
      typed.push([domid, new TextDecoder().decode(b)]);
      return { ok: true, value: null };
    },
    destroy: async () => ({ ok: true, value: null }),
  };
  const lab = new Lab();
  await lab.connect(port as unknown as HvPort, { guestBaseUrl: '', catalog: [] });
  return { lab, send: (events) => sink(events), typed, creates };
}

const stats = (seq: number, domains: DomainRow[]): HvEvent => ({ type: 'stats', report: { seq, host: HOST, domains, nowNs: seq * 1e8, slices: [] } });

describe('CompareSession', () => {
  it('reuses the idle pv and hvm domains, types the same command into both, and is done after the prompts and a report', async () => {
    const { lab, send, typed, creates } = await fakeLab();
    send([
      { type: 'created', row: row(1, 'pv', 1), restartOf: null },
      { type: 'created', row: row(2, 'hvm', 1), restartOf: null },
      { type: 'console', domid: 1, bytes: bytes('boot\r\nteaching-os-pv$ ') },
      { type: 'console', domid: 2, bytes: bytes('boot\r\ntos$ ') },
    ]);
    let now = 1000;
    const session = new CompareSession(lab, () => now);
    const done = session.run({ kind: 'write', bytes: 100 });
    await vi.waitFor(() => expect(typed).toHaveLength(2));
    expect(creates).toEqual([]);
    expect(typed).toEqual([
      [1, '\x15write 100\r'],
      [2, '\x15write 100\r'],
    ]);
    expect(session.snapshot().status).toBe('running');
    expect(session.snapshot().domains).toEqual({ pv: 1, hvm: 2 });

    now = 1100;
    send([{ type: 'console', domid: 1, bytes: bytes(`write 100\r\n${'x'.repeat(100)}timing: write 100 bytes in 0.05 s (2 KiB/s)\r\nteaching-os-pv$ `) }]);
    send([stats(2, [row(1, 'pv', 2, { exits: { 'hypercall:event_channel_op': 1 } }), row(2, 'hvm', 2, { exits: { 'mmio:uart0': 100 } })])]);
    expect(session.snapshot().pv?.phase).toBe('done');
    expect(session.snapshot().hvm?.phase).toBe('running');
    expect(session.snapshot().status).toBe('running');

    now = 3000;
    send([{ type: 'console', domid: 2, bytes: bytes(`write 100\r\n${'x'.repeat(100)}timing: write 100 bytes in 1.9 s (0 KiB/s)\r\ntos$ `) }]);
    expect(session.snapshot().hvm?.phase).toBe('settling');
    send([stats(3, [row(1, 'pv', 3), row(2, 'hvm', 3, { exits: { 'mmio:uart0': 200 } })])]);
    const final = await done;
    expect(final.status).toBe('done');
    expect(final.pv?.elapsedMs).toBe(100);
    expect(final.hvm?.elapsedMs).toBe(2000);
    expect(final.hvm?.exits).toBe(200);
    expect(final.pv?.hypercalls).toBe(1);
    expect(final.verdict?.throughputRatio).toBeCloseTo(final.pv!.bytes / 0.1 / (final.hvm!.bytes / 2), 5);
    expect(final.history.map((r) => r.n)).toEqual([1]);
  });

  it('creates the domains from the presets when none waits at its prompt', async () => {
    const { lab, send, typed, creates } = await fakeLab();
    send([
      { type: 'created', row: row(1, 'pv', 1), restartOf: null },
      { type: 'console', domid: 1, bytes: bytes('teaching-os-pv$ burn 100\r\n') }, // busy
    ]);
    const session = new CompareSession(lab);
    const done = session.run({ kind: 'burn', millions: 1 });
    await vi.waitFor(() => expect(lab.has(10) && lab.has(11)).toBe(true));
    expect(creates.map((c) => [c.preset, c.uniqueName])).toEqual([
      ['teaching-os-pv', true],
      ['teaching-os-hvm', true],
    ]);
    expect(session.snapshot().status).toBe('preparing');
    send([
      { type: 'console', domid: 10, bytes: bytes('teaching-os-pv-2$ ') },
      { type: 'console', domid: 11, bytes: bytes('tos$ ') },
    ]);
    await vi.waitFor(() => expect(typed).toHaveLength(2));
    expect(typed.map(([d]) => d)).toEqual([10, 11]);
    send([{ type: 'destroyed', domid: 11 }]);
    const final = await done;
    expect(final.status).toBe('failed');
    expect(final.message).toContain('domain 11 was destroyed');
    expect(final.history).toEqual([]);
  });

  it('refuses a second run while one is going', async () => {
    const { lab, send } = await fakeLab();
    send([
      { type: 'created', row: row(1, 'pv', 1), restartOf: null },
      { type: 'created', row: row(2, 'hvm', 1), restartOf: null },
    ]);
    const session = new CompareSession(lab);
    void session.run({ kind: 'burn', millions: 1 });
    await expect(session.run({ kind: 'burn', millions: 1 })).rejects.toThrow('already running');
  });
});
