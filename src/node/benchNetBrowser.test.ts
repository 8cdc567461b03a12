/** The Chromium part of the network benchmark (bench/netBrowser.ts): what it computes outside the page. */
import { describe, expect, it } from 'vitest';
import { NET_BROWSER_DEFAULTS, pingFigures, summarizeNetBrowser, type BrowserNetRun } from '../../bench/netBrowser';

/** The teaching OS's ping output (guests/teaching-os/kernel/net.c), as the page's console text has it. */
const TOS_PING = [
  'teaching-os-pv-net1$ ping 10.0.0.12 3',
  'PING 10.0.0.12: 56 data bytes',
  '64 bytes from 10.0.0.12: icmp_seq=1 ttl=64 time=1.250 ms',
  '64 bytes from 10.0.0.12: icmp_seq=2 ttl=64 time=0.875 ms',
  '64 bytes from 10.0.0.12: icmp_seq=3 ttl=64 time=12.000 ms',
  '--- 10.0.0.12 ping statistics ---',
  '3 packets transmitted, 3 received, 0% packet loss',
  'round-trip min/avg/max = 0.875/4.708/12.000 ms',
  'teaching-os-pv-net1$ ',
];

describe('bench:browser --only net', () => {
  it("reads the round trips and counts only the network's exits over two packets per ping", () => {
    const exits = { 'hypercall:event_channel_op': 5, 'hypercall:grant_table_op': 1, 'hypercall:set_timer_op': 40, wfi: 9, 'mmio:virtio-net-notify': 2 };
    // event_channel_op + grant_table_op + virtio-net notifications = 8, over 6 packets
    expect(pingFigures('pv-pv', TOS_PING, 3, exits)).toEqual({ rtts: [1.25, 0.875, 12], perPacket: 8 / 6, packets: 6 });
  });

  it('throws, naming the pair and showing the output, when replies are missing', () => {
    const lost = TOS_PING.filter((l) => !l.includes('icmp_seq=2'));
    expect(() => pingFigures('pv-hvmTos', lost, 3, {})).toThrow(/^pv-hvmTos: 2 of 3 replies:\n.*PING 10\.0\.0\.12/s);
  });

  it('pools the runs for medians and p99, takes medians over runs for rates and exits, and divides the pv-pv medians', () => {
    const run = (pvpv: number[], perPacket: number, mbit?: number): BrowserNetRun => ({
      rttMs: { 'pv-pv': pvpv, 'dom0-pv': [0.5, 0.7] },
      exitsPerPacket: { 'pv-pv': { perPacket, packets: 2 * pvpv.length, exits: {} } },
      ...(mbit === undefined ? {} : { tcp: { bytes: 1 << 20, ms: 100, mbitPerSecond: mbit } }),
    });
    const chromium = [run([2, 4, 100], 1.5, 10), run([3, 5, 6], 1.0, 20)];
    const node = [run([1, 2, 3], 1.05)];
    const s = summarizeNetBrowser(chromium, node, NET_BROWSER_DEFAULTS) as Record<string, unknown> & { node: Record<string, unknown> };
    // pooled [2, 3, 4, 5, 6, 100]: median 4.5, p99 the largest
    expect(s['pingRttMs']).toEqual({ 'pv-pv': { median: 4.5, p99: 100 }, 'dom0-pv': { median: 0.6, p99: 0.7 } });
    // Domain-0 has no exits of its own: the pair is left out
    expect(s['exitsPerPacket']).toEqual({ 'pv-pv': 1.25 });
    expect(s['tcpMbitPerSecond']).toBe(15);
    expect(s).not.toHaveProperty('udpDatagramsPerSecond');
    expect(s.node['pingRttMs']).toEqual({ 'pv-pv': { median: 2, p99: 3 } });
    expect(s['chromiumOverNode']).toBe(2.25);
    expect(s['runs']).toBe(chromium);
    expect(s).not.toHaveProperty('linuxErrors');
  });

  it('keeps the pairs of every run and the Linux errors when one run lost its Linux part', () => {
    const pv = { 'pv-pv': { perPacket: 1, packets: 6, exits: {} } };
    const withLinux: BrowserNetRun = {
      rttMs: { 'pv-pv': [1, 2, 3], 'linux-linux': [5, 7] },
      exitsPerPacket: { ...pv, 'linux-linux': { perPacket: 2.5, packets: 4, exits: {} } },
    };
    const without: BrowserNetRun = { rttMs: { 'pv-pv': [1, 2, 3] }, exitsPerPacket: pv, linuxError: 'lin2 did not boot' };
    const s = summarizeNetBrowser([without, withLinux], [without], NET_BROWSER_DEFAULTS);
    expect(s['pingRttMs']).toEqual({ 'pv-pv': { median: 2, p99: 3 }, 'linux-linux': { median: 6, p99: 7 } });
    expect(s['exitsPerPacket']).toEqual({ 'pv-pv': 1, 'linux-linux': 2.5 });
    expect(s['linuxErrors']).toEqual(['lin2 did not boot']);
    expect(s['chromiumOverNode']).toBe(1);
  });
});
