/**
 * `xl save`: a running domain into a save file (libxc's xg_sr_save.c and libxl's
 * libxl_stream_write.c, for a domain stopped once: no live rounds). The hypervisor pauses
 * the domain and hands over its vCPUs' states (xen/common/domainSave.ts); then, with nothing
 * of the guest running, this file copies its memory and the hypervisor's and Domain-0's
 * state of it into the records of the stream (docs/migration.md), and the caller destroys
 * the domain, lets it run on (`-c`) or leaves it paused (`-p`).
 */
import { P2M_GRANT, P2M_MFN_MASK } from '../../bus/bus';
import type { Domain, PvDomain } from '../../xen/common/domain';
import { resumeSuspended, suspendDomain, type SavedVcpu } from '../../xen/common/domainSave';
import { requestGuestSuspend } from './guestSuspend';
import type { Hypervisor } from '../../xen/common/hypervisor';
import { formatDiskSpec } from '../xlDisk';
import { formatVifSpec } from '../xlVif';
import { VirtioMmioDevice } from '../../devices/virtio/mmioDevice';
import { saveVirtioMmio } from '../../devices/virtio/state';
import type { DomainConfig } from '../xlConfig';
import { boardEntry, clintEntry, headerEntry, plicEntry, uartEntry, virtioEntry, type VcpuTimers } from './deviceCodec';
import type { DeviceStateEntry } from './deviceState';
import { XEN_MAJOR, XEN_MINOR, type LibxcImage } from './libxc';
import { PAGE_SIZE } from './pageData';
import { ECS, type EvtchnEntry, type XenstoreNode, type XenstoreWatchRec } from './pvState';
import { writeSaveFile, type SaveImage } from './saveFile';
import { diskImageRecords } from './diskImage';
import { XL } from './records';
import type { BlockImage } from '../../block/image';

/** What the caller does with the domain once its state is written (xl save, -c, -p). */
export type AfterSave = 'destroy' | 'checkpoint' | 'paused';

/** The config as xl.cfg text, as xl embeds it in the save file's header. */
export function formatXlConfig(c: DomainConfig): string {
  const q = (s: string): string => JSON.stringify(s);
  const lines = [`name = ${q(c.name)}`, `type = ${q(c.type)}`, `memory = ${c.memory}`, `maxmem = ${c.maxmem}`, `vcpus = ${c.vcpus}`, `kernel = ${q(c.kernel)}`];
  if (c.ramdisk !== undefined) lines.push(`ramdisk = ${q(c.ramdisk)}`);
  if (c.cmdline !== undefined) lines.push(`cmdline = ${q(c.cmdline)}`);
  if (c.type === 'hvm') lines.push(`firmware = ${q(c.firmware)}`);
  lines.push(`cpu_weight = ${c.cpu_weight}`, `cap = ${c.cap}`);
  lines.push(`on_poweroff = ${q(c.on_poweroff)}`, `on_reboot = ${q(c.on_reboot)}`, `on_crash = ${q(c.on_crash)}`);
  if (c.disk && c.disk.length > 0) lines.push(`disk = [ ${c.disk.map((d) => `'${formatDiskSpec(d)}'`).join(', ')} ]`);
  if (c.vif && c.vif.length > 0) lines.push(`vif = [ ${c.vif.map((v) => `'${formatVifSpec(v)}'`).join(', ')} ]`);
  if (c.nomigrate) lines.push('nomigrate = 1');
  return lines.join('\n') + '\n';
}

/**
 * Reasons a domain cannot be saved, checked before it is paused (one line each). Disks and
 * network interfaces are carried (by their specs in the config: shared storage, the same
 * bridge by name); `nomigrate` does not stop a save (checkMigratable). The second argument
 * (the domain's disk count, which a save refused once) is no longer used.
 */
export function checkSavable(d: Domain, _devices?: number): void {
  const who = `domain ${d.domid} (${d.name})`;
  if (d.shutdownReason) throw new Error(`${who} has shut down: nothing to save`);
  if (d.maptrack.size > 0)
    throw new Error(`${who} has ${d.maptrack.size} grant mapping(s) of other domains' pages: a save without the guest's cooperation cannot carry them`);
}

/**
 * `xl migrate` of a domain whose config says `nomigrate = 1` (libxl's disable_migrate) is
 * refused. A save is not: in Xen the flag is advisory (XEN_DOMCTL_disable_migrate only lets
 * x86 guests see an invariant TSC: xen/arch/x86/cpuid.c; xl save and xl restore of such a
 * domain go ahead), so hyperlab refuses only the migration it names.
 */
