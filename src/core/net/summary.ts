/**
 * One line per frame, as tcpdump prints it (without -e unless `link` is asked for):
 *   ARP, Request who-has 10.0.0.1 tell 10.0.0.2, length 28
 *   IP 10.0.0.2 > 10.0.0.1: ICMP echo request, id 1, seq 1, length 64
 *   IP 10.0.0.2.5000 > 10.0.0.3.5000: UDP, length 5
 *   IP 0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, Request from 00:16:3e:12:34:56, length 300
 * For the packet view of Domain-0's prompt and the browser's packet list.
 */
import { parseArp, ARPOP_REPLY, ARPOP_REQUEST } from './arp';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT } from './dhcp';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, ethDest, ethSource, ethType, formatMac, macAt } from './ethernet';
import { formatIp, ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHOREPLY, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IP_HLEN, rd16, rd32 } from './ipv4';

export interface FrameSummary {
  source: string;
  destination: string;
  protocol: string;
  length: number;
  info: string;
}

/** `HH:MM:SS.uuuuuu` of a time in ms since the epoch (UTC). */
export function tcpdumpTime(epochMs: number): string {
  const d = new Date(Math.floor(epochMs));
  const us = Math.floor((epochMs * 1000) % 1_000_000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${String(us).padStart(6, '0')}`;
}

/** Decode what tcpdump would print after the time stamp; never throws on any bytes. */
export function summarize(frame: Uint8Array): FrameSummary {
  const length = frame.length;
  if (frame.length < ETH_HLEN) return { source: '?', destination: '?', protocol: 'ETH', length, info: `[|ether] length ${length}` };
  const type = ethType(frame);
  const p = frame.subarray(ETH_HLEN);
  const macs = { source: formatMac(ethSource(frame)), destination: formatMac(ethDest(frame)) };
  if (type === ETH_P_ARP) {
    const a = parseArp(p);
    if (!a) return { ...macs, protocol: 'ARP', length, info: `ARP, [|arp] length ${p.length}` };
    const info =
      a.op === ARPOP_REQUEST
        ? `ARP, Request who-has ${formatIp(a.tpa)} tell ${formatIp(a.spa)}, length ${p.length}`
        : a.op === ARPOP_REPLY
          ? `ARP, Reply ${formatIp(a.spa)} is-at ${formatMac(a.sha)}, length ${p.length}`
          : `ARP, op ${a.op}, length ${p.length}`;
    return { ...macs, protocol: 'ARP', length, info };
  }
  if (type === ETH_P_IPV6) return { ...macs, protocol: 'IPv6', length, info: `IP6, length ${p.length}` };
  if (type !== ETH_P_IP)
    return {
      ...macs,
      protocol: `0x${type.toString(16).padStart(4, '0')}`,
      length,
      info: `ethertype Unknown (0x${type.toString(16).padStart(4, '0')}), length ${length}`,
    };
  if (p.length < IP_HLEN || p[0]! >> 4 !== 4) return { ...macs, protocol: 'IPv4', length, info: `IP [|ip]` };
  const ihl = (p[0]! & 15) * 4;
  const src = formatIp(rd32(p, 12));
  const dst = formatIp(rd32(p, 16));
  const total = Math.min(rd16(p, 2), p.length);
  const body = p.subarray(Math.min(ihl, total), total);
  const proto = p[9]!;
  if (proto === IPPROTO_ICMP && body.length >= 8) {
    const t = body[0]!;
    const what =
      t === ICMP_ECHO
        ? `ICMP echo request, id ${rd16(body, 4)}, seq ${rd16(body, 6)}`
        : t === ICMP_ECHOREPLY
          ? `ICMP echo reply, id ${rd16(body, 4)}, seq ${rd16(body, 6)}`
          : t === ICMP_DEST_UNREACH
            ? `ICMP unreachable, code ${body[1]}`
            : `ICMP type ${t}`;
    return { source: src, destination: dst, protocol: 'ICMP', length, info: `IP ${src} > ${dst}: ${what}, length ${body.length}` };
  }
  if (proto === IPPROTO_UDP && body.length >= 8) {
    const sport = rd16(body, 0);
    const dport = rd16(body, 2);
    const ulen = Math.max(0, rd16(body, 4) - 8);
    const head = `IP ${src}.${sport} > ${dst}.${dport}:`;
    if ((sport === DHCP_CLIENT_PORT && dport === DHCP_SERVER_PORT) || (sport === DHCP_SERVER_PORT && dport === DHCP_CLIENT_PORT)) {
      const d = body.subarray(8);
      const req = d[0] === 1;
      const from = req && d.length >= 34 ? ` from ${formatMac(macAt(d, 28))}` : '';
      return { source: src, destination: dst, protocol: 'DHCP', length, info: `${head} BOOTP/DHCP, ${req ? 'Request' : 'Reply'}${from}, length ${ulen}` };
    }
    return { source: src, destination: dst, protocol: 'UDP', length, info: `${head} UDP, length ${ulen}` };
  }
  if (proto === IPPROTO_TCP && body.length >= 20) {
    return {
      source: src,
      destination: dst,
      protocol: 'TCP',
      length,
      info: `IP ${src}.${rd16(body, 0)} > ${dst}.${rd16(body, 2)}: tcp ${Math.max(0, body.length - (body[12]! >> 4) * 4)}`,
    };
  }
  return { source: src, destination: dst, protocol: `IP/${proto}`, length, info: `IP ${src} > ${dst}: ip-proto-${proto} ${body.length}` };
}

/** A tcpdump line: time, then the summary (with -e's link-level header when `link`). */
export function tcpdumpLine(frame: Uint8Array, epochMs: number, link = false): string {
  const s = summarize(frame);
  if (!link || frame.length < ETH_HLEN) return `${tcpdumpTime(epochMs)} ${s.info}`;
  const t = ethType(frame);
  const tname = t === ETH_P_IP ? 'IPv4' : t === ETH_P_ARP ? 'ARP' : t === ETH_P_IPV6 ? 'IPv6' : 'Unknown';
  return `${tcpdumpTime(epochMs)} ${formatMac(ethSource(frame))} > ${formatMac(ethDest(frame))}, ethertype ${tname} (0x${t.toString(16).padStart(4, '0')}), length ${frame.length}: ${s.info}`;
}
