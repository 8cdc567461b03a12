/**
 * The `xl` commands of Domain-0, as text in and text out, so the Node host's prompt and
 * the browser's Domain-0 console share them. Output follows xl's own layout (xl(1)).
 * `console` is answered with an attach request: attaching is the host's business.
 */
import { RUNSTATE_NAMES, type Domain } from '../xen/common/domain';
import type { Toolstack } from './toolstack';
import { parseDiskSpec } from './xlDisk';
import { NET_HELP, runNetCommand } from './xlVifCommands';
import { xlRestore, xlSave } from './migration/xlCommands';
import { xlMigrate } from './migration/live/xlMigrate';
import type { MigrationChannel } from './migration/live/channel';

/** `pending`: a command that finishes later (save, restore): its status when it has. */
export type XlResult = { status: number; attach?: number; pending?: Promise<number> };

const HELP = `xl commands:
  create FILE [key=value ...]   create a domain from an xl.cfg file
  list                          list domains
  console DOM                   attach to a domain's console (Ctrl-] detaches)
  pause DOM | unpause DOM       hold a domain off the CPUs, and let it go again
  shutdown DOM | reboot DOM     ask a guest to power off or reboot (pv guests)
  destroy DOM                   stop a domain at once and free its memory
  save [-c] [-p] DOM FILE       save a domain to FILE and destroy it (-c: keep it running, -p: leave it paused, --copy-storage: its disks in FILE)
  restore [-p] [CONFIG] FILE    restore a saved domain (-p: leave it paused)
  migrate [-p] DOM HOST         live-migrate a domain to HOST (localhost, or ADDR:PORT of a hyperlab host --listen)
  mem-set DOM MiB | mem-max DOM MiB   balloon target and limit (pv guests)
  block-attach DOM DISKSPEC     attach a disk (xl-disk-configuration: target,format,vdev,access)
  block-detach [-f] DOM VDEV    detach a disk (the guest closes it; -f: at once)
  block-list DOM                a domain's virtual disks
${NET_HELP}
  vcpu-list [DOM]               vCPUs, where they run, their affinity
  vcpu-pin DOM VCPU CPUS        hard affinity: CPUS is "all", "1" or "0-1,3"
  sched-credit [-d DOM [-w WEIGHT] [-c CAP]]   show or set credit parameters
  info                          the host
  top                           one xentop screen
  dmesg                         the hypervisor's log
  help                          this list`;

export interface XlIo {
  out(text: string): void;
  readFile(path: string): string;
  /** Save files (xl save / restore); a host without them refuses those commands. */
  readBytes?(path: string): Uint8Array;
  writeBytes?(path: string, bytes: Uint8Array): void;
  /** `xl migrate DOM HOST` to another host: a channel to its receiver (Node: TCP to a `hyperlab host --listen`). */
  migrationChannel?(host: string): Promise<MigrationChannel>;
}

/** The last CPU-time sample per domain, for `top`'s CPU(%). */
const samples = new WeakMap<Domain, { ns: number; atMs: number }>();