export function checkMigratable(d: Domain): void {
  if (d.config.nomigrate) throw new Error(`domain ${d.domid} (${d.name}) has nomigrate = 1 in its config: it may not be migrated`);
}

export interface CaptureOptions {
  /**
   * Called once the domain is paused and before its memory is read: the backends finish
   * what the guest asked of them and flush their disks (blkback's quiesce), so the memory
   * and the disks agree (libxl's domain_suspend_done: the device model and the backends are
   * quiet before the last pages are sent).
   */
  quiesce?: () => void;
  /**
   * `xl save --copy-storage`: the domain's disks (device id and image), read after `quiesce`
   * into DISK_IMAGE records; the embedded config then names them as raw (diskImage.ts).
   */
  copyStorage?: () => { devid: number; image: BlockImage }[];
  /**
   * A pv guest is first asked to suspend itself (guestSuspend.ts) unless this is false; the
   * toolstack's lines about it go here (and to `xl dmesg`).
   */
  cooperative?: boolean;
  log?: (line: string) => void;
}

/** Pause `d`, collect everything, write the file; the domain is left paused (the caller decides). */
export async function captureDomain(hv: Hypervisor, d: Domain, opts: CaptureOptions = {}): Promise<Uint8Array> {
  if (opts.cooperative !== false)
    await requestGuestSuspend(hv, d, (line) => {
      hv.dmesg(line);
      opts.log?.(line);
    });
  const t0 = performance.now();
  let vcpus: SavedVcpu[];
  try {
    vcpus = await suspendDomain(hv, d);
  } catch (e) {
    if (d.suspended && hv.domains.get(d.domid) === d) resumeSuspended(hv, d, 1); // the caller's unpause lets it go on, cancelled
    throw e;
  }
  opts.quiesce?.();
  const t1 = performance.now();
  let img = domainImage(hv, d, vcpus);
  if (opts.copyStorage) {
    const extra = opts.copyStorage().flatMap(({ devid, image }) => diskImageRecords(devid, image).map((body) => ({ type: XL.DISK_IMAGE, body })));
    // Carried as the guest sees them: raw (a qcow2 overlay's backing chain is folded in).
    const raw: DomainConfig = { ...d.config, disk: (d.config.disk ?? []).map(({ backing: _b, ...s }) => ({ ...s, format: 'raw' as const })) };
    img = { ...img, config: formatXlConfig(raw), extra };
  }
  const t2 = performance.now();
  const bytes = writeSaveFile(img);
  const t3 = performance.now();
  const ms = (a: number, b: number): string => (b - a).toFixed(0);
  hv.dmesg(
    `domain ${d.domid} (${d.name}): save: paused and vCPU states in ${ms(t0, t1)} ms, memory and state read in ${ms(t1, t2)} ms, stream written in ${ms(t2, t3)} ms`,
  );
  return bytes;
}

/** The save file's contents for a paused domain whose vCPU states are `vcpus`. */
export function domainImage(hv: Hypervisor, d: Domain, vcpus: readonly SavedVcpu[]): SaveImage {
  const img = domainState(hv, d, vcpus);
  return { ...img, libxc: { ...(img.libxc as LibxcImage), pages: pages(hv, d) } };
}

/**
 * Everything but the memory (`libxc.pages` is empty): the vCPU, device and pv records, for a
 * live migration's stop-and-copy, whose pages went in the rounds before.
 */
export function domainState(hv: Hypervisor, d: Domain, vcpus: readonly SavedVcpu[]): SaveImage {
  const libxc: LibxcImage = {
    kind: d.kind,
    xenMajor: XEN_MAJOR,
    xenMinor: XEN_MINOR,
    pages: new Map(),
    vcpus: vcpus.map((v) => v.state.hart),
    timers: vcpus.map((v, i) => timersOf(i, v)),
  };
  let emulator: DeviceStateEntry[] | undefined;
  if (d.kind === 'hvm') {
    libxc.hvmContext = hvmContext(vcpus);
    emulator = [uartEntry(d.uart.saveState())];
    d.virtio.forEach((t, slot) => {
      if (t instanceof VirtioMmioDevice) emulator!.push(virtioEntry(slot, saveVirtioMmio(t)));
    });
  } else {
    pvState(hv, d, libxc);
  }
  return { config: formatXlConfig(d.config), libxc, ...(emulator ? { emulator } : {}) };
}

function timersOf(vcpu: number, v: SavedVcpu): VcpuTimers {
  const [lo, hi] = v.state.clint.mtime;
  const st = v.state.clint.stimecmp?.[0] ?? null;
  return { vcpu, online: v.online, mtime: hi * 0x1_0000_0000 + lo, xenTimer: v.state.xenTimer, sbiTimer: st };
}

