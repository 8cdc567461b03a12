/**
 * `xl restore`: a save file into a new domain (libxl's libxl_stream_read.c and libxc's
 * xg_sr_restore.c). The whole file is read and checked first (every checksum, record and
 * layout: saveFile.ts), then every piece of state is decoded and checked against the config
 * (vCPU count, memory, device layouts, each hart's registers on a scratch hart), and only
 * then is anything built: a bad file is refused with one line and creates nothing.
 *
 * The domain gets a new domid (as Xen's restore does); its memory, vCPUs and devices are
 * put back as they were, so the guest runs on from the instruction it was stopped at
 * without knowing (there is no cooperative suspend: docs/migration.md says what a pv guest
 * sees). Its xenstore home is written back under the new id, and its watches re-registered.
 */
import { Bus } from '../../bus/bus';
import * as M from '../../board/memoryMap';
import { Hart } from '../../cpu/hart';
import { restoreHart } from '../../cpu/hartState';
import type { ClintState } from '../../devices/clint';
import type { PlicState } from '../../devices/plic';
import type { Uart16550State } from '../../devices/uart16550';
import type { BuiltDomain, Domain } from '../../xen/common/domain';
import type { DomainRestore, SavedVcpu } from '../../xen/common/domainSave';
import type { Hypervisor } from '../../xen/common/hypervisor';
import type { MachineMemory } from '../../xen/common/machineMemory';
import { P2m, releaseFrames } from '../../xen/common/p2m';
import { pvLayout } from '../../xen/pv/builder';
import * as X from '../../xen/public/xen';
import { virtioSlotForDevice } from '../../board/memoryMap';
import { hostNowMs } from '../../xen/vcpu/vcpuRunner';
import { parseXlConfig, validateDomainConfig, type DomainConfig } from '../xlConfig';
import { parsePerm } from '../xenstore';
import { readBoardEntry, readClintEntry, readHeaderEntry, readPlicEntry, readUartEntry, readVirtioEntry, type BoardState } from './deviceCodec';
import type { BlockImage } from '../../block/image';
import { restoreVirtioMmio, type VirtioMmioState } from '../../devices/virtio/state';
import type { Toolstack } from '../toolstack';
import type { VirtioMmioDevice } from '../../devices/virtio/mmioDevice';
import { rarpAnnounce } from './announce';
import { assembleDisks } from './diskImage';
import type { DiskSpec } from '../xlDisk';
import { XenbusStateConnected } from '../../xen/public/xenbus';
import { HVM_SAVE, type DeviceStateEntry } from './deviceState';
import { PAGE_SIZE } from './pageData';
import { ECS } from './pvState';
import { readSaveFile, type SaveRead } from './saveFile';

export interface RestoreOptions {
  /** `xl restore -p`: leave the domain paused. */
  paused?: boolean;
  /** `xl restore CONFIG FILE`: this config instead of the embedded one (same type, memory and vCPUs). */
  configText?: string;
  /**
   * The toolstack whose disks and networks the domain's devices re-attach to (shared storage:
   * each disk spec's image is opened again; vifs join the bridge of the same name). A domain
   * with disks or vifs cannot be restored without it.
   */
  toolstack?: Toolstack;
  /** Write a file on this host (a disk image the stream carries: `xl save --copy-storage`). */
  writeFile?: (path: string, bytes: Uint8Array) => void;
  /**
   * The memory, built already from the stream's pages as they arrived (an incoming live
   * migration: live/incoming.ts): `adopt` hands its P2M, `frames` frames, to the new domain.
   * Without it (`xl restore` from a file) the memory is built here, from the verified stream.
   */
  memory?: { readonly frames: number; adopt(domid: number): P2m };
  /** Filled in with how long each step took (ms), for xl's log and the benchmark. */
  timings?: RestoreTimings;
}

export interface RestoreTimings {
  /** The stream decoded and checked against its config (checkSaveFile). */
  check: number;
  /** createDomain: memory (unless built on arrival), vCPU workers started, device models. */
  create: number;
  /** pv: the xenstore home written back; disks and vifs attached and (pv) connected. */
  devices: number;
}

const MiB = 1024 * 1024;

