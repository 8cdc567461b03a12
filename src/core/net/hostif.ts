/**
 * Domain-0's own interface on a bridge (what `ip addr` shows on xenbr0 in a Xen Domain-0):
 * an address (10.0.0.1/24 by default), and on it
 *   - ARP (RFC 826): answers who-has for its address, learns senders, resolves before it sends;
 *   - ICMP echo (RFC 792): answers echo requests; `ping` sends them and times the replies;
 *   - DHCP (dhcp.ts) on UDP 67, as dnsmasq does on a Xen host's bridge.
 * Everything it sends goes through the bridge port like any guest's frame, so captures and
 * counters see it. Malformed frames are counted in `counters.malformed` and otherwise ignored.
 */
import { buildArp, parseArp, ARPOP_REPLY, ARPOP_REQUEST } from './arp';
import type { Bridge, BridgePort, PortDevice } from './bridge';
import { DhcpServer, DHCPACK, DHCPDISCOVER, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, OPT_MSG_TYPE, parseDhcp } from './dhcp';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IP, MAC_BROADCAST, ethDest, ethFrame, ethType, macAt, parseMac } from './ethernet';
import {
  buildIcmp,
  buildIpv4,
  buildUdp,
  formatIp,
  ICMP_ECHO,
  ICMP_ECHOREPLY,
  inetChecksum,
  IPPROTO_ICMP,
  IPPROTO_UDP,
  parseIpv4,
  parseUdp,
  prefixMask,
  rd16,
} from './ipv4';

/** The MAC of Domain-0's interface: fe:ff:ff:ff:ff:ff, the address Linux's netback gives every vif in a Xen Domain-0, which the bridge takes as its own. */
export const DOM0_MAC = parseMac('fe:ff:ff:ff:ff:ff')!;

export interface HostIfConfig {
  ip: number;
  prefix: number;
  /** DHCP: the pool (inclusive) and the lease time; no server when undefined. */
  dhcp?: { first: number; last: number; leaseSeconds: number };
}

export interface PingReply {
  seq: number;
  /** Round-trip time in ms, or undefined when no reply came in time. */
  rttMs: number | undefined;
  ttl?: number;
  bytes?: number;
}

/** How long an unanswered ARP request holds queued packets. */
const ARP_TIMEOUT_MS = 3000;

export class DomainZeroNetif implements PortDevice {
  readonly port: BridgePort;
  /** DOM0_MAC unless the host joined a linked segment in another slot (segment.ts). */
  mac = DOM0_MAC;
  readonly dhcp: DhcpServer | undefined;
  readonly arpCache = new Map<number, { mac: number; seen: number }>();
  readonly counters = { arpRequests: 0, arpReplies: 0, echoRequests: 0, echoReplies: 0, dhcp: 0, malformed: 0 };
  private readonly pendingArp = new Map<number, { since: number; packets: Uint8Array[] }>();
  private readonly pings = new Map<number, { sent: number; resolve: (r: PingReply) => void }>();
  private pingId = 0x4801;
  private pingSeq = 0;

  constructor(
    bridge: Bridge,
    readonly cfg: HostIfConfig,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.port = bridge.attach(bridge.name, this);
    if (cfg.dhcp) this.dhcp = new DhcpServer({ serverIp: cfg.ip, netmask: prefixMask(cfg.prefix), ...cfg.dhcp }, now);
  }

  get ip(): number {
    return this.cfg.ip;
  }

  /** Take another address and MAC on the segment (segment.ts: this host joined a link), and the DHCP pool that goes with them; ARP entries are kept. */
  readdress(ip: number, mac: number, pool: { first: number; last: number }): void {
    this.cfg.ip = ip;
    this.mac = mac;
    if (this.cfg.dhcp) this.cfg.dhcp = { ...this.cfg.dhcp, ...pool };
    this.dhcp?.moveTo(ip, pool.first, pool.last);
  }

  /** A frame from the bridge. */
  transmit(frame: Uint8Array, from?: BridgePort): boolean {
    const dst = ethDest(frame);
    if (dst !== this.mac && dst !== MAC_BROADCAST) return true; // flooded to us, not for us: a NIC filters it
    const payload = frame.subarray(ETH_HLEN);
    const type = ethType(frame);
    if (type === ETH_P_ARP) this.onArp(payload);
    else if (type === ETH_P_IP) this.onIp(macAt(frame, 6), payload, from?.device.link === true);
    return true;
  }

  private send(dest: number, type: number, payload: Uint8Array): void {
    this.port.input(ethFrame(dest, this.mac, type, payload));
  }

  private learn(ip: number, mac: number): void {
    this.arpCache.set(ip, { mac, seen: this.now() });
    const q = this.pendingArp.get(ip);
    if (q) {
      this.pendingArp.delete(ip);
      for (const p of q.packets) this.send(mac, ETH_P_IP, p);
    }
  }

  private onArp(p: Uint8Array): void {
    const a = parseArp(p);
    if (!a) {
      this.counters.malformed++;
      return;
    }
    if (a.spa !== 0) this.learn(a.spa, a.sha);
    if (a.op === ARPOP_REQUEST && a.tpa === this.cfg.ip) {
      this.counters.arpRequests++;
      this.counters.arpReplies++;
      this.send(a.sha, ETH_P_ARP, buildArp({ op: ARPOP_REPLY, sha: this.mac, spa: this.cfg.ip, tha: a.sha, tpa: a.spa }));
    }
  }