export function runXl(ts: Toolstack, argv: readonly string[], io: XlIo): XlResult {
  const [cmd, ...args] = argv;
  const hv = ts.hv;
  const need = (n: number, usage: string): void => {
    if (args.length < n) throw new Error(`usage: xl ${usage}`);
  };
  switch (cmd) {
    case undefined:
    case 'help':
      io.out(HELP);
      return { status: 0 };
    case 'create': {
      need(1, 'create FILE [key=value ...]');
      const d = ts.create(configWithOverrides(io.readFile(args[0]!), args.slice(1)));
      io.out(`Domain ${d.domid} (${d.name}) created`);
      return { status: 0 };
    }
    case 'list':
      io.out(list(ts));
      return { status: 0 };
    case 'console':
      need(1, 'console DOM');
      return { status: 0, attach: ts.find(args[0]!).domid };
    case 'pause':
      need(1, 'pause DOM');
      hv.pauseDomain(ts.find(args[0]!).domid);
      return { status: 0 };
    case 'unpause':
      need(1, 'unpause DOM');
      hv.unpauseDomain(ts.find(args[0]!).domid);
      return { status: 0 };
    case 'save':
      return { status: 0, pending: xlSave(ts, args, io) };
    case 'restore':
      return { status: 0, pending: xlRestore(ts, args, io) };
    case 'migrate':
      return { status: 0, pending: xlMigrate(ts, args, io) };
    case 'destroy':
      need(1, 'destroy DOM');
      hv.destroyDomain(ts.find(args[0]!).domid);
      return { status: 0 };
    case 'shutdown':
    case 'reboot':
    case 'mem-set':
    case 'mem-max': {
      need(cmd.startsWith('mem') ? 2 : 1, `${cmd} DOM${cmd.startsWith('mem') ? ' MiB' : ''}`);
      const d = ts.find(args[0]!);
      if (!d.pv) throw new Error(`${cmd}: domain ${d.domid} (${d.name}) is an hvm guest without PV drivers; it has no channel for this (use destroy)`);
      const home = `/local/domain/${d.domid}`;
      const xs = hv.xsDom0();
      if (cmd === 'shutdown' || cmd === 'reboot') {
        // The guest watches control/shutdown and acknowledges by writing "" (xenstore-paths).
        void xs.write(`${home}/control/shutdown`, cmd === 'shutdown' ? 'poweroff' : 'reboot');
        return { status: 0 };
      }
      const mib = Number(args[1]!.replace(/[mM]$/, ''));
      if (!Number.isInteger(mib) || mib < 1) throw new Error(`${cmd}: bad size '${args[1]}' (MiB)`);
      if (cmd === 'mem-max') {
        if (mib * 256 > d.p2m.maxFrames - 256) throw new Error(`mem-max: at most ${(d.p2m.maxFrames - 256) / 256} MiB for this domain (its maxmem)`);
        d.maxPages = mib * 256;
        void xs.write(`${home}/memory/static-max`, String(mib * 1024));
        return { status: 0 };
      }
      if (mib * 256 > d.maxPages) throw new Error(`mem-set: ${mib} MiB is above the domain's maximum (${d.maxPages / 256} MiB)`);
      void xs.write(`${home}/memory/target`, String(mib * 1024)); // KiB, read by the guest's balloon driver
      return { status: 0 };
    }
    case 'block-attach': {
      need(2, 'block-attach DOM DISKSPEC');
      const d = ts.find(args[0]!);
      // xl joins the spec's words with commas: `xl block-attach 1 img.raw raw xvdb rw` works too.
      const spec = parseDiskSpec(args.slice(1).join(','));
      const [image] = ts.disks.open([spec]);
      ts.disks.attach(d, spec, image!);
      return { status: 0 };
    }
    case 'block-detach': {
      const force = args[0] === '-f';
      const rest = force ? args.slice(1) : args;
      if (rest.length < 2) throw new Error('usage: xl block-detach [-f] DOM VDEV');
      ts.disks.detach(ts.find(rest[0]!), rest[1]!, force);
      return { status: 0 };
    }
    case 'block-list':
      need(1, 'block-list DOM');
      io.out(ts.disks.list(ts.find(args[0]!)));
      return { status: 0 };
    case 'vcpu-list':
      io.out(vcpuList(ts, args[0]));
      return { status: 0 };
    case 'vcpu-pin': {
      need(3, 'vcpu-pin DOM VCPU CPUS');
      const d = ts.find(args[0]!);
      const vcpus = args[1] === 'all' ? d.vcpus.map((v) => v.vcpuId) : [Number(args[1])];
      const mask = parseCpus(args[2]!, hv.pcpus);
      for (const v of vcpus) hv.pinVcpu(d.domid, v, mask);
      return { status: 0 };
    }
    case 'sched-credit':
      return schedCredit(ts, args, io);
    case 'info':
      io.out(info(ts));
      return { status: 0 };
    case 'top':
      io.out(top(ts));
      return { status: 0 };
    case 'dmesg':
      io.out(hv.log.join('\n'));
      return { status: 0 };
    default: {
      const r = runNetCommand(ts, cmd, args, io);
      if (r) return r;
      throw new Error(`unknown command '${cmd}' (try: xl help)`);
    }
  }
}

/**
 * `xl create FILE key=value...`: the file's text with the key=value pairs appended, as
 * xl.cfg lines. A key the file sets already is blanked out there (the line numbers of the
 * rest stay), because a pair overrides the file (xl(1)) and the parser refuses a key set twice.
 */
