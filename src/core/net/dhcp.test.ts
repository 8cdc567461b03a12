import { describe, expect, it } from 'vitest';
import {
  buildDhcp,
  DhcpServer,
  DHCPACK,
  DHCPDISCOVER,
  DHCPNAK,
  DHCPOFFER,
  DHCPRELEASE,
  DHCPREQUEST,
  ipBytes,
  OPT_MSG_TYPE,
  OPT_REQUESTED_IP,
  OPT_SERVER_ID,
  parseDhcp,
  OPT_LEASE_TIME,
  OPT_SUBNET_MASK,
} from './dhcp';
import { parseMac } from './ethernet';
import { formatIp, parseIp, rd32 } from './ipv4';

const ip = (s: string): number => parseIp(s)!;
const M1 = parseMac('00:16:3e:00:00:01')!;
const M2 = parseMac('00:16:3e:00:00:02')!;
const M3 = parseMac('00:16:3e:00:00:03')!;

function server() {
  let t = 0;
  const s = new DhcpServer(
    { serverIp: ip('10.0.0.1'), netmask: ip('255.255.255.0'), first: ip('10.0.0.100'), last: ip('10.0.0.101'), leaseSeconds: 3600 },
    () => t,
  );
  return { s, tick: (ms: number) => (t += ms) };
}

function msg(type: number, chaddr: number, opts: [number, Uint8Array][] = [], ciaddr = 0) {
  const raw = buildDhcp({ op: 1, xid: 0x1234, flags: 0x8000, ciaddr, yiaddr: 0, siaddr: 0, chaddr }, [[OPT_MSG_TYPE, Uint8Array.of(type)], ...opts]);
  return parseDhcp(raw)!;
}

describe('DhcpServer', () => {
  it('DISCOVER/OFFER/REQUEST/ACK hands out the pool in order, with mask, router and lease time', () => {
    const { s } = server();
    const offer = s.handle(msg(DHCPDISCOVER, M1))!;
    expect(offer.type).toBe(DHCPOFFER);
    expect(formatIp(offer.reply.yiaddr)).toBe('10.0.0.100');
    const parsed = parseDhcp(offer.reply.raw)!; // the bytes on the wire parse back
    expect(parsed.xid).toBe(0x1234);
    expect(parsed.chaddr).toBe(M1);
    expect(rd32(parsed.options.get(OPT_SERVER_ID)!, 0)).toBe(ip('10.0.0.1'));
    expect(rd32(parsed.options.get(OPT_LEASE_TIME)!, 0)).toBe(3600);
    expect(formatIp(rd32(parsed.options.get(OPT_SUBNET_MASK)!, 0))).toBe('255.255.255.0');
    const ack = s.handle(
      msg(DHCPREQUEST, M1, [
        [OPT_REQUESTED_IP, ipBytes(offer.reply.yiaddr)],
        [OPT_SERVER_ID, ipBytes(ip('10.0.0.1'))],
      ]),
    )!;
    expect(ack.type).toBe(DHCPACK);
    expect(formatIp(ack.reply.yiaddr)).toBe('10.0.0.100');
    expect(s.list()).toEqual([{ mac: '00:16:3e:00:00:01', ip: '10.0.0.100', expiresInS: 3600, state: 'bound' }]);
    // the same client asking again gets the same address
    expect(formatIp(s.handle(msg(DHCPDISCOVER, M1))!.reply.yiaddr)).toBe('10.0.0.100');
    expect(formatIp(s.handle(msg(DHCPDISCOVER, M2))!.reply.yiaddr)).toBe('10.0.0.101');
  });

  it('NAKs an address someone else holds, and offers nothing when the pool is used up', () => {
    const { s } = server();
    s.handle(msg(DHCPREQUEST, M1, [[OPT_REQUESTED_IP, ipBytes(ip('10.0.0.100'))]]));
    expect(s.handle(msg(DHCPREQUEST, M2, [[OPT_REQUESTED_IP, ipBytes(ip('10.0.0.100'))]]))!.type).toBe(DHCPNAK);
    expect(s.handle(msg(DHCPREQUEST, M2, [[OPT_REQUESTED_IP, ipBytes(ip('10.0.0.5'))]]))!.type).toBe(DHCPNAK); // outside the pool
    s.handle(msg(DHCPREQUEST, M2, [[OPT_REQUESTED_IP, ipBytes(ip('10.0.0.101'))]]));
    expect(s.handle(msg(DHCPDISCOVER, M3))).toBeUndefined();
    s.handle(msg(DHCPRELEASE, M2, [], ip('10.0.0.101')));
    expect(formatIp(s.handle(msg(DHCPDISCOVER, M3))!.reply.yiaddr)).toBe('10.0.0.101');
  });

  it('leases expire; reserved addresses (vif ip=) go to their MAC only', () => {
    const { s, tick } = server();
    s.reserve(M3, ip('10.0.0.50'));
    expect(formatIp(s.handle(msg(DHCPDISCOVER, M3))!.reply.yiaddr)).toBe('10.0.0.50');
    expect(s.handle(msg(DHCPREQUEST, M3, [[OPT_REQUESTED_IP, ipBytes(ip('10.0.0.100'))]]))!.type).toBe(DHCPNAK);
    expect(s.handle(msg(DHCPREQUEST, M1, [[OPT_REQUESTED_IP, ipBytes(ip('10.0.0.50'))]]))!.type).toBe(DHCPNAK);
    s.handle(msg(DHCPREQUEST, M1, [[OPT_REQUESTED_IP, ipBytes(ip('10.0.0.100'))]]));
    tick(3601_000);
    expect(formatIp(s.handle(msg(DHCPDISCOVER, M2))!.reply.yiaddr)).toBe('10.0.0.100');
  });

  it('ignores malformed messages', () => {
    expect(parseDhcp(new Uint8Array(100))).toBeUndefined();
    const raw = buildDhcp({ op: 1, xid: 1, flags: 0, ciaddr: 0, yiaddr: 0, siaddr: 0, chaddr: M1 }, [[OPT_MSG_TYPE, Uint8Array.of(DHCPDISCOVER)]]);
    raw[240] = 53;
    raw[241] = 200; // an option longer than the message
    expect(parseDhcp(raw)).toBeUndefined();
    const { s } = server();
    expect(s.handle({ ...msg(DHCPDISCOVER, M1), op: 2 })).toBeUndefined();
    expect(s.counters.ignored).toBe(1);
  });
});
