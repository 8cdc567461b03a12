/**
 * Virtual block devices, the toolstack's part (libxl_disk.c's job): open the image a disk
 * spec names, write the frontend and backend areas in xenstore (both in Initialising),
 * hand the disk to Domain-0's blkback (src/core/backends/blk), and on detach or destroy
 * take it away again. `xl block-attach`, `block-detach` and `block-list` land here.
 *
 * xenstore, as libxl lays it out (Xen's docs/misc/xenstore-paths.pandoc):
 *   /local/domain/<domid>/device/vbd/<devid>/          the frontend's: backend, backend-id,
 *       state, virtual-device, device-type (the guest adds ring-ref, event-channel, protocol)
 *   /local/domain/0/backend/vbd/<domid>/<devid>/       the backend's: frontend, frontend-id,
 *       online, removable, bootable, state, dev, type, mode, device-type, params (blkback
 *       adds sectors, sector-size, info, feature-flush-cache)
 * The guest owns the first (Domain-0 may read it), Domain-0 the second (the guest may read it).
 *
 * The xenstore writes are made without yielding between them (XsHandle's calls are
 * synchronous underneath), so a disk attached right after the domain is built is in
 * xenstore before the guest's first request; a frontend also notices disks that appear
 * later (hotplug).
 *
 * hvm domains get their disks through virtio-blk instead (backends/blk/virtioBlk.ts), one
 * device per disk on the virtio-mmio slots QEMU would use (board/memoryMap.ts
 * virtioSlotForDevice), plugged when the domain is built: no xenstore, no handshake. Hot-
 * plug is refused (virtio-mmio has no hotplug: the device tree and the guest's probe are
 * fixed at boot).
 */
import type { BlockImage } from '../block/image';
import { BlkBack, type VbdDevice } from '../backends/blk';
import type { Domain } from '../xen/common/domain';
import type { Hypervisor } from '../xen/common/hypervisor';
import { dom0BackendHost, removeDeviceAreas, writeDeviceAreas } from './splitDevice';
import { formatDiskSpec, vdevToDevid, type DiskSpec } from './xlDisk';
import type { VbdStats } from '../backends/blk';
import { XENBUS_STATE_NAMES } from '../xen/public/xenbus';
import { dmaWriteNote, GuestDma } from '../devices/virtio/guestDma';
import { VirtioMmioDevice } from '../devices/virtio/mmioDevice';
import { VirtioBlk } from '../backends/blk/virtioBlk';
import { VIRT_VIRTIO_BASE, VIRT_VIRTIO_COUNT, VIRT_VIRTIO_IRQ, VIRT_VIRTIO_SIZE, virtioSlotForDevice } from '../board/memoryMap';
import { irqVirtio } from '../xen/vcpu/vcpuControl';

/** What the inspector shows of one virtual disk. */
export interface VbdInspection {
  vdev: string;
  devid: number;
  spec: string;
  sectors: number;
  readOnly: boolean;
  /** XenbusState of each end, as numbers and names. */
  backendState: number;
  backendStateName: string;
  frontendState: number;
  frontendStateName: string;
  ringRef: number;
  evtchn: number;
  /** The ring as the backend sees it now: the frontend's req_prod, its own req_cons and rsp_prod; requests in flight = req_prod - req_cons. */
  ring: { reqProd: number; reqCons: number; rspProd: number; inFlight: number } | undefined;
  stats: VbdStats;
  /** Both xenstore areas, node = value. */
  backendNodes: Record<string, string>;
  frontendNodes: Record<string, string>;
}

