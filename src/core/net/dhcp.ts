/**
 * A DHCP server (RFC 2131, options from RFC 2132) for one subnet, as dnsmasq serves one on
 * a Xen Domain-0's bridge: addresses from a pool, leases by client hardware address,
 * fixed addresses for known MACs (dnsmasq's dhcp-host, from a vif's `ip=`).
 *
 *   DISCOVER -> OFFER   the client's current lease, else its requested address (option 50)
 *                       if free, else the lowest free address of the pool
 *   REQUEST  -> ACK     when the requested address (option 50, or ciaddr when renewing) is
 *                       the one this server holds for the client; NAK otherwise (RFC 2131
 *                       §4.3.2); a REQUEST naming another server (option 54) releases our offer
 *   RELEASE             the lease ends; DECLINE: the address is kept from everyone for a while
 *   INFORM   -> ACK     options only
 * The server only decides; DomainZeroNetif (hostif.ts) carries the messages over UDP 67/68.
 */
import { formatMac, macAt, putMac } from './ethernet';
import { formatIp, rd32, wr16, wr32 } from './ipv4';

export const DHCP_SERVER_PORT = 67,
  DHCP_CLIENT_PORT = 68;
export const BOOTREQUEST = 1,
  BOOTREPLY = 2;
/** Option 53 values. */
export const DHCPDISCOVER = 1,
  DHCPOFFER = 2,
  DHCPREQUEST = 3,
  DHCPDECLINE = 4,
  DHCPACK = 5,
  DHCPNAK = 6,
  DHCPRELEASE = 7,
  DHCPINFORM = 8;
export const DHCP_MAGIC = 0x63825363;
/** The fixed BOOTP part before the magic cookie and the options. */
const FIXED = 236;
export const DHCP_MIN_LEN = FIXED + 4;

export const OPT_SUBNET_MASK = 1,
  OPT_ROUTER = 3,
  OPT_DNS = 6,
  OPT_REQUESTED_IP = 50,
  OPT_LEASE_TIME = 51,
  OPT_MSG_TYPE = 53,
  OPT_SERVER_ID = 54,
  OPT_END = 255,
  OPT_PAD = 0;

export interface DhcpMessage {
  op: number;
  xid: number;
  flags: number;
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  chaddr: number;
  options: Map<number, Uint8Array>;
}

