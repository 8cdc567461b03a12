/**
 * The network's instruments for the page (netMonitor.ts) over a real bridge and Domain-0's
 * real interface, with a hand-written guest port: counters and the MAC table, the packet
 * list (tcpdump's lines, the ring, the lease), and captures read back as pcap (and by
 * `tcpdump -r` where installed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Bridge } from '../../core/net/bridge';
import { ETH_P_IP, ethFrame, parseMac } from '../../core/net/ethernet';
import { DOM0_MAC, DomainZeroNetif } from '../../core/net/hostif';
import { buildIcmp, buildIpv4, ICMP_ECHO, IPPROTO_ICMP, parseIp } from '../../core/net/ipv4';
import { readPcap } from '../../core/net/pcap';
import { summarize } from '../../core/net/summary';
import type { VirtualNetworks } from '../../core/tools/vif';
import { NetMonitor, PACKET_RING, WATCH_LEASE_MS } from './netMonitor';

const ip = (s: string): number => parseIp(s)!;
const G = parseMac('00:16:3e:5a:00:01')!;

/** xenbr0 with Domain-0's interface and one guest port vif1.0 that takes every frame. */
function setup(opts: { captureMaxBytes?: number } = {}) {
  const br = new Bridge('xenbr0');
  const dom0 = new DomainZeroNetif(br, { ip: ip('10.0.0.1'), prefix: 24 });
  const got: Uint8Array[] = [];
  const port = br.attach('vif1.0', { transmit: (f) => (got.push(f), true) }, G);
  const nets = { bridges: new Map([['xenbr0', br]]), dom0, of: () => [] } as unknown as VirtualNetworks;
  let t = 0;
  const mon = new NetMonitor(nets, { now: () => t, epochMs: () => 1_700_000_000_000 + t, ...opts });
  // The guest pings Domain-0 (it knows Domain-0's MAC: no ARP), Domain-0 answers at once.
  const ping = (seq: number, size = 56): void =>
    port.input(ethFrame(DOM0_MAC, G, ETH_P_IP, buildIpv4(ip('10.0.0.7'), ip('10.0.0.1'), IPPROTO_ICMP, buildIcmp(ICMP_ECHO, 0, 7, seq, new Uint8Array(size)))));
  return { br, port, got, mon, ping, tick: (ms: number) => (t += ms) };
}

