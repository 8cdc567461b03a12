/**
 * The network benchmark in Chromium (the `net` part of `npm run bench:browser`, docs/bench.md
 * "net in Chromium"): the guests of bench/net.ts, created in one page through window.hyperlab
 * and measured, as there, from inside the guests.
 *
 * Each run is a fresh page (`?boot=&pcpus=2&mem=512`) with the networked presets on xenbr0:
 *  - `teaching-os-pv-net1` (10.0.0.11) and `-net2` (10.0.0.12): the pv teaching OS, netfront;
 *  - `teaching-os-hvm-net` (10.0.0.21): the hvm teaching OS, virtio-net;
 *  - unless `linux` is off, two hvm Linux 6.12 nommu: the preset `linux-6.12-net` (10.0.0.32
 *    by DHCP) and a copy of its config named `lin2` with 10.0.0.33 (as e2e/bridgeLink.spec.ts).
 * The teaching OS take their addresses with `ifconfig dhcp`. After one warm-up ping each way,
 * every pair pings `pings` times; the guest's `time=X ms` lines are read by bench/net.ts's
 * parseRtts and its network exits (bench/net.ts's NET_EXIT) come from
 * window.hyperlab.stats(id).exits around the ping. Domain-0's own ping (`xl ping`, in the
 * hypervisor worker) measures Domain-0 to tos1. With Linux: TCP (`dd | nc` into `nc -l -v`)
 * and UDP (`udpperf`) from the first Linux to the second, read by parseNcStats and parseUdpperf.
 *
 * In the same process the pv-pv pair is measured in Node too (bench/net.ts's pingFrom in a
 * NetLab of the two teaching OS alone), for the chromiumOverNode ratio.
 */
import type { Page } from '@playwright/test';
import { NetLab, teachingOsNetConfig } from '../guests/linux/netSession';
import { ensureWorkerScript } from '../src/node/workerScript';
import { exitDelta } from './diskBrowser';
import { NET_EXIT, median, parseNcStats, parseRtts, parseUdpperf, pingFrom, summary, type NetRun } from './net';

/** The members of window.hyperlab this part uses (src/web/protocol/automationTypes.ts). */
interface NetPageHyperlab {
  create(spec: string | { readonly config: string }): Promise<number>;
  destroy(id: number): Promise<void>;
  waitForText(id: number, text: string, timeoutMs?: number): Promise<string>;
  sendInput(id: number, text: string): Promise<void>;
  consoleText(id: number): string;
  presets(): readonly string[];
  stats(id: number): { readonly seq: number; readonly exits: Readonly<Record<string, number>> };
  xl(line: string): Promise<string>;
}
interface NetPageGlobals {
  hyperlab?: NetPageHyperlab;
  performance: { now(): number };
}

export interface NetBrowserOptions {
  /** Pings per pair (the teaching OS pings once a second, Linux and Domain-0 every 0.1 s). */
  pings: number;
  /** The two Linux guests (hvm-hvm ping, TCP, UDP); off, only the teaching OS and Domain-0. */
  linux: boolean;
  /** The TCP transfer, MiB. */
  tcpMiB: number;
  /** UDP datagrams sent (64-byte payloads). */
  udpCount: number;
}

export const NET_BROWSER_DEFAULTS: NetBrowserOptions = { pings: 20, linux: true, tcpMiB: 16, udpCount: 10000 };

/** One run's figures: NetRun's, TCP and UDP only with Linux; why Linux was left out when it was asked for. */
export type BrowserNetRun = Pick<NetRun, 'rttMs' | 'exitsPerPacket'> & Partial<Pick<NetRun, 'tcp' | 'udp'>> & { linuxError?: string };

/** The init's prompt of the Linux guests (docs/linux.md). */
const LINUX_PROMPT = 'hyperlab# ';

/**
 * A ping's figures from its output: the round trips, and the pinging domain's network exits
 * (NET_EXIT) over the packets it sent and received (2 per ping). Fewer replies than `n` throw.
 */
export function pingFigures(
  pair: string,
  lines: readonly string[],
  n: number,
  exits: Record<string, number>,
): { rtts: number[]; perPacket: number; packets: number } {
  const rtts = parseRtts(lines);
  if (rtts.length < n) throw new Error(`${pair}: ${rtts.length} of ${n} replies:\n${lines.join('\n')}`);
  const net = Object.entries(exits).reduce((a, [k, v]) => a + (NET_EXIT.test(k) ? v : 0), 0);
  return { rtts, perPacket: net / (2 * n), packets: 2 * n };
}