/**
 * Every frame of the domain's RAM (up to maxmem), in pfn order; a frame of zeros costs a
 * pfn and no data. Grant mappings (the pv grant window) are not the domain's memory.
 */
function pages(hv: Hypervisor, d: Domain): Map<number, Uint8Array | 'zero'> {
  const out = new Map<number, Uint8Array | 'zero'>();
  const limit = Math.min(d.p2m.maxFrames, (d.config.maxmem * 1024 * 1024) / PAGE_SIZE);
  // 64 bits at a time: in V8 a BigUint64Array over shared memory compared with 0n is the
  // fastest scan (several times faster than Int32Array reads, measured in Node 20).
  const words = new BigUint64Array(hv.memory.buffer);
  const bytes = hv.machine.u8;
  for (let gfn = 0; gfn < limit; gfn++) {
    const e = d.p2m.get(gfn);
    if (e < 0 || (e & P2M_GRANT) !== 0) continue;
    const at = (e & P2M_MFN_MASK) * PAGE_SIZE;
    let zero = true;
    for (let i = at >> 3, end = (at + PAGE_SIZE) >> 3; i < end; i++) {
      if (words[i] !== 0n) {
        zero = false;
        break;
      }
    }
    out.set(gfn, zero ? 'zero' : bytes.slice(at, at + PAGE_SIZE));
  }
  return out;
}

/** HVM_CONTEXT: the header, the board, the CLINT of each hart, the PLIC (shared by the harts: vCPU 0's view). */
function hvmContext(vcpus: readonly SavedVcpu[]): DeviceStateEntry[] {
  const out = [headerEntry(vcpus.length)];
  const b = vcpus[0]?.state.board;
  if (b) out.push(boardEntry({ entry: b.entry, fdtAddr: b.fdtAddr, nextAddr: b.nextAddr, a2: b.a2 }));
  vcpus.forEach((v, i) => out.push(clintEntry(i, v.state.clint)));
  const plic = vcpus[0]?.state.plic;
  if (plic) out.push(plicEntry(plic));
  return out;
}

/** The pv records: shared_info, event channels, grant table, xenstore home and watches. */
function pvState(hv: Hypervisor, d: PvDomain, img: LibxcImage): void {
  img.sharedInfo = hv.machine.u8.slice(d.siMachine & ~0xfff, (d.siMachine & ~0xfff) + PAGE_SIZE);
  const ports: EvtchnEntry[] = [];
  for (let p = 1; p < d.ports.length; p++) {
    const e = d.ports[p];
    if (!e) continue;
    const s = e.s;
    if (s.state === 'unbound') ports.push({ port: p, state: ECS.UNBOUND, vcpu: e.vcpu, a: s.remoteDomid, b: 0 });
    else if (s.state === 'interdomain') ports.push({ port: p, state: ECS.INTERDOMAIN, vcpu: e.vcpu, a: s.remoteDomid, b: s.remotePort });
    else if (s.state === 'virq') ports.push({ port: p, state: ECS.VIRQ, vcpu: e.vcpu, a: s.virq, b: 0 });
    else if (s.state === 'ipi') ports.push({ port: p, state: ECS.IPI, vcpu: e.vcpu, a: 0, b: 0 });
  }
  img.evtchn = ports;
  img.grants = { frames: [...d.grantFrames], maptrack: [] };
  const home = `/local/domain/${d.domid}`;
  const nodes: XenstoreNode[] = [];
  const walk = (n: ReturnType<typeof hv.xenstored.tree>, rel: string): void => {
    if (!n) return;
    if (rel !== '') nodes.push({ path: rel, value: new TextEncoder().encode(n.value), perms: n.perms.map((p) => `${p.perm}${p.domid}`) });
    for (const c of n.children) walk(c, rel === '' ? c.name : `${rel}/${c.name}`);
  };
  const root = hv.xenstored.tree(home);
  if (root) {
    nodes.push({ path: '.', value: new TextEncoder().encode(root.value), perms: root.perms.map((p) => `${p.perm}${p.domid}`) });
    walk(root, '');
  }
  img.xenstore = nodes;
  img.xenstoreWatches = hv.xenstored.domainWatches(d.domid).map((w): XenstoreWatchRec => {
    const inHome = w.path.startsWith(home + '/') || w.path === home;
    return { path: inHome ? w.path.slice(home.length + 1) || '.' : w.path, token: w.token, relative: w.relative, inHome };
  });
}