  private onIp(srcMac: number, p: Uint8Array, remote = false): void {
    const ip = parseIpv4(p);
    if (!ip) {
      this.counters.malformed++;
      return;
    }
    if (ip.protocol === IPPROTO_UDP) {
      const u = parseUdp(ip);
      if (!u) {
        this.counters.malformed++;
        return;
      }
      if (u.dport === DHCP_SERVER_PORT && this.dhcp) this.onDhcp(u.data, remote);
      return;
    }
    if (ip.dst !== this.cfg.ip || ip.protocol !== IPPROTO_ICMP) return;
    const m = ip.payload;
    if (m.length < 8 || inetChecksum(m, 0, m.length) !== 0) {
      this.counters.malformed++;
      return;
    }
    if (m[0] === ICMP_ECHO) {
      this.counters.echoRequests++;
      this.counters.echoReplies++;
      // Answer to the sender's MAC directly (it just told us where it is) and learn it.
      this.arpCache.set(ip.src, { mac: srcMac, seen: this.now() });
      this.send(srcMac, ETH_P_IP, buildIpv4(this.cfg.ip, ip.src, IPPROTO_ICMP, buildIcmp(ICMP_ECHOREPLY, 0, rd16(m, 4), rd16(m, 6), m.subarray(8))));
    } else if (m[0] === ICMP_ECHOREPLY && rd16(m, 4) === this.pingId) {
      const w = this.pings.get(rd16(m, 6));
      if (w) {
        this.pings.delete(rd16(m, 6));
        w.resolve({ seq: rd16(m, 6), rttMs: this.now() - w.sent, ttl: ip.ttl, bytes: m.length });
      }
    }
  }

  private onDhcp(data: Uint8Array, remote: boolean): void {
    const m = parseDhcp(data);
    if (!m || !this.dhcp) {
      this.counters.malformed++;
      return;
    }
    // A client behind a link (another host's guest) is that host's server's to serve: no offer
    // from here (net/segment.ts). Its requests to this server (a renewal of a lease from here,
    // a guest migrated away) are still answered.
    if (remote && m.options.get(OPT_MSG_TYPE)?.[0] === DHCPDISCOVER) return;
    this.counters.dhcp++;
    const r = this.dhcp.handle(m);
    if (!r) return;
    // RFC 2131 §4.1: to the broadcast address if the client set the BROADCAST flag or has
    // no address yet and asks for that; otherwise unicast to chaddr and yiaddr.
    const broadcast = (m.flags & 0x8000) !== 0 || r.reply.yiaddr === 0;
    const dstIp = broadcast ? 0xffff_ffff : r.reply.yiaddr;
    const dstMac = broadcast ? MAC_BROADCAST : m.chaddr;
    this.send(dstMac, ETH_P_IP, buildIpv4(this.cfg.ip, dstIp, IPPROTO_UDP, buildUdp(this.cfg.ip, dstIp, DHCP_SERVER_PORT, DHCP_CLIENT_PORT, r.reply.raw)));
    // As dnsmasq injects the ARP entry of a client it acknowledges: a guest that takes over
    // the address of a destroyed one is reached at its own MAC, not the old one's.
    if (r.type === DHCPACK && r.reply.yiaddr !== 0) this.arpCache.set(r.reply.yiaddr, { mac: m.chaddr, seen: this.now() });
  }

  /** Send an IPv4 packet to `dst` on the subnet, resolving its MAC first if needed. */
  sendIp(dst: number, protocol: number, payload: Uint8Array): void {
    const packet = buildIpv4(this.cfg.ip, dst, protocol, payload);
    const mask = prefixMask(this.cfg.prefix);
    if ((dst & mask) !== (this.cfg.ip & mask)) throw new Error(`${formatIp(dst)} is not on ${formatIp(this.cfg.ip & mask)}/${this.cfg.prefix} (no route)`);
    const known = this.arpCache.get(dst);
    if (known) {
      this.send(known.mac, ETH_P_IP, packet);
      return;
    }
    const t = this.now();
    const q = this.pendingArp.get(dst);
    if (q && t - q.since < ARP_TIMEOUT_MS) {
      if (q.packets.length < 8) q.packets.push(packet);
      return;
    }
    this.pendingArp.set(dst, { since: t, packets: [packet] });
    this.send(MAC_BROADCAST, ETH_P_ARP, buildArp({ op: ARPOP_REQUEST, sha: this.mac, spa: this.cfg.ip, tha: 0, tpa: dst }));
  }

  /** One echo request of `size` data bytes; resolves with the round trip, or rttMs undefined after `timeoutMs`. */
  ping(dst: number, size = 56, timeoutMs = 1000): Promise<PingReply> {
    const seq = (this.pingSeq = (this.pingSeq + 1) & 0xffff);
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = (0x10 + i) & 0xff;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pings.delete(seq);
        resolve({ seq, rttMs: undefined });
      }, timeoutMs);
      this.pings.set(seq, {
        sent: this.now(),
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
      try {
        this.sendIp(dst, IPPROTO_ICMP, buildIcmp(ICMP_ECHO, 0, this.pingId, seq, data));
      } catch (e) {
        clearTimeout(timer);
        this.pings.delete(seq);
        throw e;
      }
    });
  }
}