function configOf(text: string, json: boolean): DomainConfig {
  return validateDomainConfig(json ? JSON.parse(text) : parseXlConfig(text));
}

/** Everything a restore needs, decoded and checked; nothing built yet. */
interface Checked {
  cfg: DomainConfig;
  read: SaveRead;
  vcpus: SavedVcpu[];
  board?: BoardState;
  uart?: Uart16550State;
  /** hvm: the virtio-mmio state of each disk's slot. */
  virtio: Map<number, VirtioMmioState>;
  /** The id the saved domain had (its xenstore home's `domid` node; pv), or -1. */
  oldDomid: number;
}

/**
 * Read and check a save file completely (or take a stream a receiver has read and verified
 * already, record by record: SaveFileReader). Throws one line (StreamError names the byte offset).
 */
export function checkSaveFile(input: Uint8Array | SaveRead, opts: RestoreOptions = {}): Checked {
  let saved: DomainConfig | undefined;
  const read =
    input instanceof Uint8Array
      ? readSaveFile(input, (h) => {
          saved = configOf(h.config, h.json);
          return { maxPfn: (saved.maxmem * MiB) / PAGE_SIZE, maxVcpus: saved.vcpus };
        })
      : input;
  saved ??= configOf(read.header.config, read.header.json);
  let cfg = saved;
  if (opts.configText !== undefined) {
    const c = configOf(opts.configText, false);
    if (c.type !== cfg.type || c.memory !== cfg.memory || c.maxmem !== cfg.maxmem || c.vcpus !== cfg.vcpus)
      throw new Error("the config must keep the saved domain's type, memory, maxmem and vcpus");
    cfg = c;
  }
  const x = read.libxc;
  if (x.kind !== cfg.type) throw new Error(`the stream holds a ${x.kind} domain and its config says type = "${cfg.type}"`);
  if (x.vcpus.length !== cfg.vcpus) throw new Error(`the stream holds ${x.vcpus.length} vCPU context(s) for a domain of ${cfg.vcpus}`);
  const timers = x.timers;
  if (!timers || timers.length !== cfg.vcpus) throw new Error('the stream has no RV32_VCPU_TIMERS for every vCPU');
  if (!timers.some((t) => t.online)) throw new Error('no vCPU of the saved domain was up');
  const entries = (list: DeviceStateEntry[] | undefined, code: number): DeviceStateEntry[] => (list ?? []).filter((e) => e.typecode === code);
  let board: BoardState | undefined, uart: Uart16550State | undefined, plic: PlicState | undefined;
  const virtio = new Map<number, VirtioMmioState>();
  const clints: { msip: boolean; cmp: [number, number] }[] = [];
  if (x.kind === 'hvm') {
    const header = entries(x.hvmContext, HVM_SAVE.HEADER);
    if (header.length !== 1 || readHeaderEntry(header[0]!) !== cfg.vcpus) throw new Error('HVM_CONTEXT: no header, or one for another number of vCPUs');
    const b = entries(x.hvmContext, HVM_SAVE.BOARD);
    if (b.length !== 1) throw new Error('HVM_CONTEXT: no BOARD entry');
    board = readBoardEntry(b[0]!);
    for (let i = 0; i < cfg.vcpus; i++) {
      const c = entries(x.hvmContext, HVM_SAVE.CLINT).filter((e) => e.instance === i);
      if (c.length !== 1) throw new Error(`HVM_CONTEXT: no CLINT entry for hart ${i}`);
      clints.push(readClintEntry(c[0]!));
    }
    const p = entries(x.hvmContext, HVM_SAVE.PLIC);
    if (p.length !== 1) throw new Error('HVM_CONTEXT: no PLIC entry');
    plic = readPlicEntry(p[0]!, { sources: M.VIRT_PLIC_NUM_SOURCES, contexts: 2 * cfg.vcpus });
    const u = entries(read.emulator, HVM_SAVE.UART_16550);
    if (u.length !== 1) throw new Error('EMULATOR_CONTEXT: no UART_16550 entry');
    uart = readUartEntry(u[0]!);
    // One virtio-mmio entry per disk and per vif, on the slot each is plugged into (Toolstack.build: disks first, then vifs).
    const nDevices = (cfg.disk?.length ?? 0) + (cfg.vif?.length ?? 0);
    const slots = new Set(Array.from({ length: nDevices }, (_, i) => virtioSlotForDevice(i)));
    for (const e of entries(read.emulator, HVM_SAVE.VIRTIO_MMIO)) {
      if (!slots.has(e.instance)) throw new Error(`EMULATOR_CONTEXT: a virtio-mmio device on slot ${e.instance}, where the config has no disk or vif`);
      if (virtio.has(e.instance)) throw new Error(`EMULATOR_CONTEXT: two virtio-mmio entries for slot ${e.instance}`);
      virtio.set(e.instance, readVirtioEntry(e));
    }
    for (const slot of slots) if (!virtio.has(slot)) throw new Error(`EMULATOR_CONTEXT: no virtio-mmio entry for the device on slot ${slot}`);
    // A ready queue's rings must lie in the domain's RAM (restoreVirtioMmio checks them again
    // against the built domain; checked here so that a bad stream builds nothing).
    const ramEnd = M.VIRT_DRAM_BASE + cfg.maxmem * MiB;
    for (const [slot, st] of virtio)
      st.queues.forEach((q, i) => {
        if (!q.ready) return;
        const n = q.num;
        const inRam = (a: number, len: number): boolean => a >= M.VIRT_DRAM_BASE && a + len <= ramEnd;
        if (n < 1 || n > 32768 || (n & (n - 1)) !== 0 || !inRam(q.descAddr, 16 * n) || !inRam(q.driverAddr, 6 + 2 * n) || !inRam(q.deviceAddr, 6 + 8 * n))
          throw new Error(`EMULATOR_CONTEXT: virtio-mmio slot ${slot} queue ${i}: size ${n} or its rings are not in the domain's memory`);
      });
  } else {
    if (!x.evtchn || !x.grants || !x.xenstore) throw new Error('a pv stream needs its event channel, grant table and xenstore records');
    const layout = pvLayout(cfg);
    if (x.grants.frames.length !== layout.grantFrames.length || x.grants.frames.some((f, i) => f !== layout.grantFrames[i]))
      throw new Error(`PV_GRANT_TABLE: frames ${x.grants.frames.join(',')} are not where this domain's are`);
    if (x.grants.maptrack.length > 0) throw new Error("PV_GRANT_TABLE: mappings of other domains' grants cannot be restored");
    const console = x.evtchn.find((e) => e.port === 1),
      store = x.evtchn.find((e) => e.port === 2);
    if (!console || !store || [console, store].some((e) => e.state !== ECS.INTERDOMAIN || e.a !== 0))
      throw new Error('PV_EVTCHN_TABLE: ports 1 and 2 must be the console and xenstore channels to Domain-0');
    for (const e of x.evtchn) {
      if (e.vcpu >= cfg.vcpus) throw new Error(`PV_EVTCHN_TABLE: port ${e.port} notifies vCPU ${e.vcpu}`);
      if (e.state === ECS.VIRQ && e.a >= X.NR_VIRQS) throw new Error(`PV_EVTCHN_TABLE: port ${e.port} is bound to virq ${e.a}, which does not exist`);
      if ((e.state === ECS.UNBOUND || e.state === ECS.INTERDOMAIN) && (e.a >= X.DOMID_SELF || e.b >= 1024))
        throw new Error(`PV_EVTCHN_TABLE: port ${e.port} names domain ${e.a} port ${e.b}`);
    }
    for (const s of layout.specialGfns) if (!x.pages.has(s)) throw new Error(`the stream lacks the special page at pfn ${s}`);
  }
  // Each hart's registers on a scratch hart: one the worker could not load is refused here.
  const scratch = new Bus({ ramBase: M.VIRT_DRAM_BASE, ramSize: PAGE_SIZE });
  const vcpus = x.vcpus.map((hart, i): SavedVcpu => {
    restoreHart(new Hart(scratch, i), hart);
    const t = timers[i]!;
    const mtime: [number, number] = [t.mtime % 0x1_0000_0000, Math.floor(t.mtime / 0x1_0000_0000)];
    const c = clints[i];
    const clint: ClintState = {
      msip: [c?.msip ?? false],
      mtimecmpLo: [c?.cmp[0] ?? 0],
      mtimecmpHi: [c?.cmp[1] ?? 0],
      mtime,
      stimecmp: [t.sbiTimer],
    };
    return {
      state: { hart, clint, ...(plic ? { plic } : {}), xenTimer: t.xenTimer, ...(board ? { board } : {}) },
      online: t.online,
    };
  });
  const oldDomid = x.kind === 'pv' ? oldDomidOf(x.xenstore!) : -1;
  return { cfg, read, vcpus, virtio, oldDomid, ...(board ? { board } : {}), ...(uart ? { uart } : {}) };
}

