import { describe, expect, it } from 'vitest';
import { Bridge, type PortDevice } from './bridge';
import { ethFrame, MAC_BROADCAST, parseMac } from './ethernet';

const A = parseMac('00:16:3e:00:00:0a')!;
const B = parseMac('00:16:3e:00:00:0b')!;
const C = parseMac('00:16:3e:00:00:0c')!;

class Sink implements PortDevice {
  got: Uint8Array[] = [];
  accept = true;
  transmit(f: Uint8Array): boolean {
    if (this.accept) this.got.push(f);
    return this.accept;
  }
}

function setup(ageingMs = 300_000) {
  let t = 0;
  const br = new Bridge('xenbr0', { ageingMs, now: () => t });
  const sa = new Sink(),
    sb = new Sink(),
    sc = new Sink();
  const pa = br.attach('vif1.0', sa, A);
  const pb = br.attach('vif2.0', sb, B);
  const pc = br.attach('vif3.0', sc);
  return { br, sa, sb, sc, pa, pb, pc, tick: (ms: number) => (t += ms) };
}

const frame = (dst: number, src: number, len = 60): Uint8Array => ethFrame(dst, src, 0x0800, new Uint8Array(len - 14));

describe('Bridge', () => {
  it('floods an unknown destination, learns the source, then forwards to one port only', () => {
    const s = setup();
    s.pa.input(frame(B, A));
    expect(s.sb.got.length).toBe(1);
    expect(s.sc.got.length).toBe(1); // unknown B: flooded
    expect(s.sa.got.length).toBe(0); // never back out of the port it came in by
    s.pb.input(frame(A, B)); // A is known now: to A only
    expect(s.sa.got.length).toBe(1);
    expect(s.sc.got.length).toBe(1);
    s.pa.input(frame(B, A)); // B learned from its answer
    expect(s.sb.got.length).toBe(2);
    expect(s.sc.got.length).toBe(1);
    expect(s.br.fdbEntries().map((e) => [e.mac, e.port])).toEqual([
      ['00:16:3e:00:00:0a', 'vif1.0'],
      ['00:16:3e:00:00:0b', 'vif2.0'],
    ]);
  });

  it('floods broadcast and multicast even when known', () => {
    const s = setup();
    s.pb.input(frame(A, B));
    s.pa.input(frame(MAC_BROADCAST, A));
    s.pa.input(frame(parseMac('01:00:5e:00:00:01')!, A));
    expect(s.sb.got.length).toBe(2 + 0);
    expect(s.sc.got.length).toBe(3);
  });

  it('ages entries out after the ageing time and floods again', () => {
    const s = setup(1000);
    s.pb.input(frame(A, B));
    s.pa.input(frame(B, A));
    expect(s.sc.got.length).toBe(1); // the first, flooded
    s.tick(1500);
    expect(s.br.fdbEntries()).toEqual([]);
    s.pa.input(frame(B, A));
    expect(s.sc.got.length).toBe(2); // B aged out: flooded
  });

  it('counts frames, bytes and drops per port; drops malformed, spoofed and group-source frames', () => {
    const s = setup();
    s.pa.input(frame(B, A, 100));
    s.pa.input(new Uint8Array(10)); // shorter than a header
    s.pa.input(new Uint8Array(1519)); // longer than a tagged frame
    s.pa.input(frame(B, C)); // not A's MAC: spoofed
    s.pc.input(frame(B, MAC_BROADCAST)); // a group source
    s.sb.accept = false;
    s.pa.input(frame(B, A, 70)); // B's device is full
    expect(s.pa.counters).toEqual({ rxFrames: 2, rxBytes: 170, txFrames: 0, txBytes: 0, rxDrops: 2, spoofed: 1, txDrops: 0, floodDrops: 0 });
    expect(s.pb.counters.txFrames).toBe(1);
    expect(s.pb.counters.txBytes).toBe(100);
    expect(s.pb.counters.txDrops).toBe(1);
    expect(s.pc.counters.rxDrops).toBe(1);
    expect(s.sb.got.length).toBe(1);
  });

  it('a device that throws costs its own port a drop, and a detached port is forgotten', () => {
    const s = setup();
    const bad = s.br.attach('vif9.0', {
      transmit() {
        throw new Error('boom');
      },
    });
    s.pa.input(frame(MAC_BROADCAST, A));
    expect(bad.counters.txDrops).toBe(1);
    expect(s.sb.got.length).toBe(1);
    s.pb.input(frame(A, B));
    s.br.detach(s.pb);
    expect(s.br.fdbEntries().map((e) => e.port)).toEqual(['vif1.0']);
    s.pb.input(frame(A, B)); // a detached port sends nothing
    expect(s.sa.got.length).toBe(1);
  });

  it('taps see frames in at the bridge and in and out at a port', () => {
    const s = setup();
    const all: string[] = [];
    const onB: string[] = [];
    s.br.taps.add((_f, p, dir) => all.push(`${p.name} ${dir}`));
    s.pb.taps.add((_f, p, dir) => onB.push(`${p.name} ${dir}`));
    s.pa.input(frame(B, A));
    s.pb.input(frame(A, B));
    expect(all).toEqual(['vif1.0 in', 'vif2.0 in']);
    expect(onB).toEqual(['vif2.0 out', 'vif2.0 in']);
  });

  it('storm control: a guest port floods at most its burst, then perSecond; unicast to a known port and unbound ports are not limited', () => {
    let t = 0;
    const br = new Bridge('xenbr0', { now: () => t, floodLimit: { perSecond: 100, burst: 10 } });
    const sa = new Sink(),
      sb = new Sink(),
      sd = new Sink();
    const pa = br.attach('vif1.0', sa, A);
    const pb = br.attach('vif2.0', sb, B);
    const pd = br.attach('xenbr0', sd); // Domain-0's own port: no MAC binding, no limit
    for (let i = 0; i < 50; i++) pa.input(frame(MAC_BROADCAST, A));
    expect(sb.got.length).toBe(10);
    expect(pa.counters.floodDrops).toBe(40);
    pb.input(frame(A, B)); // B learned; A is known: unicast both ways from now on
    for (let i = 0; i < 50; i++) pa.input(frame(B, A));
    expect(sb.got.length).toBe(60);
    t += 100; // 10 more tokens
    for (let i = 0; i < 50; i++) pa.input(frame(MAC_BROADCAST, A));
    expect(sb.got.length).toBe(70);
    for (let i = 0; i < 50; i++) pd.input(frame(MAC_BROADCAST, C));
    expect(sb.got.length).toBe(120);
    br.floodLimit = null;
    for (let i = 0; i < 50; i++) pa.input(frame(MAC_BROADCAST, A));
    expect(sb.got.length).toBe(170);
  });
});
