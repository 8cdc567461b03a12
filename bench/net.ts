/**
 * The network benchmark (`npm run bench -- --net`, docs/bench.md): one lab per run, under
 * one hypervisor in Node with two pCPUs (guests/linux/netSession.ts): two pv teaching OS
 * domains (netfront/netback) and two hvm Linux domains (virtio-net; Linux 6.1 with the MMU
 * and Linux 6.12 without), all on xenbr0. It measures, from inside the guests:
 * - ping round trips (median, p99) between the two pv domains, the two Linux domains, and
 *   across types (Linux to teaching OS, teaching OS to Linux), as each guest's ping prints them;
 * - TCP throughput from one Linux to the other: `dd if=/dev/zero | nc` into `nc -l -v`, whose
 *   "N bytes received ... in T ms" line times the connection to its end (guests/linux/userland/nc.c);
 * - UDP datagrams per second, 64-byte payloads (`udpperf`, the receiver's count and time);
 * - exits per packet: the pinging domain's network exits during its pings over the packets
 *   it sent and received: for hvm every virtio-net MMIO exit (`mmio:virtio-net`: register
 *   accesses; `mmio:virtio-net-notify`: queue notifications, posted; the interrupt status
 *   reads and acknowledgements a one-vCPU domain serves in its vCPU, `mmio:virtio-isr-local`,
 *   are not exits and not counted), for pv the
 *   event channel and grant table hypercalls (`hypercall:event_channel_op` counts sends on
 *   the vCPU's direct path too, which do not leave the vCPU). Every reason, the console and
 *   the idle loop included, is kept in the run's `exits`.
 */
import { LinuxDiskLab } from '../guests/linux/diskSession';
import { NetLab, linuxNetConfig, staticIp, teachingOsNetConfig } from '../guests/linux/netSession';
import { ensureWorkerScript } from '../src/node/workerScript';

export interface NetRun {
  /** Round trips in ms, as the guests' ping printed them, by pair. */
  rttMs: Record<string, number[]>;
  tcp: { bytes: number; ms: number; mbitPerSecond: number };
  udp: { sent: number; received: number; seconds: number; perSecond: number };
  /** Network exits per packet of the pinging domain (NET_EXIT), with all its exits by reason. */
  exitsPerPacket: Record<string, { perPacket: number; packets: number; exits: Record<string, number> }>;
}

export interface NetBenchOptions {
  /** Pings per pair (the teaching OS pings once a second). */
  pings?: number;
  /** The TCP transfer, MiB. */
  tcpMiB?: number;
  /** UDP datagrams sent. */
  udpCount?: number;
}

/** The `time=X ms` of every reply line. */
export function parseRtts(lines: readonly string[]): number[] {
  const out: number[] = [];
  for (const l of lines) {
    const m = / time=(\d+(?:\.\d+)?) ms$/.exec(l.trimEnd());
    if (m) out.push(Number(m[1]));
  }
  return out;
}

/** nc -v's last line: "nc: R bytes received, S sent in T ms, X Mbit/s". */
export function parseNcStats(lines: readonly string[]): { bytes: number; ms: number } | undefined {
  for (const l of lines) {
    const m = /^nc: (\d+) bytes received, \d+ sent in (\d+) ms/.exec(l);
    if (m) return { bytes: Number(m[1]), ms: Number(m[2]) };
  }
  return undefined;
}

/** udpperf's "received N datagrams (B bytes) in T s, R/s". */
export function parseUdpperf(lines: readonly string[]): { n: number; seconds: number } | undefined {
  for (const l of lines) {
    const m = /^(?:received|sent) (\d+) datagrams(?: \(\d+ bytes\))? in (\d+\.\d+) s/.exec(l);
    if (m) return { n: Number(m[1]), seconds: Number(m[2]) };
  }
  return undefined;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

/** The exit reasons that are the network's: virtio-net's MMIO exits, pv's event channel and grant hypercalls. */
export const NET_EXIT = /^mmio:virtio-net|^hypercall:(event_channel_op|grant_table_op)$/;

const totalExits = (lab: LinuxDiskLab, name: string): Map<string, number> => new Map(lab.domain(name)!.exits);

function exitDelta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) out[k] = v - (before.get(k) ?? 0);
  return out;
}

/** Ping from `from` and count its exits; the teaching OS's syntax is `ping A.B.C.D N`. */
export async function pingFrom(lab: NetLab, run: NetRun, pair: string, from: string, linux: boolean, to: string, n: number): Promise<void> {
  const before = totalExits(lab, from);
  const lines = await lab.run(from, linux ? `ping -c ${n} -i 0.1 ${to}` : `ping ${to} ${n}`, 600_000);
  const exits = exitDelta(before, totalExits(lab, from));
  const rtts = parseRtts(lines);
  if (rtts.length < n) throw new Error(`${pair}: ${rtts.length} of ${n} replies:\n${lines.join('\n')}`);
  run.rttMs[pair] = rtts;
  const sum = Object.entries(exits).reduce((a, [k, v]) => a + (NET_EXIT.test(k) ? v : 0), 0);
  run.exitsPerPacket[pair] = { perPacket: sum / (2 * n), packets: 2 * n, exits };
}