/** Build the domain's memory from the stream's pages (frames come zeroed from the allocator). */
function buildMemory(mem: MachineMemory, domid: number, frames: number, pages: Map<number, Uint8Array | 'zero'>): P2m {
  const p2m = new P2m(frames);
  try {
    const bytes = mem.views.u8;
    for (const [pfn, data] of pages) {
      const mfn = p2m.populate(mem, pfn, domid);
      if (data !== 'zero') bytes.set(data, mfn * PAGE_SIZE);
    }
    return p2m;
  } catch (e) {
    releaseFrames(mem, p2m);
    throw e;
  }
}

/** `xl restore`: check the file, build the domain, put its state back, let it run (unless -p). */
export async function restoreDomain(hv: Hypervisor, input: Uint8Array | SaveRead, opts: RestoreOptions = {}): Promise<Domain> {
  const t0 = performance.now();
  const c = checkSaveFile(input, opts);
  const tChecked = performance.now();
  const { cfg, read } = c;
  const x = read.libxc;
  if (!opts.memory && x.pages.size > hv.memory.nrFree) throw new Error(`not enough free memory: ${x.pages.size} frames to restore, ${hv.memory.nrFree} free`);
  const carried = read.disks ? assembleDisks(read.disks) : new Map<number, Uint8Array>();
  // A carried disk is raw (diskImage.ts), wherever the config puts it.
  const disks = (cfg.disk ?? []).map((s) => (carried.has(s.devid) ? { ...s, format: 'raw' as const } : s)),
    vifs = cfg.vif ?? [];
  const ts = opts.toolstack;
  if ((disks.length > 0 || vifs.length > 0) && !ts) throw new Error('the domain has disks or network interfaces and this host has no toolstack to attach them');
  // A pv domain's frontends name their backends' xenstore paths, which hold its domid: it
  // keeps its id (Xen's non-cooperative-migration design: the toolstack preserves the
  // source domid, and refuses when the id is taken on the target).
  const keepDomid = cfg.type === 'pv' && (disks.length > 0 || vifs.length > 0);
  if (keepDomid && (c.oldDomid <= 0 || hv.domains.has(c.oldDomid)))
    throw new Error(
      `domain id ${c.oldDomid} is in use: a pv domain with disks or network interfaces keeps its id across a restore (its frontends name their backends by it)`,
    );
  for (const devid of carried.keys())
    if (!disks.some((s) => s.devid === devid)) throw new Error(`DISK_IMAGE: the stream carries disk ${devid}, which the config does not have`);
  if (carried.size > 0) {
    // The checks createDomain makes first, made before any file is written.
    if ([...hv.domains.values()].some((o) => o.name === cfg.name)) throw new Error(`a domain named "${cfg.name}" exists already`);
    writeCarriedDisks(ts!, disks, carried, opts.writeFile);
  }
  // Shared storage: the same images, opened before anything is built (a missing one builds nothing).
  const images: BlockImage[] = ts ? ts.disks.open(disks) : [];
  const mtime0 = x.timers![0]!.mtime;
  const restore: DomainRestore = {
    ...(keepDomid ? { domid: c.oldDomid } : {}),
    ...(opts.memory ? { frames: opts.memory.frames } : {}),
    paused: true, // until its xenstore home is back; then as asked
    vcpus: c.vcpus,
    build: (mem, domid) => {
      if (cfg.type === 'pv') {
        const l = pvLayout(cfg);
        const p2m = opts.memory ? opts.memory.adopt(domid) : buildMemory(mem, domid, l.p2mFrames, x.pages);
        return { ...l, p2m, entry: M.VIRT_DRAM_BASE, args: [0, l.startInfo, 0] };
      }
      const p2m = opts.memory ? opts.memory.adopt(domid) : buildMemory(mem, domid, (cfg.maxmem * MiB) / PAGE_SIZE, x.pages);
      const b = c.board!;
      const built: BuiltDomain = {
        p2m,
        ramBase: M.VIRT_DRAM_BASE,
        entry: b.entry,
        args: [0, b.fdtAddr, b.a2],
        mrom: { fdtAddr: b.fdtAddr, nextAddr: b.nextAddr },
      };
      return built;
    },
    prepare: (d) => {
      // Guest time goes on from the saved mtime (the vCPUs' clocks run from epochMs).
      d.epochMs = hostNowMs() - (mtime0 * 1000) / M.VIRT_TIMEBASE_FREQ;
      d.totPages = x.pages.size;
      if (d.kind === 'hvm') {
        d.uart.restore(c.uart!);
        return;
      }
      const si = d.siMachine & ~0xfff;
      hv.machine.u8.set(x.sharedInfo!, si);
      for (const e of x.evtchn!) {
        // Channels to Domain-0 and to other domains wait unbound: Domain-0's backends bind
        // the console and xenstore ones again; a peer domain knows nothing of the new id.
        if (e.state === ECS.INTERDOMAIN && e.a === oldDomidOf(x.xenstore!))
          d.ports[e.port] = { s: { state: 'interdomain', remoteDomid: d.domid, remotePort: e.b }, vcpu: e.vcpu };
        else if (e.state === ECS.INTERDOMAIN || e.state === ECS.UNBOUND) d.ports[e.port] = { s: { state: 'unbound', remoteDomid: e.a }, vcpu: e.vcpu };
        else if (e.state === ECS.VIRQ) d.ports[e.port] = { s: { state: 'virq', virq: e.a }, vcpu: e.vcpu };
        else d.ports[e.port] = { s: { state: 'ipi' }, vcpu: e.vcpu };
      }
      for (let p = 1; p < d.ports.length; p++) if (d.ports[p]?.s.state === 'interdomain') hv.slots.routePort(d, p);
    },
  };
  let d: Domain;
  const tCreate = performance.now();
  try {
    d = hv.createDomain(carried.size > 0 ? { ...cfg, disk: disks } : cfg, undefined, restore);
  } catch (e) {
    for (const img of images) img.close();
    throw e;
  }
  const tCreated = performance.now();
  try {
    if (d.kind === 'pv') await restoreXenstore(hv, d.domid, read);
    if (ts) attachDevices(ts, d, c, images);
    if (ts && d.kind === 'pv') await backendsConnected(ts, d.domid);
  } catch (e) {
    hv.destroyDomain(d.domid, 'restore failed'); // its disks close with it (Toolstack: domainGone)
    throw e;
  }
  if (opts.timings) Object.assign(opts.timings, { check: tChecked - t0, create: tCreated - tCreate, devices: performance.now() - tCreated });
  if (!opts.paused) hv.unpauseDomain(d.domid);
  return d;
}