/** What the inspector shows of an hvm domain's disk (virtio-blk on virtio-mmio). */
export interface VirtioInspection {
  vdev: string;
  devid: number;
  spec: string;
  /** The slot, its register window and its PLIC source. */
  slot: number;
  address: number;
  irq: number;
  sectors: number;
  readOnly: boolean;
  /** Device status (virtio 2.1) and the names of its bits; the features the driver accepted (two 32-bit words). */
  status: number;
  statusNames: string[];
  driverFeatures: [number, number];
  /** Queue 0: its size, the driver's avail idx as in guest memory, the device's last avail and used indices; in flight = availIdx - lastAvail. */
  queue: { num: number; ready: boolean; availIdx: number | undefined; lastAvail: number; usedIdx: number; eventIdx: boolean; indirect: boolean };
  counts: VirtioMmioDevice['counts'];
  stats: VbdStats;
  /** Why the device last needed a reset, or ''. */
  lastError: string;
}

const STATUS_BITS: [number, string][] = [
  [1, 'ACKNOWLEDGE'],
  [2, 'DRIVER'],
  [8, 'FEATURES_OK'],
  [4, 'DRIVER_OK'],
  [64, 'DEVICE_NEEDS_RESET'],
  [128, 'FAILED'],
];

/** How the host opens the image a disk spec names (Node: files; the browser: OPFS). */
export type DiskOpener = (spec: DiskSpec) => BlockImage;

/** The toolstack's record of an attached disk. */
interface Attached {
  spec: DiskSpec;
  device: VbdDevice;
}

/** An hvm domain's disk: virtio-blk on a virtio-mmio slot. */
export interface VirtioDisk {
  spec: DiskSpec;
  slot: number;
  blk: VirtioBlk;
  transport: VirtioMmioDevice;
}

/** How long `xl block-detach` lets the frontend close before tearing down anyway. */
export const DETACH_GRACE_MS = 5000;

export class VirtualDisks {
  readonly blkback: BlkBack;
  private readonly attached = new Map<number, Map<number, Attached>>();
  private readonly virtioDisks = new Map<number, VirtioDisk[]>();

  constructor(
    private readonly hv: Hypervisor,
    private readonly opener: DiskOpener | undefined,
  ) {
    this.blkback = new BlkBack(dom0BackendHost(hv));
  }

  /** Open every image of `specs`, all or nothing (a failure closes the ones opened). */
  open(specs: readonly DiskSpec[]): BlockImage[] {
    if (specs.length === 0) return [];
    if (this.opener === undefined) throw new Error('this host cannot open disk images');
    const images: BlockImage[] = [];
    try {
      for (const s of specs) {
        const img = this.opener(s);
        images.push(img);
        if (s.access === 'rw' && img.readOnly) throw new Error(`disk ${s.vdev}: '${s.target}' can only be opened read-only (use access=ro)`);
        if (s.sectorSize !== undefined && img.size % s.sectorSize !== 0)
          throw new Error(`disk ${s.vdev}: '${s.target}' is ${img.size} bytes, not a whole number of ${s.sectorSize}-byte sectors (sector-size)`);
      }
    } catch (e) {
      for (const img of images) img.close();
      throw e;
    }
    return images;
  }