/** Parse a BOOTP/DHCP message; undefined if it is truncated, not Ethernet, or has no magic cookie or a broken option. */
export function parseDhcp(b: Uint8Array): DhcpMessage | undefined {
  if (b.length < DHCP_MIN_LEN || b[1] !== 1 || b[2] !== 6 || rd32(b, FIXED) !== DHCP_MAGIC) return undefined;
  const options = new Map<number, Uint8Array>();
  let i = FIXED + 4;
  while (i < b.length) {
    const code = b[i]!;
    if (code === OPT_END) break;
    if (code === OPT_PAD) {
      i++;
      continue;
    }
    if (i + 1 >= b.length) return undefined;
    const len = b[i + 1]!;
    if (i + 2 + len > b.length) return undefined;
    options.set(code, b.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return {
    op: b[0]!,
    xid: rd32(b, 4),
    flags: (b[10]! << 8) | b[11]!,
    ciaddr: rd32(b, 12),
    yiaddr: rd32(b, 16),
    siaddr: rd32(b, 20),
    chaddr: macAt(b, 28),
    options,
  };
}

export function buildDhcp(m: Omit<DhcpMessage, 'options'>, options: [number, Uint8Array][]): Uint8Array {
  const optLen = options.reduce((n, [, v]) => n + 2 + v.length, 0) + 1;
  const b = new Uint8Array(Math.max(300, FIXED + 4 + optLen)); // BOOTP's minimum of 300 bytes (RFC 1542 §2.1)
  b[0] = m.op;
  b[1] = 1; // htype Ethernet
  b[2] = 6;
  wr32(b, 4, m.xid);
  wr16(b, 10, m.flags);
  wr32(b, 12, m.ciaddr);
  wr32(b, 16, m.yiaddr);
  wr32(b, 20, m.siaddr);
  putMac(b, 28, m.chaddr);
  wr32(b, FIXED, DHCP_MAGIC);
  let i = FIXED + 4;
  for (const [code, v] of options) {
    b[i] = code;
    b[i + 1] = v.length;
    b.set(v, i + 2);
    i += 2 + v.length;
  }
  b[i] = OPT_END;
  return b;
}

export const ipBytes = (ip: number): Uint8Array => {
  const b = new Uint8Array(4);
  wr32(b, 0, ip);
  return b;
};
export const u32Bytes = ipBytes;

export interface DhcpLease {
  mac: string;
  ip: string;
  /** Seconds left, or 'static' for a fixed address. */
  expiresInS: number | 'static';
  state: 'offered' | 'bound';
}

export interface DhcpServerConfig {
  serverIp: number;
  netmask: number;
  /** The pool, inclusive. */
  first: number;
  last: number;
  leaseSeconds: number;
  router?: number;
}

/** How long a declined address is kept from the pool (RFC 2131 §3.1 step 5 leaves it to the server). */
const DECLINE_HOLD_MS = 600_000;
/** How long an offer holds its address for the client. */
const OFFER_HOLD_MS = 60_000;

interface Lease {
  ip: number;
  until: number;
  bound: boolean;
}

export class DhcpServer {
  private readonly leases = new Map<number, Lease>();
  private readonly fixed = new Map<number, number>();
  private readonly declined = new Map<number, number>();
  /** Messages answered, by type, and ignored (malformed, not for us). */
  readonly counters = { discover: 0, offer: 0, request: 0, ack: 0, nak: 0, release: 0, decline: 0, inform: 0, ignored: 0 };

  constructor(
    readonly cfg: DhcpServerConfig,
    private readonly now: () => number,
  ) {}

  /** dnsmasq's dhcp-host: `mac` always gets `ip` (a vif's `ip=`). */
  reserve(mac: number, ip: number): void {
    this.fixed.set(mac, ip);
  }

  unreserve(mac: number): void {
    this.fixed.delete(mac);
  }

  /** Serve from another address and pool (Domain-0 moved on a linked segment, segment.ts); leases outside the new pool are dropped, reservations kept. */
  moveTo(serverIp: number, first: number, last: number): void {
    this.cfg.serverIp = serverIp;
    this.cfg.first = first;
    this.cfg.last = last;
    for (const [mac, l] of this.leases) if (!this.inPool(l.ip) && this.fixed.get(mac) !== l.ip) this.leases.delete(mac);
  }

  /** The current leases (offers still held, and bound ones), fixed ones included once handed out. */
  list(): DhcpLease[] {
    const t = this.now();
    return [...this.leases]
      .filter(([, l]) => l.until > t)
      .map(([mac, l]) => ({
        mac: formatMac(mac),
        ip: formatIp(l.ip),
        expiresInS: this.fixed.get(mac) === l.ip ? ('static' as const) : Math.round((l.until - t) / 1000),
        state: l.bound ? ('bound' as const) : ('offered' as const),
      }));
  }

  private inUse(ip: number, by: number): boolean {
    const t = this.now();
    if (ip === this.cfg.serverIp) return true;
    const d = this.declined.get(ip);
    if (d !== undefined && d > t) return true;
    for (const [mac, l] of this.leases) if (mac !== by && l.ip === ip && l.until > t) return true;
    for (const [mac, f] of this.fixed) if (mac !== by && f === ip) return true;
    return false;
  }

  private inPool(ip: number): boolean {
    return ip >= this.cfg.first && ip <= this.cfg.last;
  }

  private pick(mac: number, requested: number | undefined): number | undefined {
    const f = this.fixed.get(mac);
    if (f !== undefined) return f;
    const l = this.leases.get(mac);
    if (l !== undefined && l.until > this.now()) return l.ip;
    if (requested !== undefined && this.inPool(requested) && !this.inUse(requested, mac)) return requested;
    for (let ip = this.cfg.first; ip <= this.cfg.last; ip++) if (!this.inUse(ip, mac)) return ip;
    return undefined;
  }

  private options(type: number, withLease: boolean): [number, Uint8Array][] {
    const o: [number, Uint8Array][] = [
      [OPT_MSG_TYPE, Uint8Array.of(type)],
      [OPT_SERVER_ID, ipBytes(this.cfg.serverIp)],
    ];
    if (type === DHCPNAK) return o;
    if (withLease) o.push([OPT_LEASE_TIME, u32Bytes(this.cfg.leaseSeconds)]);
    o.push([OPT_SUBNET_MASK, ipBytes(this.cfg.netmask)]);
    o.push([OPT_ROUTER, ipBytes(this.cfg.router ?? this.cfg.serverIp)]);
    return o;
  }

  /** Answer one client message: the reply to send (to the client's port 68), or undefined. */
  handle(m: DhcpMessage): { reply: DhcpMessage & { raw: Uint8Array }; type: number } | undefined {
    const typeOpt = m.options.get(OPT_MSG_TYPE);
    if (m.op !== BOOTREQUEST || typeOpt?.length !== 1) {
      this.counters.ignored++;
      return undefined;
    }
    const reqOpt = m.options.get(OPT_REQUESTED_IP);
    const requested = reqOpt?.length === 4 ? rd32(reqOpt, 0) : undefined;
    const sid = m.options.get(OPT_SERVER_ID);
    const serverId = sid?.length === 4 ? rd32(sid, 0) : undefined;
    const t = this.now();
    const reply = (type: number, yiaddr: number, ciaddr = 0): { reply: DhcpMessage & { raw: Uint8Array }; type: number } => {
      const base = { op: BOOTREPLY, xid: m.xid, flags: m.flags, ciaddr, yiaddr, siaddr: this.cfg.serverIp, chaddr: m.chaddr };
      const opts = this.options(type, type === DHCPOFFER || (type === DHCPACK && yiaddr !== 0));
      return { reply: { ...base, options: new Map(opts), raw: buildDhcp(base, opts) }, type };
    };
    switch (typeOpt[0]) {
      case DHCPDISCOVER: {
        this.counters.discover++;
        const ip = this.pick(m.chaddr, requested);
        if (ip === undefined) return undefined; // pool exhausted: no offer (dnsmasq logs "no address available")
        const l = this.leases.get(m.chaddr);
        if (l === undefined || l.ip !== ip || l.until <= t) this.leases.set(m.chaddr, { ip, until: t + OFFER_HOLD_MS, bound: false });
        this.counters.offer++;
        return reply(DHCPOFFER, ip);
      }
      case DHCPREQUEST: {
        this.counters.request++;
        if (serverId !== undefined && serverId !== this.cfg.serverIp) {
          // The client took another server's offer (SELECTING): ours is withdrawn.
          const l = this.leases.get(m.chaddr);
          if (l && !l.bound) this.leases.delete(m.chaddr);
          return undefined;
        }
        const want = requested ?? m.ciaddr;
        const held = this.leases.get(m.chaddr);
        const fixed = this.fixed.get(m.chaddr);
        const ok =
          want !== 0 &&
          (fixed !== undefined
            ? fixed === want
            : (held !== undefined && held.until > t && held.ip === want) || (this.inPool(want) && !this.inUse(want, m.chaddr)));
        if (!ok) {
          this.counters.nak++;
          return reply(DHCPNAK, 0);
        }
        this.leases.set(m.chaddr, { ip: want, until: t + this.cfg.leaseSeconds * 1000, bound: true });
        this.counters.ack++;
        return reply(DHCPACK, want, m.ciaddr);
      }
      case DHCPRELEASE: {
        this.counters.release++;
        const l = this.leases.get(m.chaddr);
        if (l && l.ip === m.ciaddr) this.leases.delete(m.chaddr);
        return undefined;
      }
      case DHCPDECLINE: {
        this.counters.decline++;
        if (requested !== undefined) this.declined.set(requested, t + DECLINE_HOLD_MS);
        this.leases.delete(m.chaddr);
        return undefined;
      }
      case DHCPINFORM:
        this.counters.inform++;
        this.counters.ack++;
        return reply(DHCPACK, 0, m.ciaddr);
      default:
        this.counters.ignored++;
        return undefined;
    }
  }
}
