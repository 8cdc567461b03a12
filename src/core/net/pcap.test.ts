import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARPOP_REQUEST, buildArp } from './arp';
import { Bridge } from './bridge';
import { ETH_P_ARP, ETH_P_IP, ethFrame, MAC_BROADCAST, parseMac } from './ethernet';
import { DOM0_MAC, DomainZeroNetif } from './hostif';
import { buildIcmp, buildIpv4, buildUdp, ICMP_ECHO, IPPROTO_ICMP, IPPROTO_UDP, parseIp } from './ipv4';
import { LINKTYPE_ETHERNET, PcapCapture, readPcap } from './pcap';
import { summarize, tcpdumpLine } from './summary';

const ip = (s: string): number => parseIp(s)!;
const G = parseMac('00:16:3e:5a:00:01')!;

const tcpdumpMissing = ((): boolean => {
  const r = spawnSync('tcpdump', ['--version'], { stdio: 'ignore' });
  return r.error !== undefined || r.status !== 0;
})();

/** A capture of a little conversation on a bridge: ARP, ping, a UDP datagram. */
function capture(): { file: Uint8Array; frames: Uint8Array[] } {
  const br = new Bridge('xenbr0');
  new DomainZeroNetif(br, { ip: ip('10.0.0.1'), prefix: 24 });
  const port = br.attach('vif1.0', { transmit: () => true }, G);
  const chunks: Uint8Array[] = [];
  const frames: Uint8Array[] = [];
  let t = Date.UTC(2026, 0, 2, 3, 4, 5, 250);
  const cap = new PcapCapture(
    (c) => chunks.push(c),
    () => (t += 1.5),
  );
  br.taps.add((f) => {
    frames.push(f);
    cap.write(f);
  });
  port.input(ethFrame(MAC_BROADCAST, G, ETH_P_ARP, buildArp({ op: ARPOP_REQUEST, sha: G, spa: ip('10.0.0.7'), tha: 0, tpa: ip('10.0.0.1') })));
  port.input(ethFrame(DOM0_MAC, G, ETH_P_IP, buildIpv4(ip('10.0.0.7'), ip('10.0.0.1'), IPPROTO_ICMP, buildIcmp(ICMP_ECHO, 0, 1, 1, new Uint8Array(56)))));
  port.input(
    ethFrame(
      DOM0_MAC,
      G,
      ETH_P_IP,
      buildIpv4(ip('10.0.0.7'), ip('10.0.0.1'), IPPROTO_UDP, buildUdp(ip('10.0.0.7'), ip('10.0.0.1'), 5000, 7, new Uint8Array(5))),
    ),
  );
  cap.stop();
  port.input(ethFrame(DOM0_MAC, G, ETH_P_IP, new Uint8Array(30))); // after stop: not written
  const file = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    file.set(c, o);
    o += c.length;
  }
  return { file, frames };
}

const EXPECTED = [
  'ARP, Request who-has 10.0.0.1 tell 10.0.0.7, length 28',
  'ARP, Reply 10.0.0.1 is-at fe:ff:ff:ff:ff:ff, length 28',
  'IP 10.0.0.7 > 10.0.0.1: ICMP echo request, id 1, seq 1, length 64',
  'IP 10.0.0.1 > 10.0.0.7: ICMP echo reply, id 1, seq 1, length 64',
  'IP 10.0.0.7.5000 > 10.0.0.1.7: UDP, length 5',
];

describe('pcap', () => {
  it('writes the classic header and one record per frame, read back byte for byte', () => {
    const { file, frames } = capture();
    const v = new DataView(file.buffer);
    expect(v.getUint32(0, true)).toBe(0xa1b2c3d4);
    expect([v.getUint16(4, true), v.getUint16(6, true)]).toEqual([2, 4]);
    const r = readPcap(file);
    expect(r.linktype).toBe(LINKTYPE_ETHERNET);
    expect(r.packets.length).toBe(5);
    expect(frames.length).toBe(6);
    r.packets.forEach((p, i) => expect(p.data).toEqual(frames[i]));
    expect(r.packets[0]!.epochMs).toBeCloseTo(Date.UTC(2026, 0, 2, 3, 4, 5, 250) + 1.5, 3);
    expect(() => readPcap(file.subarray(0, file.length - 3))).toThrow(/truncated/);
    expect(() => readPcap(new Uint8Array(24))).toThrow(/magic/);
  });

  it('summaries read as tcpdump prints them', () => {
    const { frames } = capture();
    expect(frames.slice(0, 5).map((f) => summarize(f).info)).toEqual(EXPECTED);
    expect(tcpdumpLine(frames[0]!, Date.UTC(2026, 0, 2, 3, 4, 5, 250), true)).toBe(
      '03:04:05.250000 00:16:3e:5a:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: ARP, Request who-has 10.0.0.1 tell 10.0.0.7, length 28',
    );
    for (const junk of [new Uint8Array(3), new Uint8Array(20), Uint8Array.from({ length: 40 }, (_, i) => (i === 12 ? 8 : i === 14 ? 0x45 : 255))])
      expect(() => summarize(junk)).not.toThrow();
  });

  it.skipIf(tcpdumpMissing)('tcpdump -r reads the capture and prints the same lines', () => {
    const { file } = capture();
    const dir = mkdtempSync(join(tmpdir(), 'hyperlab-pcap-'));
    try {
      const path = join(dir, 'xenbr0.pcap');
      writeFileSync(path, file);
      const r = spawnSync('tcpdump', ['-r', path, '-n', '-tt'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines.length).toBe(5);
      expect(lines.map((l) => l.replace(/^\d+\.\d+ /, ''))).toEqual(EXPECTED);
      expect(lines[0]!.startsWith('1767323045.251500')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
