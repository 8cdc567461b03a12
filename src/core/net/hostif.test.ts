import { describe, expect, it } from 'vitest';
import { ARPOP_REPLY, ARPOP_REQUEST, buildArp, parseArp } from './arp';
import { Bridge, type BridgePort } from './bridge';
import { buildDhcp, DHCPACK, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, ipBytes, OPT_MSG_TYPE, OPT_REQUESTED_IP, parseDhcp } from './dhcp';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IP, ethDest, ethFrame, ethType, MAC_BROADCAST, parseMac } from './ethernet';
import { DOM0_MAC, DomainZeroNetif } from './hostif';
import { buildIcmp, buildIpv4, buildUdp, formatIp, ICMP_ECHO, ICMP_ECHOREPLY, IPPROTO_ICMP, IPPROTO_UDP, parseIpv4, parseIp, parseUdp, rd16 } from './ipv4';

const ip = (s: string): number => parseIp(s)!;
const G = parseMac('00:16:3e:5a:00:01')!;

/** A guest on the bridge, written by hand: it records what reaches it and can answer pings. */
function setup() {
  const br = new Bridge('xenbr0');
  const dom0 = new DomainZeroNetif(br, { ip: ip('10.0.0.1'), prefix: 24, dhcp: { first: ip('10.0.0.100'), last: ip('10.0.0.199'), leaseSeconds: 3600 } });
  const got: Uint8Array[] = [];
  let answer = false;
  const gip = ip('10.0.0.7');
  const port: BridgePort = br.attach(
    'vif1.0',
    {
      transmit(f) {
        got.push(f);
        if (!answer) return true;
        // a guest that answers ARP for 10.0.0.7 and echo requests
        if (ethType(f) === ETH_P_ARP) {
          const a = parseArp(f.subarray(ETH_HLEN))!;
          if (a.op === ARPOP_REQUEST && a.tpa === gip)
            queueMicrotask(() => port.input(ethFrame(a.sha, G, ETH_P_ARP, buildArp({ op: ARPOP_REPLY, sha: G, spa: gip, tha: a.sha, tpa: a.spa }))));
        } else if (ethType(f) === ETH_P_IP) {
          const p = parseIpv4(f.subarray(ETH_HLEN))!;
          const m = p.payload;
          if (p.protocol === IPPROTO_ICMP && m[0] === ICMP_ECHO) {
            const reply = buildIpv4(gip, p.src, IPPROTO_ICMP, buildIcmp(ICMP_ECHOREPLY, 0, rd16(m, 4), rd16(m, 6), m.subarray(8)));
            queueMicrotask(() => port.input(ethFrame(DOM0_MAC, G, ETH_P_IP, reply)));
          }
        }
        return true;
      },
    },
    G,
  );
  return { br, dom0, got, port, answer: () => (answer = true) };
}

