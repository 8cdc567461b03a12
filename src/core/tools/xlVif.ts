/**
 * One `vif = [ ... ]` entry of xl.cfg, in Xen's xl-network-configuration(5) syntax: comma-
 * separated `key=value` pairs, every key optional (`''` is an interface with all defaults):
 *
 *   mac=00:16:3e:12:34:56   the guest's MAC; a random one in Xen's 00:16:3e prefix if not
 *                           given (libxl clears the top bit of the fourth byte, as here)
 *   bridge=xenbr0           the bridge in Domain-0 (xenbr0 unless given)
 *   ip=10.0.0.7             the address(es) the vif may use, space-separated: Domain-0's DHCP
 *                           server hands the first to this MAC (dnsmasq's dhcp-host)
 *   rate=10Mb/s@20ms        the credit scheduler: RATE/s with B, KB, MB, GB, b, Kb, Mb, Gb
 *                           per second, @ an interval in s, ms or us (50ms unless given)
 *   mtu=1500                68 to 1500 (the bridge carries no jumbo frames)
 *   type=vif|ioemu          vif: a pv interface only; ioemu (hvm's default) an emulated NIC too
 *   model=virtio-net        the emulated NIC of an hvm guest (virtio-net only here)
 *   devid=N, vifname=NAME, script=vif-bridge, backend=0   as in xl
 *
 * A mistake is a VifSpecError naming the key at fault; xlConfig adds the line.
 */
import { formatMac, parseMac } from '../net/ethernet';
import { formatIp, parseIp } from '../net/ipv4';

export interface VifConfig {
  mac: number;
  /** Whether the MAC was given (a random one otherwise). */
  macGiven: boolean;
  bridge: string;
  ip: number[];
  rate?: { bytes: number; usec: number; text: string };
  mtu: number;
  type: 'vif' | 'ioemu';
  model?: string;
  devid?: number;
  vifname?: string;
}

export class VifSpecError extends Error {}

const KEYS = ['mac', 'bridge', 'ip', 'rate', 'mtu', 'type', 'model', 'devid', 'vifname', 'script', 'backend', 'gatewaydev'] as const;
type Key = (typeof KEYS)[number];

const clip = (s: string): string => (s.length > 40 ? `${s.slice(0, 40)}...` : s);

/** A random MAC in 00:16:3e:00:00:00/25 (libxl__random_bytes then mac[3] &= 0x7f). */
export function randomXenMac(random: () => number = Math.random): number {
  const b = [0x00, 0x16, 0x3e, Math.floor(random() * 256) & 0x7f, Math.floor(random() * 256) & 0xff, Math.floor(random() * 256) & 0xff];
  return b.reduce((acc, x) => acc * 256 + x, 0);
}

const RATE_UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, b: 1 / 8, Kb: 1e3 / 8, Mb: 1e6 / 8, Gb: 1e9 / 8 };
const INTERVAL_UNITS: Record<string, number> = { s: 1e6, ms: 1e3, us: 1 };

/** `RATE/s[@INTERVAL]` to bytes per interval and the interval in µs (libxl's xlu_vif_parse_rate). */
export function parseRate(text: string): { bytes: number; usec: number } {
  const m = /^(\d+(?:\.\d+)?)([KMG]?[Bb])\/s(?:@(\d+)(s|ms|us))?$/.exec(text.trim());
  if (!m) throw new VifSpecError(`rate '${clip(text)}' is not RATE/s[@INTERVAL] (e.g. 10Mb/s@20ms)`);
  const perSec = Number(m[1]) * RATE_UNITS[m[2]!]!;
  const usec = m[3] !== undefined ? Number(m[3]) * INTERVAL_UNITS[m[4]!]! : 50_000;
  if (usec < 1 || usec > 10_000_000) throw new VifSpecError(`rate '${clip(text)}': the interval must be between 1us and 10s`);
  const bytes = Math.floor((perSec * usec) / 1e6);
  if (bytes < 1) throw new VifSpecError(`rate '${clip(text)}' allows less than one byte per interval`);
  return { bytes, usec };
}