  /**
   * Attach an opened image to a pv domain as `spec.vdev`; the image belongs to the disk from
   * now on. `reattach` (xl restore): the frontend's area came back with the domain and its
   * frontend is still connected, so only the backend's area is written, and blkback attaches
   * to the ring where it stands (blkback.ts connect).
   */
  attach(d: Domain, spec: DiskSpec, image: BlockImage, reattach = false): VbdDevice {
    if (d.kind !== 'pv') {
      image.close();
      throw new Error(
        `domain ${d.domid} (${d.name}) is an hvm guest: its disks are virtio-blk devices, plugged at create time (virtio-mmio has no hot-plug); put the disk in its config`,
      );
    }
    if (this.attached.get(d.domid)?.has(spec.devid) || this.blkback.get(d.domid, spec.devid)) {
      image.close();
      throw new Error(`domain ${d.domid} (${d.name}) has a disk ${spec.vdev} already`);
    }
    const cdrom = spec.devtype === 'cdrom';
    const { frontendPath: fe, backendPath: be } = writeDeviceAreas(
      this.hv,
      d.domid,
      'vbd',
      spec.devid,
      [
        ['removable', cdrom ? '1' : '0'],
        ['bootable', '1'],
        ['dev', spec.vdev],
        ['type', 'file'],
        ['mode', spec.access === 'ro' ? 'r' : 'w'],
        ['device-type', spec.devtype],
        ['params', spec.target],
      ],
      [
        ['virtual-device', String(spec.devid)],
        ['device-type', spec.devtype],
      ],
      !reattach,
    );
    const fail = (e: unknown): void => this.hv.dmesg(`vbd ${d.domid}/${spec.devid}: ${String(e)}`);
    const { device, started } = this.blkback.add({
      domid: d.domid,
      devid: spec.devid,
      image,
      readOnly: spec.access === 'ro' || image.readOnly,
      cdrom,
      backendPath: be,
      frontendPath: fe,
      ...(spec.sectorSize !== undefined ? { sectorSize: spec.sectorSize } : {}),
    });
    started.catch(fail);
    let mine = this.attached.get(d.domid);
    if (!mine) {
      mine = new Map<number, Attached>();
      this.attached.set(d.domid, mine);
    }
    mine.set(spec.devid, { spec, device });
    return device;
  }

  /**
   * hvm: plug an opened image into virtio-mmio slot `slot` as a virtio-blk device, served in
   * the hypervisor thread (hvm/ioreq.ts); its interrupt goes to every vCPU of the domain.
   */
  plugVirtio(d: Domain, spec: DiskSpec, image: BlockImage, slot: number): VirtioDisk {
    if (d.kind !== 'hvm' || !Number.isInteger(slot) || slot < 0 || slot >= VIRT_VIRTIO_COUNT || d.virtio[slot]) {
      image.close();
      throw new Error(`domain ${d.domid} (${d.name}): virtio-mmio slot ${slot} is not free for disk ${spec.vdev}`);
    }
    const hv = this.hv;
    const dma = new GuestDma({ machine: hv.memory.buffer, ramBase: d.ramBase, ramSize: d.ramSize, p2m: (gfn) => d.p2m.get(gfn), onWrite: dmaWriteNote(hv, d) });
    const log = (line: string): void => hv.dmesg(`domain ${d.domid} ${spec.vdev}: ${line}`);
    const blk = new VirtioBlk({ image, readOnly: spec.access === 'ro' || image.readOnly, serial: spec.vdev, dma, log, sectorSize: spec.sectorSize ?? 512 });
    const transport = new VirtioMmioDevice({
      name: 'virtio-blk',
      model: blk,
      dma,
      log,
      irq: { set: (level) => d.vcpus.forEach((v) => hv.setIrq(v, irqVirtio(slot), level)) },
      isr: hv.virtioIsr(d, slot),
    });
    d.virtio[slot] = transport;
    const disk: VirtioDisk = { spec, slot, blk, transport };
    const mine = this.virtioDisks.get(d.domid) ?? [];
    mine.push(disk);
    this.virtioDisks.set(d.domid, mine);
    return disk;
  }

  /** An hvm domain's virtio-blk disks. */
  virtioOf(domid: number): readonly VirtioDisk[] {
    return this.virtioDisks.get(domid) ?? [];
  }

  /** xentop's view: the counters of every disk of the domain, blkback's and virtio-blk's. */
  statsOf(domid: number): VbdStats[] {
    return [
      ...this.of(domid).map((x) => x.device.stats),
      ...this.virtioOf(domid).map((x) => ({ ...x.blk.stats, notifyIn: x.transport.counts.notifies, notifyOut: x.transport.counts.interrupts })),
    ];
  }

