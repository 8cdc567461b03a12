/**
 * Domain-0's network commands, answered through runXl (xl.ts) like the rest of the prompt:
 *   xl network-attach DOM [SPEC...]       a vif (xl-network-configuration; words joined by commas)
 *   xl network-detach [-f] DOM DEVID|MAC
 *   xl network-list DOM
 *   xl network-capture [-c N] [-t SECONDS] DOM DEVID FILE | BRIDGE FILE   a pcap file
 *   ping [-c N] [-i SECONDS] HOST [COUNT]  from Domain-0's address on xenbr0 (iputils' output)
 *   tcpdump [-i IFACE] [-c N] [-t SECONDS] [-e]   one line per frame (IFACE: xenbr0 or vifD.N)
 *   brctl show | brctl showmacs BRIDGE     the bridges, their ports, what they learned
 */
import { formatMac } from '../net/ethernet';
import { formatIp, parseIp } from '../net/ipv4';
import { tcpdumpLine } from '../net/summary';
import type { Toolstack } from './toolstack';
import type { XlIo, XlResult } from './xl';
import { parseVifSpec } from './xlVif';
import { LINK_HELP, runLinkCommand } from './xlNetLink';

export const NET_HELP = `  network-attach DOM [SPEC]     add a network interface (xl-network-configuration: mac=,bridge=,ip=,rate=...)
  network-detach [-f] DOM DEVID|MAC   remove one (the guest closes it; -f: at once)
  network-list DOM              a domain's network interfaces and their counters
  network-capture [-c N] [-t S] DOM DEVID FILE | BRIDGE FILE   capture frames to a pcap file
  ping [-c N] [-i S] HOST       ping from Domain-0 (10.0.0.1 on xenbr0)
  tcpdump [-i IF] [-c N] [-t S] [-e]   one line per frame on xenbr0 or vifD.N
  brctl show | showmacs BRIDGE  bridges, their ports, learned addresses
${LINK_HELP}`;

/** Options `-x VALUE` before the positional words. */
function options(args: readonly string[], known: string, flags = ''): { opts: Map<string, string>; rest: string[] } {
  const opts = new Map<string, string>();
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a.length === 2 && a[0] === '-' && flags.includes(a[1]!)) {
      opts.set(a[1]!, '');
      continue;
    }
    if (a.length !== 2 || a[0] !== '-' || !known.includes(a[1]!)) break;
    const v = args[i + 1];
    if (v === undefined) throw new Error(`option ${a} needs a value`);
    opts.set(a[1]!, v);
    i++;
  }
  return { opts, rest: args.slice(i) };
}

function positive(v: string | undefined, what: string, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new Error(`${what} must be a number above 0 and at most ${max}, not '${v}'`);
  return n;
}

/** The command if it is one of these, else undefined (runXl goes on to its own error). */
export function runNetCommand(ts: Toolstack, cmd: string, args: readonly string[], io: XlIo): XlResult | undefined {
  const nets = ts.nets;
  switch (cmd) {
    case 'network-attach': {
      if (args.length < 1) throw new Error('usage: xl network-attach DOM [SPEC]');
      const d = ts.find(args[0]!);
      const spec = parseVifSpec(args.slice(1).join(','));
      nets.attach(d, { ...spec, devid: spec.devid ?? nets.freeDevid(d.domid) });
      return { status: 0 };
    }
    case 'network-detach': {
      const force = args[0] === '-f';
      const rest = force ? args.slice(1) : args;
      if (rest.length < 2) throw new Error('usage: xl network-detach [-f] DOM DEVID|MAC');
      nets.detach(ts.find(rest[0]!), rest[1]!, force);
      return { status: 0 };
    }
    case 'network-list':
      if (args.length < 1) throw new Error('usage: xl network-list DOM');
      io.out(nets.list(ts.find(args[0]!)));
      return { status: 0 };
    case 'network-capture':
      return { status: 0, pending: capture(ts, args, io) };
    case 'ping':
      return { status: 0, pending: ping(ts, args, io) };
    case 'tcpdump':
      return { status: 0, pending: tcpdump(ts, args, io) };
    case 'brctl':
      io.out(brctl(ts, args));
      return { status: 0 };
    default:
      return runLinkCommand(ts, cmd, args, io);
  }
}

async function capture(ts: Toolstack, args: readonly string[], io: XlIo): Promise<number> {
  const { opts, rest } = options(args, 'ct');
  const usage = 'usage: xl network-capture [-c COUNT] [-t SECONDS] DOM DEVID FILE | BRIDGE FILE';
  if (!io.writeBytes) throw new Error('network-capture: this host cannot write files');
  const bridge = rest.length === 2 && ts.nets.bridges.has(rest[0]!);
  if (!bridge && rest.length !== 3) throw new Error(usage);
  const target = bridge ? rest[0]! : String(ts.find(rest[0]!).domid);
  const devid = bridge ? undefined : rest[1]!;
  const file = rest[rest.length - 1]!;
  const count = positive(opts.get('c'), '-c', Infinity, 1e7);
  const seconds = positive(opts.get('t'), '-t', 10, 3600);
  const chunks: Uint8Array[] = [];
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  // The first chunk is the file header; then one per frame, up to `count`.
  const c = ts.nets.capture(target, devid, (chunk) => {
    if (chunks.length - 1 < count) chunks.push(chunk);
    if (chunks.length - 1 >= count) done();
  });
  const timer = setTimeout(done, seconds * 1000);
  await finished;
  clearTimeout(timer);
  c.stop();
  const total = chunks.reduce((n, x) => n + x.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const x of chunks) {
    out.set(x, o);
    o += x.length;
  }
  io.writeBytes(file, out);
  io.out(`${chunks.length - 1} frames captured on ${c.name} to ${file} (${total} bytes, pcap)`);
  return 0;
}