/** The part's JSON: medians and p99 over all runs' samples, exits per packet and rates as medians over runs, every run kept. */
export function summarizeNetBrowser(rs: readonly BrowserNetRun[], node: readonly BrowserNetRun[], o: NetBrowserOptions): Record<string, unknown> {
  // Every pair some run measured (a run whose Linux failed has fewer).
  const pairs = [...new Set(rs.flatMap((r) => Object.keys(r.rttMs)))];
  const perPacket = (p: string): number[] => rs.flatMap((r) => (r.exitsPerPacket[p] ? [r.exitsPerPacket[p].perPacket] : []));
  const pooled = (runs: readonly BrowserNetRun[], p: string): number[] => runs.flatMap((r) => r.rttMs[p] ?? []);
  const round3 = (x: number): number => Math.round(x * 1000) / 1000;
  const figures = (xs: number[]): { median: number; p99: number } => {
    const s = summary(xs);
    return { median: round3(s.median), p99: round3(s.p99) };
  };
  const chromiumPvPv = median(pooled(rs, 'pv-pv'));
  const nodePvPv = median(pooled(node, 'pv-pv'));
  const tcp = rs.flatMap((r) => (r.tcp ? [r.tcp.mbitPerSecond] : []));
  const udp = rs.flatMap((r) => (r.udp ? [r.udp.perSecond] : []));
  const linuxErrors = rs.flatMap((r) => (r.linuxError === undefined ? [] : [r.linuxError]));
  return {
    setup:
      'one page per run, ?pcpus=2&mem=512: teaching-os-pv-net1/-net2 (pv, netfront), teaching-os-hvm-net (hvm teaching OS, virtio-net)' +
      (o.linux ? ', two Linux 6.12 nommu (linux-6.12-net, virtio-net)' : '') +
      '; all on xenbr0',
    options: o,
    pingRttMs: Object.fromEntries(pairs.map((p) => [p, figures(pooled(rs, p))])),
    exitsPerPacket: Object.fromEntries(pairs.filter((p) => perPacket(p).length > 0).map((p) => [p, round3(median(perPacket(p)))])),
    ...(tcp.length > 0 ? { tcpMbitPerSecond: round3(median(tcp)) } : {}),
    ...(udp.length > 0 ? { udpDatagramsPerSecond: round3(median(udp)) } : {}),
    ...(linuxErrors.length > 0 ? { linuxErrors } : {}),
    node: {
      setup: 'bench/net.ts pingFrom in Node: one hypervisor, 2 pCPUs, the two pv teaching OS alone',
      pingRttMs: { 'pv-pv': figures(pooled(node, 'pv-pv')) },
      exitsPerPacket: { 'pv-pv': round3(median(node.map((r) => r.exitsPerPacket['pv-pv']!.perPacket))) },
      runs: node,
    },
    // Round-trip medians, pv-pv: above 1, Chromium is slower.
    chromiumOverNode: round3(chromiumPvPv / nodePvPv),
    runs: rs,
  };
}

/** Type a line at a console; the console text's length before it. */
function typeAt(page: Page, id: number, line: string): Promise<number> {
  return page.evaluate(
    async ([id, line]) => {
      const h = (globalThis as unknown as NetPageGlobals).hyperlab!;
      const mark = h.consoleText(id).length;
      await h.sendInput(id, `${line}\n`);
      return mark;
    },
    [id, line] as const,
  );
}