  /** Attach every disk of a new domain; on a failure the domain's disks so far are dropped and the error rethrown. */
  attachAll(d: Domain, specs: readonly DiskSpec[], images: readonly BlockImage[]): void {
    for (let i = 0; i < specs.length; i++) {
      try {
        if (d.kind === 'hvm') this.plugVirtio(d, specs[i]!, images[i]!, virtioSlotForDevice(i));
        else this.attach(d, specs[i]!, images[i]!);
      } catch (e) {
        for (const img of images.slice(i + 1)) img.close();
        this.domainGone(d.domid);
        throw e;
      }
    }
  }

  /** `xl block-detach`: the backend goes Closing; the frontend closes, or after DETACH_GRACE_MS (or with `force`, at once) it is torn down. */
  detach(d: Domain, vdev: string, force = false): void {
    if (d.kind === 'hvm') throw new Error(`domain ${d.domid} (${d.name}) is an hvm guest: virtio-mmio has no hot-unplug; its disks go when it is destroyed`);
    const devid = vdevToDevid(vdev);
    const a = devid === undefined ? undefined : this.attached.get(d.domid)?.get(devid);
    if (!a) throw new Error(`domain ${d.domid} (${d.name}) has no disk ${vdev}`);
    const done = (): void => this.forget(d.domid, a);
    a.device.whenGone = done;
    if (force) a.device.kill();
    else a.device.close(DETACH_GRACE_MS);
  }

  /** The domain was destroyed: its disks go at once (frontend nodes went with its home). */
  domainGone(domid: number): void {
    for (const v of this.virtioDisks.get(domid) ?? []) {
      try {
        v.blk.image.close();
      } catch (e) {
        this.hv.dmesg(`domain ${domid} ${v.spec.vdev}: closing the image failed: ${String(e)}`);
      }
    }
    this.virtioDisks.delete(domid);
    const mine = this.attached.get(domid);
    if (!mine) return;
    for (const a of [...mine.values()]) {
      a.device.kill();
      this.forget(domid, a);
    }
    this.attached.delete(domid);
  }

  private forget(domid: number, a: Attached): void {
    const mine = this.attached.get(domid);
    if (mine?.get(a.spec.devid) !== a) return;
    mine.delete(a.spec.devid);
    removeDeviceAreas(this.hv, domid, 'vbd', a.spec.devid);
  }

  /** The disks of a domain, by device id. */
  of(domid: number): { spec: DiskSpec; device: VbdDevice }[] {
    return [...(this.attached.get(domid)?.values() ?? [])].sort((x, y) => x.spec.devid - y.spec.devid);
  }

  /** Everything the inspector shows about a domain's disks (read straight from xenstored's store). */
  inspect(domid: number): VbdInspection[] {
    const nodes = (path: string): Record<string, string> => {
      const t = this.hv.xenstored.store.tree(path);
      return Object.fromEntries((t?.children ?? []).map((c) => [c.name, c.value]));
    };
    return this.of(domid).map(({ spec, device }) => {
      const r = device.ringIndices;
      const name = (s: number): string => XENBUS_STATE_NAMES[s] ?? String(s);
      return {
        vdev: spec.vdev,
        devid: spec.devid,
        spec: formatDiskSpec(spec),
        sectors: device.sectors,
        readOnly: device.spec.readOnly,
        backendState: device.state,
        backendStateName: name(device.state),
        frontendState: device.feState,
        frontendStateName: name(device.feState),
        ringRef: device.ringRef,
        evtchn: device.evtchn,
        ring: r ? { ...r, inFlight: (r.reqProd - r.reqCons) >>> 0 } : undefined,
        stats: { ...device.stats, refused: { ...device.stats.refused } },
        backendNodes: nodes(device.spec.backendPath),
        frontendNodes: nodes(device.spec.frontendPath),
      };
    });
  }