export function parseVifSpec(text: string, random: () => number = Math.random): VifConfig {
  const got = new Map<Key, string>();
  for (const part of text.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq < 0) throw new VifSpecError(`vif '${clip(text)}': '${clip(p)}' is not key=value`);
    const key = p.slice(0, eq).trim() as Key;
    if (!KEYS.includes(key)) throw new VifSpecError(`vif: unknown key '${clip(key)}' (known: ${KEYS.join(', ')})`);
    if (got.has(key)) throw new VifSpecError(`vif: ${key} is given twice`);
    got.set(key, p.slice(eq + 1).trim());
  }
  const cfg: VifConfig = { mac: 0, macGiven: false, bridge: 'xenbr0', ip: [], mtu: 1500, type: 'vif' };
  const mac = got.get('mac');
  if (mac !== undefined) {
    const m = parseMac(mac);
    if (m === undefined) throw new VifSpecError(`vif: mac '${clip(mac)}' is not a MAC address (xx:xx:xx:xx:xx:xx)`);
    if (Math.floor(m / 2 ** 40) % 2 === 1) throw new VifSpecError(`vif: mac ${formatMac(m)} is a multicast address`);
    if (m === 0) throw new VifSpecError('vif: mac 00:00:00:00:00:00 is not a usable address');
    cfg.mac = m;
    cfg.macGiven = true;
  } else cfg.mac = randomXenMac(random);
  const bridge = got.get('bridge');
  if (bridge !== undefined) {
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge))
      throw new VifSpecError(`vif: bridge '${clip(bridge)}' is not an interface name (1 to 15 letters, digits, _ . -)`);
    cfg.bridge = bridge;
  }
  const ip = got.get('ip');
  if (ip !== undefined) {
    for (const a of ip.split(/\s+/).filter((x) => x !== '')) {
      const n = parseIp(a);
      if (n === undefined) throw new VifSpecError(`vif: ip '${clip(a)}' is not an IPv4 address`);
      cfg.ip.push(n);
    }
  }
  const rate = got.get('rate');
  if (rate !== undefined) cfg.rate = { ...parseRate(rate), text: rate };
  const mtu = got.get('mtu');
  if (mtu !== undefined) {
    const n = Number(mtu);
    if (!/^\d+$/.test(mtu) || n < 68 || n > 1500) throw new VifSpecError(`vif: mtu must be between 68 and 1500, not '${clip(mtu)}'`);
    cfg.mtu = n;
  }
  const type = got.get('type');
  if (type !== undefined) {
    if (type !== 'vif' && type !== 'ioemu') throw new VifSpecError(`vif: type must be vif or ioemu, not '${clip(type)}'`);
    cfg.type = type;
  }
  const model = got.get('model');
  if (model !== undefined) {
    if (model !== 'virtio-net' && model !== 'virtio') throw new VifSpecError(`vif: model '${clip(model)}' is not offered (virtio-net only)`);
    cfg.model = 'virtio-net';
  }
  const devid = got.get('devid');
  if (devid !== undefined) {
    if (!/^\d+$/.test(devid) || Number(devid) > 255) throw new VifSpecError(`vif: devid must be a number from 0 to 255, not '${clip(devid)}'`);
    cfg.devid = Number(devid);
  }
  const vifname = got.get('vifname');
  if (vifname !== undefined) {
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(vifname)) throw new VifSpecError(`vif: vifname '${clip(vifname)}' is not an interface name`);
    cfg.vifname = vifname;
  }
  const script = got.get('script');
  if (script !== undefined && script !== 'vif-bridge' && !script.endsWith('/vif-bridge'))
    throw new VifSpecError(`vif: script '${clip(script)}': only vif-bridge (the built-in bridge) is offered`);
  const backend = got.get('backend');
  if (backend !== undefined && backend !== '0' && backend !== 'Domain-0') throw new VifSpecError(`vif: backend '${clip(backend)}': only Domain-0 serves vifs`);
  if (got.has('gatewaydev')) throw new VifSpecError('vif: gatewaydev (vif-route/vif-nat) is not offered: vifs join a bridge');
  return cfg;
}

/** The spec back in xl's syntax (xl network-list, the config a save file embeds). */
export function formatVifSpec(v: VifConfig): string {
  const parts = [`mac=${formatMac(v.mac)}`, `bridge=${v.bridge}`];
  if (v.ip.length > 0) parts.push(`ip=${v.ip.map(formatIp).join(' ')}`);
  if (v.rate) parts.push(`rate=${v.rate.text}`);
  if (v.mtu !== 1500) parts.push(`mtu=${v.mtu}`);
  if (v.type !== 'vif') parts.push(`type=${v.type}`);
  if (v.model) parts.push(`model=${v.model}`);
  if (v.devid !== undefined) parts.push(`devid=${v.devid}`);
  if (v.vifname) parts.push(`vifname=${v.vifname}`);
  return parts.join(',');
}