describe("Domain-0's interface", () => {
  it('answers ARP who-has for its address, and learns the asker', () => {
    const s = setup();
    s.port.input(ethFrame(MAC_BROADCAST, G, ETH_P_ARP, buildArp({ op: ARPOP_REQUEST, sha: G, spa: ip('10.0.0.7'), tha: 0, tpa: ip('10.0.0.1') })));
    s.port.input(ethFrame(MAC_BROADCAST, G, ETH_P_ARP, buildArp({ op: ARPOP_REQUEST, sha: G, spa: ip('10.0.0.7'), tha: 0, tpa: ip('10.0.0.9') })));
    expect(s.got.length).toBe(1);
    const a = parseArp(s.got[0]!.subarray(ETH_HLEN))!;
    expect(a.op).toBe(ARPOP_REPLY);
    expect(a.sha).toBe(DOM0_MAC);
    expect(formatIp(a.spa)).toBe('10.0.0.1');
    expect(ethDest(s.got[0]!)).toBe(G);
    expect(s.dom0.arpCache.get(ip('10.0.0.7'))?.mac).toBe(G);
  });

  it('answers an ICMP echo request with the same id, sequence and data; ignores a bad checksum', () => {
    const s = setup();
    const data = new TextEncoder().encode('hello, dom0');
    const echo = buildIcmp(ICMP_ECHO, 0, 77, 3, data);
    s.port.input(ethFrame(DOM0_MAC, G, ETH_P_IP, buildIpv4(ip('10.0.0.7'), ip('10.0.0.1'), IPPROTO_ICMP, echo)));
    expect(s.got.length).toBe(1);
    const p = parseIpv4(s.got[0]!.subarray(ETH_HLEN))!;
    expect(formatIp(p.dst)).toBe('10.0.0.7');
    expect(p.payload[0]).toBe(ICMP_ECHOREPLY);
    expect([rd16(p.payload, 4), rd16(p.payload, 6)]).toEqual([77, 3]);
    expect(new TextDecoder().decode(p.payload.subarray(8))).toBe('hello, dom0');
    const broken = buildIcmp(ICMP_ECHO, 0, 77, 4, data);
    broken[9]! ^= 0xff;
    s.port.input(ethFrame(DOM0_MAC, G, ETH_P_IP, buildIpv4(ip('10.0.0.7'), ip('10.0.0.1'), IPPROTO_ICMP, broken)));
    expect(s.got.length).toBe(1);
    expect(s.dom0.counters.malformed).toBe(1);
  });

  it('serves DHCP: DISCOVER gets an OFFER from the pool, REQUEST an ACK, both broadcast when asked', () => {
    const s = setup();
    const client = (type: number, opts: [number, Uint8Array][] = []): void => {
      const d = buildDhcp({ op: 1, xid: 0xabcd, flags: 0x8000, ciaddr: 0, yiaddr: 0, siaddr: 0, chaddr: G }, [[OPT_MSG_TYPE, Uint8Array.of(type)], ...opts]);
      s.port.input(ethFrame(MAC_BROADCAST, G, ETH_P_IP, buildIpv4(0, 0xffffffff, IPPROTO_UDP, buildUdp(0, 0xffffffff, 68, 67, d))));
    };
    const lastDhcp = () => {
      const f = s.got[s.got.length - 1]!;
      expect(ethDest(f)).toBe(MAC_BROADCAST);
      const p = parseIpv4(f.subarray(ETH_HLEN))!;
      const u = parseUdp(p)!;
      expect([u.sport, u.dport]).toEqual([67, 68]);
      return parseDhcp(u.data)!;
    };
    client(DHCPDISCOVER);
    const offer = lastDhcp();
    expect(offer.options.get(OPT_MSG_TYPE)![0]).toBe(DHCPOFFER);
    expect(formatIp(offer.yiaddr)).toBe('10.0.0.100');
    client(DHCPREQUEST, [[OPT_REQUESTED_IP, ipBytes(offer.yiaddr)]]);
    const ack = lastDhcp();
    expect(ack.options.get(OPT_MSG_TYPE)![0]).toBe(DHCPACK);
    expect(formatIp(ack.yiaddr)).toBe('10.0.0.100');
    expect(s.dom0.dhcp!.list()[0]!.state).toBe('bound');
    // the acknowledged client's MAC is Domain-0's ARP entry for its address (dnsmasq's arp_inject)
    expect(s.dom0.arpCache.get(ip('10.0.0.100'))?.mac).toBe(G);
  });

  it('ping resolves the MAC by ARP, then times echo replies; an unanswered ping times out', async () => {
    const s = setup();
    s.answer();
    const r = await s.dom0.ping(ip('10.0.0.7'), 56, 1000);
    expect(r.rttMs).toBeGreaterThanOrEqual(0);
    expect(r.bytes).toBe(64);
    expect(s.dom0.arpCache.get(ip('10.0.0.7'))?.mac).toBe(G);
    const r2 = await s.dom0.ping(ip('10.0.0.7'));
    expect(r2.seq).toBe(r.seq + 1);
    const lost = await s.dom0.ping(ip('10.0.0.42'), 56, 50);
    expect(lost.rttMs).toBeUndefined();
    await expect(s.dom0.ping(ip('192.168.1.1'))).rejects.toThrow(/no route/);
  });
});