export function configWithOverrides(text: string, pairs: readonly string[]): string {
  const extra = pairs.map((kv) => kv.replace(/^([^=]+)=(.*)$/, (_m, k: string, v: string) => `${k} = ${/^\d+$/.test(v) ? v : JSON.stringify(v)}`));
  const keys = new Set(extra.map((l) => l.split('=')[0]!.trim()));
  const lines = text.split(/\r?\n/).map((l) => (keys.has(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(l)?.[1] ?? '') ? '' : l));
  return [...lines, ...extra].join('\n');
}

function stateFlags(d: Domain): string {
  const s = d.state;
  return ['running', 'blocked', 'paused', 'shutdown', 'crashed', 'dying'].map((x, i) => (x === s ? 'rbpscd'[i] : '-')).join('');
}

function list(ts: Toolstack): string {
  const rows = ['Name                                        ID   Mem VCPUs\tState\tTime(s)'];
  // Domain-0's time is what its backends and device models took in the hypervisor worker (Hypervisor.chargeDom0).
  rows.push(`${'Domain-0'.padEnd(40)} ${'0'.padStart(5)} ${'0'.padStart(5)} ${'0'.padStart(5)}     r-----  ${(ts.hv.dom0CpuNs / 1e9).toFixed(1).padStart(8)}`);
  for (const d of ts.hv.domains.values()) {
    rows.push(
      `${d.name.padEnd(40)} ${String(d.domid).padStart(5)} ${String(Math.round(d.totPages / 256)).padStart(5)} ${String(d.vcpus.length).padStart(5)}     ${stateFlags(d)}  ${(d.cpuNs / 1e9).toFixed(1).padStart(8)}`,
    );
  }
  return rows.join('\n');
}

function vcpuList(ts: Toolstack, ref?: string): string {
  const rows = ['Name                                ID  VCPU   CPU State   Time(s) Affinity (Hard / Soft)'];
  const doms = ref ? [ts.find(ref)] : [...ts.hv.domains.values()];
  for (const d of doms) {
    for (const v of d.vcpus) {
      const st = RUNSTATE_NAMES[v.shownRunstate];
      const cpu = v.pcpu >= 0 ? String(v.pcpu) : '-';
      rows.push(
        `${d.name.padEnd(32)} ${String(d.domid).padStart(5)} ${String(v.vcpuId).padStart(5)} ${cpu.padStart(5)}   ${st.slice(0, 3)}  ${(v.runstateNs[0]! / 1e9).toFixed(1).padStart(8)} ${formatCpus(v.affinity, ts.hv.pcpus)} / all`,
      );
    }
  }
  return rows.join('\n');
}

function schedCredit(ts: Toolstack, args: readonly string[], io: XlIo): XlResult {
  let dom: string | undefined, weight: number | undefined, cap: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const v = args[i + 1];
    if (args[i] === '-d' && v !== undefined) {
      dom = v;
      i++;
    } else if (args[i] === '-w' && v !== undefined) {
      weight = Number(v);
      i++;
    } else if (args[i] === '-c' && v !== undefined) {
      cap = Number(v);
      i++;
    } else throw new Error('usage: xl sched-credit [-d DOM [-w WEIGHT] [-c CAP]]');
  }
  if (dom !== undefined && (weight !== undefined || cap !== undefined)) {
    ts.hv.setSchedParams(ts.find(dom).domid, { ...(weight !== undefined ? { weight } : {}), ...(cap !== undefined ? { cap } : {}) });
    return { status: 0 };
  }
  const rows = [`Cpupool Pool-0: tslice=30ms ratelimit=1000us migration-delay=0us`, 'Name                                ID Weight  Cap'];
  const doms = dom !== undefined ? [ts.find(dom)] : [...ts.hv.domains.values()];
  for (const d of doms)
    rows.push(`${d.name.padEnd(32)} ${String(d.domid).padStart(5)} ${String(d.sched.weight).padStart(6)} ${String(d.sched.cap).padStart(4)}`);
  io.out(rows.join('\n'));
  return { status: 0 };
}