async function ping(ts: Toolstack, args: readonly string[], io: XlIo): Promise<number> {
  const { opts, rest } = options(args, 'ciWs');
  if (rest.length < 1) throw new Error('usage: ping [-c COUNT] [-i SECONDS] [-s SIZE] HOST [COUNT]');
  const host = rest[0]!;
  const dst = parseIp(host);
  if (dst === undefined) throw new Error(`ping: ${host}: not an IPv4 address (there is no DNS)`);
  const count = Math.floor(positive(opts.get('c') ?? rest[1], 'the count', 4, 10_000));
  const interval = positive(opts.get('i'), '-i', 1, 60);
  const size = Math.floor(positive(opts.get('s'), '-s', 56, 1472));
  const wait = positive(opts.get('W'), '-W', 1, 60);
  const dom0 = ts.nets.dom0;
  io.out(`PING ${formatIp(dst)} (${formatIp(dst)}) ${size}(${size + 28}) bytes of data.`);
  const rtts: number[] = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const r = await dom0.ping(dst, size, wait * 1000);
    if (r.rttMs !== undefined) {
      rtts.push(r.rttMs);
      io.out(`${r.bytes} bytes from ${formatIp(dst)}: icmp_seq=${i + 1} ttl=${r.ttl} time=${r.rttMs.toFixed(3)} ms`);
    } else io.out(`From ${formatIp(dom0.ip)} icmp_seq=${i + 1} Destination Host Unreachable`);
    const left = interval * 1000 - (performance.now() - t0);
    if (i < count - 1 && left > 0) await new Promise<void>((res) => setTimeout(res, left));
  }
  const loss = Math.round(((count - rtts.length) / count) * 100);
  io.out(`\n--- ${formatIp(dst)} ping statistics ---`);
  io.out(`${count} packets transmitted, ${rtts.length} received, ${loss}% packet loss, time ${Math.round(performance.now() - start)}ms`);
  if (rtts.length > 0) {
    const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
    const mdev = Math.sqrt(rtts.reduce((a, b) => a + (b - avg) ** 2, 0) / rtts.length);
    io.out(`rtt min/avg/max/mdev = ${Math.min(...rtts).toFixed(3)}/${avg.toFixed(3)}/${Math.max(...rtts).toFixed(3)}/${mdev.toFixed(3)} ms`);
  }
  return rtts.length > 0 ? 0 : 1;
}

async function tcpdump(ts: Toolstack, args: readonly string[], io: XlIo): Promise<number> {
  const { opts } = options(args, 'ict', 'en');
  const iface = opts.get('i') ?? 'xenbr0';
  const count = Math.floor(positive(opts.get('c'), '-c', 20, 1e6));
  const seconds = positive(opts.get('t'), '-t', 10, 3600);
  const m = /^vif(\d+)\.(\d+)(?:-emu)?$/.exec(iface);
  const t = m ? ts.nets.tapTarget(m[1]!, m[2]) : ts.nets.tapTarget(iface);
  io.out(`listening on ${t.name}, link-type EN10MB (Ethernet), snapshot length 262144 bytes`);
  let n = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const l = (frame: Uint8Array): void => {
    if (n >= count) return;
    n++;
    io.out(tcpdumpLine(frame, Date.now(), opts.has('e')));
    if (n >= count) done();
  };
  t.add(l);
  const timer = setTimeout(done, seconds * 1000);
  await finished;
  clearTimeout(timer);
  t.remove(l);
  io.out(`${n} packets captured`);
  return 0;
}

function brctl(ts: Toolstack, args: readonly string[]): string {
  const nets = ts.nets;
  if (args[0] === 'showmacs') {
    const br = nets.bridges.get(args[1] ?? '');
    if (!br) throw new Error(`brctl: bridge '${args[1] ?? ''}' does not exist`);
    return [
      'port name        mac addr           ageing timer',
      ...br.fdbEntries().map((e) => `${e.port.padEnd(16)} ${e.mac}  ${(e.ageMs / 1000).toFixed(2).padStart(8)}`),
    ].join('\n');
  }
  if (args[0] !== undefined && args[0] !== 'show') throw new Error('usage: brctl show | brctl showmacs BRIDGE');
  const rows = ['bridge name\tbridge id\t\tSTP enabled\tinterfaces'];
  for (const br of nets.bridges.values()) {
    const ports = br.ports.map((p) => p.name).filter((n) => n !== br.name);
    rows.push(`${br.name}\t\t8000.${formatMac(nets.dom0.mac).replace(/:/g, '')}\tno\t\t${ports[0] ?? ''}`);
    for (const p of ports.slice(1)) rows.push(`\t\t\t\t\t\t\t${p}`);
  }
  return rows.join('\n');
}