async function netRun(workerScript: string, o: Required<NetBenchOptions>, log: (line: string) => void): Promise<NetRun> {
  const lab = new NetLab(workerScript, 320, 2);
  try {
    lab.create(teachingOsNetConfig('tos1', 'mac=00:16:3e:00:03:01, ip=10.0.0.51'));
    lab.create(teachingOsNetConfig('tos2', 'mac=00:16:3e:00:03:02, ip=10.0.0.52'));
    lab.create(linuxNetConfig('lin1', 'mmu', 'mac=00:16:3e:00:03:11', staticIp('10.0.0.11')));
    lab.create(linuxNetConfig('lin2', 'nommu', 'mac=00:16:3e:00:03:12', staticIp('10.0.0.12')));
    for (const t of ['tos1', 'tos2']) lab.setPrompt(t, `${t}$ `);
    await Promise.all(['tos1', 'tos2', 'lin1', 'lin2'].map((n) => lab.nextPrompt(n, 600_000)));
    for (const t of ['tos1', 'tos2']) await lab.run(t, 'ifconfig dhcp', 60_000);
    log('net: four domains up');
    const run: NetRun = { rttMs: {}, tcp: { bytes: 0, ms: 0, mbitPerSecond: 0 }, udp: { sent: 0, received: 0, seconds: 0, perSecond: 0 }, exitsPerPacket: {} };
    // one warm-up round trip each way (ARP, caches), then the measured pings
    for (const [from, linux, to] of [
      ['tos1', false, '10.0.0.52'],
      ['lin1', true, '10.0.0.12'],
      ['lin1', true, '10.0.0.51'],
      ['tos1', false, '10.0.0.11'],
    ] as const)
      await lab.run(from, linux ? `ping -c 1 ${to}` : `ping ${to} 1`, 60_000);
    await pingFrom(lab, run, 'pv-pv', 'tos1', false, '10.0.0.52', o.pings);
    await pingFrom(lab, run, 'hvm-hvm', 'lin1', true, '10.0.0.12', o.pings);
    await pingFrom(lab, run, 'hvm-pv', 'lin1', true, '10.0.0.51', o.pings);
    await pingFrom(lab, run, 'pv-hvm', 'tos1', false, '10.0.0.11', o.pings);
    for (const [k, v] of Object.entries(run.rttMs)) log(`net: ping ${k}: median ${median(v).toFixed(3)} ms, p99 ${percentile(v, 99).toFixed(3)} ms`);

    // TCP: lin1 -> lin2
    const mark = lab.type('lin2', 'nc -l -v 5001 < /dev/null > /dev/null');
    await lab.waitText('lin2', 'nc: listening on 5001', mark);
    await lab.run('lin1', `dd if=/dev/zero bs=64k count=${o.tcpMiB * 16} 2>/dev/null | nc 10.0.0.12 5001`, 1_800_000);
    await lab.nextPrompt('lin2', 1_800_000);
    const nc = parseNcStats(lab.console('lin2').slice(mark).replace(/\r/g, '').split('\n'));
    if (nc === undefined || nc.bytes !== o.tcpMiB << 20) throw new Error(`tcp: nc -l printed no full transfer:\n${lab.console('lin2').slice(mark)}`);
    run.tcp = { ...nc, mbitPerSecond: (nc.bytes * 8) / (nc.ms * 1000) };
    log(`net: tcp ${o.tcpMiB} MiB lin1 -> lin2 in ${nc.ms} ms: ${run.tcp.mbitPerSecond.toFixed(1)} Mbit/s`);

    // UDP: lin1 -> lin2, 64-byte datagrams
    const umark = lab.type('lin2', 'udpperf -l 6001 -w 2');
    await lab.waitText('lin2', 'udpperf: listening on 6001', umark);
    const sent = parseUdpperf(await lab.run('lin1', `udpperf 10.0.0.12 6001 ${o.udpCount} 64`, 600_000));
    await lab.nextPrompt('lin2', 600_000);
    const got = parseUdpperf(lab.console('lin2').slice(umark).replace(/\r/g, '').split('\n'));
    if (sent === undefined || got === undefined) throw new Error(`udp: no counts:\n${lab.console('lin2').slice(umark)}`);
    run.udp = { sent: sent.n, received: got.n, seconds: got.seconds, perSecond: got.seconds > 0 ? got.n / got.seconds : 0 };
    log(`net: udp ${got.n} of ${sent.n} datagrams in ${got.seconds} s: ${run.udp.perSecond.toFixed(0)}/s`);
    return run;
  } finally {
    lab.close();
  }
}

export const summary = (xs: number[]): { median: number; p99: number } => ({ median: median(xs), p99: percentile(xs, 99) });

/** `runs` labs; each prints lines through `log`. Medians over all runs' samples. */
export async function measureNet(runs: number, log: (line: string) => void, opts: NetBenchOptions = {}): Promise<Record<string, unknown>> {
  const o: Required<NetBenchOptions> = { pings: opts.pings ?? 20, tcpMiB: opts.tcpMiB ?? 64, udpCount: opts.udpCount ?? 20000 };
  const workerScript = await ensureWorkerScript();
  const rs: NetRun[] = [];
  for (let i = 0; i < runs; i++) {
    log(`net run ${i + 1}/${runs}`);
    rs.push(await netRun(workerScript, o, log));
  }
  const pairs = Object.keys(rs[0]!.rttMs);
  return {
    setup: 'one hypervisor in Node, 2 pCPUs; tos1, tos2: pv teaching OS (netfront); lin1: Linux 6.1 MMU, lin2: Linux 6.12 nommu (virtio-net); all on xenbr0',
    options: o,
    pingRttMs: Object.fromEntries(pairs.map((p) => [p, summary(rs.flatMap((r) => r.rttMs[p]!))])),
    tcpMbitPerSecond: median(rs.map((r) => r.tcp.mbitPerSecond)),
    udpDatagramsPerSecond: median(rs.map((r) => r.udp.perSecond)),
    exitsPerPacket: Object.fromEntries(pairs.map((p) => [p, median(rs.map((r) => r.exitsPerPacket[p]!.perPacket))])),
    runs: rs,
  };
}