/**
 * Re-attach the restored domain's devices (it is still paused). pv: blkback's backend area is
 * written again and blkback attaches to the ring the frontend kept (its xenstore area came
 * back with the home, in Connected), serving again what was queued. hvm: virtio-blk is
 * plugged on the same slot with its saved transport and queue state, and serves at once any
 * chain the driver had made available that the device had not taken.
 */
function attachDevices(ts: Toolstack, d: Domain, c: Checked, images: BlockImage[]): void {
  const disks = d.config.disk ?? []; // as built: a carried disk is raw
  const left = [...images];
  const resume = (transport: VirtioMmioDevice, slot: number): void => {
    restoreVirtioMmio(transport, c.virtio.get(slot)!);
    transport.queues.forEach((q, n) => {
      if (q.ready && q.pending() > 0) transport.notify(n);
    });
  };
  try {
    disks.forEach((spec, i) => {
      const img = left.shift()!;
      if (d.kind === 'pv') {
        ts.disks.attach(d, spec, img, true);
        return;
      }
      const slot = virtioSlotForDevice(i);
      resume(ts.disks.plugVirtio(d, spec, img, slot).transport, slot);
    });
  } finally {
    for (const img of left) img.close();
  }
  // Interfaces join the bridge of the same name, and the host announces each (announce.ts).
  (c.cfg.vif ?? []).forEach((v, i) => {
    if (d.kind === 'pv') {
      ts.nets.attach(d, v, true).port.input(rarpAnnounce(v.mac));
      return;
    }
    const slot = virtioSlotForDevice(disks.length + i);
    const nic = ts.nets.plugVirtio(d, v, slot);
    resume(nic.transport, slot);
    nic.net.port.input(rarpAnnounce(v.mac));
  });
}