  /** Everything the inspector shows about an hvm domain's virtio-blk disks. */
  inspectVirtio(domid: number): VirtioInspection[] {
    return this.virtioOf(domid).map(({ spec, slot, blk, transport }) => {
      const q = transport.queues[0]!;
      return {
        vdev: spec.vdev,
        devid: spec.devid,
        spec: formatDiskSpec(spec),
        slot,
        address: VIRT_VIRTIO_BASE + slot * VIRT_VIRTIO_SIZE,
        irq: VIRT_VIRTIO_IRQ + slot,
        sectors: blk.sectors,
        readOnly: blk.readOnly,
        status: transport.status,
        statusNames: STATUS_BITS.filter(([bit]) => (transport.status & bit) !== 0).map(([, n]) => n),
        driverFeatures: [transport.driverFeatures[0]!, transport.driverFeatures[1]!],
        queue: {
          num: q.num,
          ready: q.ready,
          availIdx: q.peekAvailIdx(),
          lastAvail: q.lastAvail,
          usedIdx: q.usedIdx,
          eventIdx: q.eventIdx,
          indirect: q.indirect,
        },
        counts: { ...transport.counts },
        stats: { ...blk.stats, refused: { ...blk.stats.refused }, notifyIn: transport.counts.notifies, notifyOut: transport.counts.interrupts },
        lastError: transport.lastError,
      };
    });
  }

  /** `xl block-list DOM`: xl's columns (Vdev BE handle state evt-ch ring-ref BE-path), then hyperlab's. */
  list(d: Domain): string {
    const rows = ['Vdev  BE  handle state evt-ch ring-ref BE-path                       '];
    for (const { spec, device } of this.of(d.domid)) {
      rows.push(
        `${String(spec.devid).padEnd(5)} ${'0'.padEnd(3)} ${String(d.domid).padEnd(6)} ${String(device.feState).padEnd(5)} ${String(device.evtchn).padEnd(6)} ${String(device.ringRef).padEnd(8)} ${device.spec.backendPath}`,
      );
    }
    for (const v of this.virtioOf(d.domid)) {
      const base = VIRT_VIRTIO_BASE + v.slot * VIRT_VIRTIO_SIZE;
      rows.push(
        `${String(v.spec.devid).padEnd(5)} ${'0'.padEnd(3)} ${String(d.domid).padEnd(6)} ${'-'.padEnd(5)} ${'-'.padEnd(6)} ${'-'.padEnd(8)} virtio-mmio@0x${base.toString(16)}`,
      );
    }
    const disks = this.of(d.domid);
    const virtio = this.virtioOf(d.domid);
    if (virtio.length > 0) {
      rows.push('', 'Vdev  Name  Sectors      Status Requests(rd/wr/fl) Refused Spec');
      for (const v of virtio) {
        const st = v.blk.stats;
        const refused = Object.values(st.refused).reduce((a, b) => a + b, 0);
        rows.push(
          `${String(v.spec.devid).padEnd(5)} ${v.spec.vdev.padEnd(5)} ${String(v.blk.sectors).padEnd(12)} ${`0x${v.transport.status.toString(16)}`.padEnd(6)} ${`${st.rdReq}/${st.wrReq}/${st.flReq}`.padEnd(18)} ${String(refused).padEnd(7)} ${formatDiskSpec(v.spec)}`,
        );
      }
    }
    if (disks.length > 0) {
      rows.push('', 'Vdev  Name  Sectors      Backend-state Requests(rd/wr/fl) Refused Spec');
      for (const { spec, device } of disks) {
        const st = device.stats;
        const refused = Object.values(st.refused).reduce((a, b) => a + b, 0) + st.badRing;
        rows.push(
          `${String(spec.devid).padEnd(5)} ${spec.vdev.padEnd(5)} ${String(device.sectors).padEnd(12)} ${String(device.state).padEnd(13)} ${`${st.rdReq}/${st.wrReq}/${st.flReq}`.padEnd(18)} ${String(refused).padEnd(7)} ${formatDiskSpec(spec)}`,
        );
      }
    }
    return rows.join('\n');
  }
}