function info(ts: Toolstack): string {
  const hv = ts.hv;
  const MiB = (frames: number): number => Math.floor((frames * 4096) / (1 << 20));
  return [
    `host                   : hyperlab`,
    `release                : hyperlab-0.1`,
    `machine                : riscv32`,
    `nr_cpus                : ${hv.pcpus}`,
    `total_memory           : ${MiB(hv.memory.nrFrames)}`,
    `free_memory            : ${MiB(hv.memory.nrFree)}`,
    `xen_caps               : xen-3.0-riscv32 hvm-3.0-riscv32`,
    `xen_scheduler          : ${hv.schedulerName}`,
    `xen_pagesize           : 4096`,
    `nr_domains             : ${hv.domains.size + 1}`,
  ].join('\n');
}

function top(ts: Toolstack): string {
  const nowMs = Date.now();
  const totalKiB = (ts.hv.memory.nrFrames * 4096) / 1024;
  const rows = [
    '      NAME  STATE   CPU(sec) CPU(%)     MEM(k) MEM(%)  MAXMEM(k) MAXMEM(%) VCPUS  NETS NETTX(k) NETRX(k)  VBDS VBD_OO VBD_RD VBD_WR VBD_RSECT VBD_WSECT',
  ];
  for (const d of ts.hv.domains.values()) {
    const prev = samples.get(d);
    const pct = prev && nowMs > prev.atMs ? ((d.cpuNs - prev.ns) / 1e6 / (nowMs - prev.atMs)) * 100 : 0;
    samples.set(d, { ns: d.cpuNs, atMs: nowMs });
    const mem = d.totPages * 4,
      max = d.maxPages * 4;
    // xentop's NET columns: interfaces, and KiB the domain sent and received (netback's counters, the guest's side).
    const nets = ts.nets.statsOf(d.domid);
    const kib = (f: (s: (typeof nets)[number]) => number): string => String(Math.floor(nets.reduce((n, s) => n + f(s), 0) / 1024)).padStart(8);
    const net = `${String(nets.length).padStart(5)} ${kib((s) => s.txBytes)} ${kib((s) => s.rxBytes)}`;
    // xentop's VBD columns, summed over the domain's disks (VBD_OO: requests that waited for resources; none do here).
    const vbds = ts.disks.statsOf(d.domid);
    const sum = (f: (st: (typeof vbds)[number]) => number): string => String(vbds.reduce((n, st) => n + f(st), 0));
    const vbd = `${String(vbds.length).padStart(5)} ${'0'.padStart(6)} ${sum((st) => st.rdReq).padStart(6)} ${sum((st) => st.wrReq).padStart(6)} ${sum((st) => st.rdSect).padStart(9)} ${sum((st) => st.wrSect).padStart(9)}`;
    rows.push(
      `${d.name.slice(0, 10).padStart(10)} ${stateFlags(d)} ${(d.cpuNs / 1e9).toFixed(0).padStart(10)} ${pct.toFixed(1).padStart(6)} ${String(mem).padStart(10)} ${((mem / totalKiB) * 100).toFixed(1).padStart(6)} ${String(max).padStart(10)} ${((max / totalKiB) * 100).toFixed(1).padStart(9)} ${String(d.vcpus.length).padStart(5)} ${net} ${vbd}`,
    );
  }
  return rows.join('\n');
}

/** "all", "2", "0-1,3" -> a bitmask of pCPUs. */
export function parseCpus(text: string, pcpus: number): number {
  if (text === 'all') return (1 << pcpus) - 1;
  let mask = 0;
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`bad CPU list '${text}' (e.g. all, 1, 0-1,3)`);
    const lo = Number(m[1]),
      hi = m[2] !== undefined ? Number(m[2]) : lo;
    if (hi < lo || hi >= pcpus) throw new Error(`CPU ${hi} does not exist (the host has ${pcpus})`);
    for (let c = lo; c <= hi; c++) mask |= 1 << c;
  }
  return mask;
}

function formatCpus(mask: number, pcpus: number): string {
  if (mask === (1 << pcpus) - 1 || mask === -1 || mask === 0xffff_ffff) return 'all';
  const cpus: number[] = [];
  for (let c = 0; c < pcpus; c++) if ((mask >>> c) & 1) cpus.push(c);
  return cpus.join(',');
}