/**
 * `xl save --copy-storage`'s images: each written to its spec's target, which must not exist
 * (a restore never overwrites a disk; a CONFIG can name other targets). The files written
 * stay if the restore fails later.
 */
function writeCarriedDisks(ts: Toolstack, disks: DiskSpec[], carried: Map<number, Uint8Array>, write: RestoreOptions['writeFile']): void {
  if (!write) throw new Error('the stream carries disk images (--copy-storage) and this host cannot write files');
  for (const s of disks) {
    const bytes = carried.get(s.devid);
    if (!bytes) continue;
    let exists = false;
    try {
      for (const img of ts.disks.open([s])) img.close();
      exists = true;
    } catch {
      // not there: good
    }
    if (exists) throw new Error(`disk ${s.vdev}: '${s.target}' exists and the stream carries the disk's contents: restore with a CONFIG naming a new target`);
  }
  for (const s of disks) {
    const bytes = carried.get(s.devid);
    if (bytes) write(s.target, bytes);
  }
}

/** How long a restore waits for blkback and netback to attach to the restored frontends before it unpauses the domain anyway. */
export const REATTACH_WAIT_MS = 2000;

/**
 * Wait (bounded) until the pv domain's backends are Connected again: they attach through
 * xenstore, asynchronously, and a guest unpaused before would find its first requests and
 * its first frames waiting (a frame for it is dropped while netback is not connected).
 */