/** Wait until the console, from `mark`, holds `text`; what it printed from `mark` on. */
function waitFrom(page: Page, id: number, text: string, mark: number, timeoutMs: number): Promise<string> {
  return page.evaluate(
    async ([id, text, mark, timeoutMs]) => {
      const g = globalThis as unknown as NetPageGlobals;
      const h = g.hyperlab!;
      const end = g.performance.now() + timeoutMs;
      while (!h.consoleText(id).slice(mark).includes(text)) {
        if (g.performance.now() > end) throw new Error(`domain ${id} did not print ${JSON.stringify(text)}:\n${h.consoleText(id).slice(mark).slice(-2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return h.consoleText(id).slice(mark);
    },
    [id, text, mark, timeoutMs] as const,
  );
}

/** The domain's exits by reason, once two statistics reports newer than the call came (they arrive about 10 a second). */
function settledExits(page: Page, id: number): Promise<Record<string, number>> {
  return page.evaluate(async (id) => {
    const g = globalThis as unknown as NetPageGlobals;
    const h = g.hyperlab!;
    const seq = h.stats(id).seq;
    const end = g.performance.now() + 10_000;
    while (h.stats(id).seq < seq + 2 && g.performance.now() < end) await new Promise((resolve) => setTimeout(resolve, 20));
    return { ...h.stats(id).exits };
  }, id);
}

/** Run a line at a console up to `prompt`; its output lines. */
async function runAt(page: Page, id: number, line: string, prompt: string, timeoutMs: number): Promise<string[]> {
  const mark = await typeAt(page, id, line);
  return (await waitFrom(page, id, prompt, mark, timeoutMs)).split('\n');
}

interface Guest {
  id: number;
  prompt: string;
  linux: boolean;
}

/** Ping `to` from `from` (`pings` times) and keep the round trips and the exits under `pair`. */
async function pingPair(page: Page, run: BrowserNetRun, pair: string, from: Guest, to: string, n: number): Promise<void> {
  const before = await settledExits(page, from.id);
  const lines = await runAt(page, from.id, from.linux ? `ping -c ${n} -i 0.1 ${to}` : `ping ${to} ${n}`, from.prompt, 120_000 + n * 3000);
  const exits = exitDelta(before, await settledExits(page, from.id));
  const f = pingFigures(pair, lines, n, exits);
  run.rttMs[pair] = f.rtts;
  run.exitsPerPacket[pair] = { perPacket: f.perPacket, packets: f.packets, exits };
}

/**
 * Create the guests of one run; resolves with them once every one is at its prompt with its
 * address, and all the domains made (to destroy). The Linux guests are left out, with the
 * reason in `linuxError`, when the build has no `linux-6.12-net` or they do not boot.
 */
async function createGuests(page: Page, linux: boolean): Promise<{ guests: Record<string, Guest>; all: number[]; linuxError?: string }> {
  const ids = await page.evaluate(async (linux) => {
    const h = (globalThis as unknown as NetPageGlobals).hyperlab!;
    const out: Record<string, number> = {};
    if (linux && h.presets().includes('linux-6.12-net')) {
      out['lin1'] = await h.create('linux-6.12-net');
      // The second: the preset's config with its own name and address.
      const cfg = await h.xl('cat /etc/xen/linux-6.12-net.cfg');
      out['lin2'] = await h.create({ config: cfg.replace(/^name = .*$/m, 'name = "lin2"').replace(/^vif = .*$/m, "vif = [ 'bridge=xenbr0, ip=10.0.0.33' ]") });
    }
    out['tos1'] = await h.create('teaching-os-pv-net1');
    out['tos2'] = await h.create('teaching-os-pv-net2');
    out['toshvm'] = await h.create('teaching-os-hvm-net');
    return out;
  }, linux);
  const guests: Record<string, Guest> = {};
  let linuxError = linux && ids['lin1'] === undefined ? 'this build has no linux-6.12-net preset' : undefined;
  // Linux boots take 20-60 s on a loaded machine (6.12 takes its DHCP lease while booting);
  // a teaching OS's prompt is the last line once it printed "$ " (a pv guest's names the domain, the hvm one's is "tos$ ").
  await Promise.all(
    Object.entries(ids).map(async ([name, id]) => {
      const linux = name.startsWith('lin');
      try {
        const text = await waitFrom(page, id, linux ? LINUX_PROMPT : '$ ', 0, linux ? 240_000 : 60_000);
        guests[name] = { id, prompt: linux ? LINUX_PROMPT : text.split('\n').pop()!, linux };
      } catch (e) {
        if (!linux) throw e;
        linuxError = `${name} did not boot: ${(e as Error).message.split('\n')[0]}`;
      }
    }),
  );
  if (linuxError !== undefined) for (const n of ['lin1', 'lin2']) delete guests[n];
  const leases: [string, string][] = [
    ['tos1', '10.0.0.11'],
    ['tos2', '10.0.0.12'],
    ['toshvm', '10.0.0.21'],
  ];
  for (const [n, ip] of leases) {
    const out = await runAt(page, guests[n]!.id, 'ifconfig dhcp', guests[n]!.prompt, 60_000);
    if (!out.some((l) => l.startsWith(`dhcp: eth0 leased ${ip}/24`))) throw new Error(`${n}: no DHCP lease of ${ip}:\n${out.join('\n')}`);
  }
  return { guests, all: Object.values(ids), ...(linuxError === undefined ? {} : { linuxError }) };
}

/** Ping each pair `n` times after one warm-up round trip (ARP, caches). */
async function pingPairs(page: Page, run: BrowserNetRun, pairs: readonly [string, Guest, string][], n: number): Promise<void> {
  for (const [, from, to] of pairs) await runAt(page, from.id, from.linux ? `ping -c 1 ${to}` : `ping ${to} 1`, from.prompt, 60_000);
  for (const [pair, from, to] of pairs) await pingPair(page, run, pair, from, to, n);
}

/** The Linux pairs, then TCP and UDP from lin1 to lin2. */
async function linuxPart(page: Page, g: Record<string, Guest>, run: BrowserNetRun, o: NetBrowserOptions, log: (line: string) => void): Promise<void> {
  const [lin1, lin2, tos1] = [g['lin1']!, g['lin2']!, g['tos1']!];
  await pingPairs(
    page,
    run,
    [
      ['linux-linux', lin1, '10.0.0.33'],
      ['linux-pv', lin1, '10.0.0.11'],
      ['pv-linux', tos1, '10.0.0.32'],
    ],
    o.pings,
  );
  // TCP: lin1 -> lin2
  const mark = await typeAt(page, lin2.id, 'nc -l -v 5001 < /dev/null > /dev/null');
  await waitFrom(page, lin2.id, 'nc: listening on 5001', mark, 60_000);
  await runAt(page, lin1.id, `dd if=/dev/zero bs=64k count=${o.tcpMiB * 16} 2>/dev/null | nc 10.0.0.33 5001`, LINUX_PROMPT, 1_200_000);
  const nc = parseNcStats((await waitFrom(page, lin2.id, LINUX_PROMPT, mark, 600_000)).split('\n'));
  if (nc === undefined || nc.bytes !== o.tcpMiB << 20) throw new Error(`tcp: nc -l printed no full transfer of ${o.tcpMiB} MiB`);
  run.tcp = { ...nc, mbitPerSecond: (nc.bytes * 8) / (nc.ms * 1000) };
  log(`net in Chromium: tcp ${o.tcpMiB} MiB Linux to Linux in ${nc.ms} ms: ${run.tcp.mbitPerSecond.toFixed(1)} Mbit/s`);
  // UDP: lin1 -> lin2, 64-byte datagrams
  const umark = await typeAt(page, lin2.id, 'udpperf -l 6001 -w 2');
  await waitFrom(page, lin2.id, 'udpperf: listening on 6001', umark, 60_000);
  const sent = parseUdpperf(await runAt(page, lin1.id, `udpperf 10.0.0.33 6001 ${o.udpCount} 64`, LINUX_PROMPT, 600_000));
  const got = parseUdpperf((await waitFrom(page, lin2.id, LINUX_PROMPT, umark, 600_000)).split('\n'));
  if (sent === undefined || got === undefined) throw new Error('udp: udpperf printed no counts');
  run.udp = { sent: sent.n, received: got.n, seconds: got.seconds, perSecond: got.seconds > 0 ? got.n / got.seconds : 0 };
  log(`net in Chromium: udp ${got.n} of ${sent.n} datagrams in ${got.seconds} s: ${run.udp.perSecond.toFixed(0)}/s`);
}

/** One run in `page` (a fresh `?boot=` page). A failure of the Linux part is kept in `linuxError`; the teaching OS's figures stay. */
export async function measureNetPage(page: Page, o: NetBrowserOptions, log: (line: string) => void): Promise<BrowserNetRun> {
  const { guests: g, all, linuxError } = await createGuests(page, o.linux);
  try {
    log(`net in Chromium: ${Object.keys(g).join(', ')} up${linuxError === undefined ? '' : ` (Linux left out: ${linuxError})`}`);
    const run: BrowserNetRun = { rttMs: {}, exitsPerPacket: {}, ...(linuxError === undefined ? {} : { linuxError }) };
    const [tos1, toshvm] = [g['tos1']!, g['toshvm']!];
    const pv: [string, Guest, string][] = [
      ['pv-pv', tos1, '10.0.0.12'],
      ['pv-hvmTos', tos1, '10.0.0.21'],
      ['hvmTos-pv', toshvm, '10.0.0.11'],
    ];
    await pingPairs(page, run, pv, o.pings);
    // Domain-0's ping runs in the hypervisor worker: no guest exits of its own.
    const dom0 = await page.evaluate((n) => (globalThis as unknown as NetPageGlobals).hyperlab!.xl(`ping -c ${n} -i 0.1 10.0.0.11`), o.pings);
    const dom0Rtts = parseRtts(dom0.split('\n'));
    if (dom0Rtts.length < o.pings) throw new Error(`dom0-pv: ${dom0Rtts.length} of ${o.pings} replies:\n${dom0}`);
    run.rttMs['dom0-pv'] = dom0Rtts;
    if (g['lin1'] !== undefined) {
      try {
        await linuxPart(page, g, run, o, log);
      } catch (e) {
        run.linuxError = (e as Error).message.split('\n')[0]!;
        log(`net in Chromium: Linux: ${run.linuxError}`);
      }
    }
    for (const [k, v] of Object.entries(run.rttMs)) {
      const s = summary(v);
      log(
        `net in Chromium: ping ${k}: median ${s.median.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms, ${run.exitsPerPacket[k]?.perPacket.toFixed(2) ?? '-'} net exits/packet`,
      );
    }
    return run;
  } finally {
    await page.evaluate((ids) => Promise.all(ids.map((id) => (globalThis as unknown as NetPageGlobals).hyperlab!.destroy(id))), all);
  }
}

/** The pv-pv pair in Node (bench/net.ts's pingFrom), the two teaching OS alone under one hypervisor with 2 pCPUs. */
export async function measureNodePvPv(pings: number): Promise<BrowserNetRun> {
  const lab = new NetLab(await ensureWorkerScript(), 64, 2);
  try {
    lab.create(teachingOsNetConfig('tos1', 'mac=00:16:3e:00:03:01, ip=10.0.0.51'));
    lab.create(teachingOsNetConfig('tos2', 'mac=00:16:3e:00:03:02, ip=10.0.0.52'));
    for (const t of ['tos1', 'tos2']) lab.setPrompt(t, `${t}$ `);
    await Promise.all(['tos1', 'tos2'].map((n) => lab.nextPrompt(n, 120_000)));
    for (const t of ['tos1', 'tos2']) await lab.run(t, 'ifconfig dhcp', 60_000);
    await lab.run('tos1', 'ping 10.0.0.52 1', 60_000);
    const run: NetRun = { rttMs: {}, tcp: { bytes: 0, ms: 0, mbitPerSecond: 0 }, udp: { sent: 0, received: 0, seconds: 0, perSecond: 0 }, exitsPerPacket: {} };
    await pingFrom(lab, run, 'pv-pv', 'tos1', false, '10.0.0.52', pings);
    return { rttMs: run.rttMs, exitsPerPacket: run.exitsPerPacket };
  } finally {
    lab.close();
  }
}

/** `runs` fresh pages (`open` of the lab at `url` with a query, ready), then as many Node pv-pv runs: the JSON's `net` part. */
export async function measureNetBrowser(
  open: (url: string) => Promise<Page>,
  url: string,
  runs: number,
  log: (line: string) => void,
  options: Partial<NetBrowserOptions> = {},
): Promise<Record<string, unknown>> {
  const o: NetBrowserOptions = { ...NET_BROWSER_DEFAULTS, ...options };
  const rs: BrowserNetRun[] = [];
  for (let i = 0; i < runs; i++) {
    log(`net in Chromium, run ${i + 1}/${runs}`);
    const page = await open(`${url}?boot=&pcpus=2&mem=512`);
    try {
      rs.push(await measureNetPage(page, o, log));
    } finally {
      await page.close();
    }
  }
  const node: BrowserNetRun[] = [];
  for (let i = 0; i < runs; i++) {
    node.push(await measureNodePvPv(o.pings));
    log(`net in Node (same session), pv-pv run ${i + 1}/${runs}: median ${median(node[i]!.rttMs['pv-pv']!).toFixed(3)} ms`);
  }
  return summarizeNetBrowser(rs, node, o);
}