describe('the network monitor', () => {
  it("lists every port with its counters, Domain-0's interface and what the bridge learned", () => {
    const s = setup();
    s.ping(1);
    s.port.input(new Uint8Array(10)); // a runt: the port's rx drop
    const v = s.mon.view();
    expect(v.dom0).toEqual({ ip: '10.0.0.1', mac: 'fe:ff:ff:ff:ff:ff' });
    const [br] = v.bridges;
    expect(br!.name).toBe('xenbr0');
    const vif = br!.ports.find((p) => p.name === 'vif1.0')!;
    expect(vif).toMatchObject({ kind: 'vif', domid: 1, devid: 0, mac: '00:16:3e:5a:00:01', bridge: 'xenbr0' });
    expect(vif.counters).toMatchObject({ rxFrames: 1, rxBytes: 98, txFrames: 1, txBytes: 98, rxDrops: 1 });
    expect(br!.ports.find((p) => p.name === 'xenbr0')).toMatchObject({ kind: 'dom0', domid: 0 });
    expect(br!.fdb.map((e) => `${e.mac}@${e.port}`).sort()).toEqual(['00:16:3e:5a:00:01@vif1.0', 'fe:ff:ff:ff:ff:ff@xenbr0']);
    expect(s.mon.samples().map((p) => `${p.name}:${p.counters.txFrames}`)).toEqual(['xenbr0:1', 'vif1.0:1']);
    expect(s.mon.interfaces()).toEqual(['xenbr0', 'vif1.0']);
  });

  it("keeps a packet list of one interface with tcpdump's lines, only while it is polled", () => {
    const s = setup();
    s.ping(1); // before the list starts: not in it
    const first = s.mon.packets('vif1.0', 0);
    expect(first.packets).toEqual([]);
    s.ping(2);
    const b = s.mon.packets('vif1.0', first.next);
    expect(b.packets.map((p) => [p.seq, p.dir, p.protocol, p.source, p.destination, p.length])).toEqual([
      [1, 'in', 'ICMP', '10.0.0.7', '10.0.0.1', 98],
      [2, 'out', 'ICMP', '10.0.0.1', '10.0.0.7', 98],
    ]);
    expect(b.packets[0]!.info).toBe('IP 10.0.0.7 > 10.0.0.1: ICMP echo request, id 7, seq 2, length 64');
    expect(b.packets[1]!.info).toBe('IP 10.0.0.1 > 10.0.0.7: ICMP echo reply, id 7, seq 2, length 64');
    expect(b).toMatchObject({ next: 2, lost: 0, gone: false });
    // nothing new
    expect(s.mon.packets('vif1.0', b.next).packets).toEqual([]);
    // the ring keeps the newest PACKET_RING; a slow reader is told how many it missed
    for (let i = 0; i < PACKET_RING; i++) s.ping(100 + i);
    const c = s.mon.packets('vif1.0', b.next);
    expect(c.packets.length).toBe(PACKET_RING);
    expect(c.lost).toBe(PACKET_RING);
    expect(c.packets.at(-1)!.seq).toBe(2 + 2 * PACKET_RING);
    // a list nobody polls goes: its tap is removed
    expect(s.mon.running.watches).toBe(1);
    s.tick(WATCH_LEASE_MS + 1);
    s.mon.packets('xenbr0', 0); // any call looks at the leases
    expect(s.mon.running.watches).toBe(1);
    expect(s.port.taps.size).toBe(0);
    expect(s.br.taps.size).toBe(1);
    s.mon.unwatch('xenbr0');
    expect(s.br.taps.size).toBe(0);
  });

  it('says when the interface is gone, and refuses an unknown one in one line', () => {
    const s = setup();
    s.mon.packets('vif1.0', 0);
    s.br.detach(s.port);
    expect(s.mon.packets('vif1.0', 0).gone).toBe(true);
    expect(() => s.mon.packets('vif9.0', 0)).toThrow(/^no interface "vif9\.0" \(there are: xenbr0\)$/);
    expect(() => s.mon.captureStart('eth0')).toThrow(/^no interface "eth0"/);
  });

  it('captures an interface as a pcap file (Ethernet), both directions, until stopped', () => {
    const s = setup();
    const row = s.mon.captureStart('vif1.0');
    expect(row).toMatchObject({ iface: 'vif1.0', frames: 0, bytes: 24 });
    for (let i = 1; i <= 3; i++) s.ping(i);
    expect(s.mon.view().captures).toMatchObject([{ id: row.id, frames: 6 }]);
    const { bytes, row: end } = s.mon.captureStop(row.id);
    s.ping(4); // after the stop: not in the file
    expect(end.frames).toBe(6);
    const f = readPcap(bytes);
    expect(f.linktype).toBe(1);
    expect(f.packets.map((p) => summarize(p.data).info)).toEqual(
      [1, 2, 3].flatMap((n) => [
        `IP 10.0.0.7 > 10.0.0.1: ICMP echo request, id 7, seq ${n}, length 64`,
        `IP 10.0.0.1 > 10.0.0.7: ICMP echo reply, id 7, seq ${n}, length 64`,
      ]),
    );
    expect(s.port.taps.size).toBe(0);
    expect(() => s.mon.captureStop(row.id)).toThrow(/no capture/);
    const t = spawnSync('tcpdump', ['--version'], { stdio: 'ignore' });
    if (t.error !== undefined || t.status !== 0) return; // CI installs tcpdump
    const dir = mkdtempSync(join(tmpdir(), 'hyperlab-netmon-'));
    try {
      writeFileSync(join(dir, 'c.pcap'), bytes);
      const r = spawnSync('tcpdump', ['-n', '-r', join(dir, 'c.pcap')], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout.match(/ICMP echo request/g)).toHaveLength(3);
      expect(r.stdout.match(/ICMP echo reply/g)).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops keeping frames at its size limit, counts them, and the file stays valid', () => {
    const s = setup({ captureMaxBytes: 24 + 2 * (16 + 98) });
    const { id } = s.mon.captureStart('xenbr0');
    for (let i = 1; i <= 3; i++) s.ping(i); // a bridge capture sees each frame once: 6 frames
    const { bytes, row } = s.mon.captureStop(id);
    expect(row).toMatchObject({ frames: 2, dropped: 4 });
    expect(readPcap(bytes).packets.length).toBe(2);
  });
});