async function backendsConnected(ts: Toolstack, domid: number): Promise<void> {
  const until = Date.now() + REATTACH_WAIT_MS;
  const devices = [...ts.disks.of(domid).map((x) => x.device), ...ts.nets.of(domid).map((x) => x.device)];
  while (devices.some((v) => v.state !== XenbusStateConnected && !v.gone) && Date.now() < until) await new Promise<void>((r) => setTimeout(r, 1));
}

/** The saved domain's id, as its xenstore home said (its `domid` node), or -1. */
function oldDomidOf(nodes: readonly { path: string; value: Uint8Array }[]): number {
  const n = nodes.find((x) => x.path === 'domid');
  const v = n ? Number(new TextDecoder().decode(n.value)) : NaN;
  return Number.isInteger(v) ? v : -1;
}

/** The domain's xenstore home under its new id, with its permissions, and its watches. */
async function restoreXenstore(hv: Hypervisor, domid: number, read: SaveRead): Promise<void> {
  const x = read.libxc;
  const old = oldDomidOf(x.xenstore!);
  const home = `/local/domain/${domid}`;
  const xs = hv.xsDom0();
  for (const n of x.xenstore!) {
    const path = n.path === '.' ? home : `${home}/${n.path}`;
    const value = n.path === 'domid' ? String(domid) : n.value;
    await xs.write(path, value);
    await xs.setPerms(
      path,
      n.perms.map((p) => {
        const perm = parsePerm(p);
        return perm.domid === old ? { domid, perm: perm.perm } : perm;
      }),
    );
  }
  hv.xenstored.restoreWatches(
    domid,
    (x.xenstoreWatches ?? []).map((w) => ({ path: w.inHome ? (w.path === '.' ? home : `${home}/${w.path}`) : w.path, token: w.token, relative: w.relative })),
  );
}
