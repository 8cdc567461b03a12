/**
 * Domain-0's toolstack (libxl's job): creates domains from xl.cfg text and image files,
 * carries out on_poweroff / on_reboot / on_crash, and answers the `xl` commands (xl.ts).
 * Host-agnostic: files come through `readFile`, so the browser reads uploads and Node
 * reads the disk.
 */
import type { Domain } from '../xen/common/domain';
import type { Hypervisor } from '../xen/common/hypervisor';
import { detectImageFormat } from '../loader/image';
import type { DomainImages } from '../xen/common/domain';
import { parseXlConfig, validateDomainConfig, type DomainConfig } from './xlConfig';
import type { BlockImage } from '../block/image';
import type { DiskSpec } from './xlDisk';
import { VirtualDisks } from './vbd';
import { VirtualNetworks } from './vif';
import { VIRT_VIRTIO_COUNT, virtioSlotForDevice } from '../board/memoryMap';

export interface ToolstackIo {
  /**
   * Read an image named in a config (kernel, ramdisk), of at most `maxBytes` (a larger
   * one, or anything that is not a regular file, is refused before it is read). Throws
   * with a readable message.
   */
  readFile(path: string, maxBytes: number): Uint8Array;
  /**
   * Open the image a disk spec names (`target`, `format`, `access`), with its backing
   * chain. Throws with a one-line message. A host without it cannot attach disks.
   */
  openDisk?(spec: DiskSpec): BlockImage;
}

export class Toolstack {
  /** The configs domains were created from, for on_reboot = "restart". */
  private readonly configs = new Map<number, DomainConfig>();
  /** Virtual disks and Domain-0's blkback (vbd.ts). */
  readonly disks: VirtualDisks;
  /** Bridges, Domain-0's interface and netback's vifs (vif.ts). */
  readonly nets: VirtualNetworks;

  constructor(
    readonly hv: Hypervisor,
    private readonly io: ToolstackIo,
  ) {
    this.disks = new VirtualDisks(hv, io.openDisk?.bind(io));
    this.nets = new VirtualNetworks(hv);
    hv.on('domain', (domid) => this.onDomainChange(domid));
  }

  /** `xl create`: from config text (a ConfigError names the line that is wrong). */
  create(configText: string, overrides: Partial<DomainConfig> = {}): Domain {
    const cfg = validateDomainConfig({ ...parseXlConfig(configText), ...overrides });
    return this.createFrom(cfg);
  }

  createFrom(cfg: DomainConfig): Domain {
    const d = this.build(cfg, this.readImages(cfg));
    this.configs.set(d.domid, cfg);
    return d;
  }

  /**
   * Build the domain and attach its disks: the images are opened first (a disk that cannot
   * be opened refuses the create, nothing built), and attached before the guest's first
   * xenstore request (vbd.ts).
   */
  private build(cfg: DomainConfig, images: DomainImages): Domain {
    const specs = cfg.disk ?? [];
    const vifs = cfg.vif ?? [];
    if (cfg.type === 'hvm' && specs.length + vifs.length > VIRT_VIRTIO_COUNT)
      throw new Error(
        `disk, vif: an hvm domain has ${VIRT_VIRTIO_COUNT} virtio-mmio slots, so at most ${VIRT_VIRTIO_COUNT} disks and vifs together (${specs.length} + ${vifs.length} given)`,
      );
    const disks = this.disks.open(specs);
    let d: Domain;
    try {
      d = this.hv.createDomain(cfg, images);
    } catch (e) {
      for (const img of disks) img.close();
      throw e;
    }
    try {
      this.disks.attachAll(d, specs, disks);
    } catch (e) {
      this.hv.destroyDomain(d.domid, 'disk attach failed');
      throw e;
    }
    try {
      // hvm: the vifs' virtio-net devices take the slots after the disks' (domainCreate.ts virtioPlugged).
      this.nets.attachAll(
        d,
        vifs,
        vifs.map((_, i) => virtioSlotForDevice(specs.length + i)),
      );
    } catch (e) {
      this.hv.destroyDomain(d.domid, 'vif attach failed');
      throw e;
    }
    return d;
  }

  /**
   * The kernel and ramdisk a config names, checked before anything is built: neither may
   * be larger than the domain's RAM, and a pv kernel must be an ELF file (Xen's pv
   * builder takes nothing else).
   */
  private readImages(cfg: DomainConfig): DomainImages {
    const ram = cfg.memory * 1024 * 1024;
    const read = (path: string, what: string): Uint8Array => {
      const bytes = this.io.readFile(path, ram);
      if (bytes.length > ram) throw new Error(`${what} '${path}' (${bytes.length} bytes) is larger than the domain's memory (${cfg.memory} MiB)`);
      return bytes;
    };
    const kernel = read(cfg.kernel, 'kernel');
    if (cfg.type === 'pv') checkPvKernel(kernel, cfg.kernel);
    return cfg.ramdisk !== undefined ? { kernel, ramdisk: read(cfg.ramdisk, 'ramdisk') } : { kernel };
  }

  /** Find a domain by id or name, as xl accepts either. */
  find(ref: string): Domain {
    const byId = /^\d+$/.test(ref) ? this.hv.domains.get(Number(ref)) : undefined;
    const d = byId ?? [...this.hv.domains.values()].find((x) => x.name === ref);
    if (!d) throw new Error(`domain '${ref}' does not exist`);
    return d;
  }

  private onDomainChange(domid: number): void {
    const d = this.hv.domains.get(domid);
    const cfg = this.configs.get(domid);
    if (!d) this.disks.domainGone(domid); // destroyed: its disks go with it
    if (!d) this.nets.domainGone(domid);
    if (!d || !cfg || d.dying) {
      if (!d) this.configs.delete(domid);
      return;
    }
    const action =
      d.shutdownReason === 'crash'
        ? cfg.on_crash
        : d.shutdownReason === 'reboot'
          ? cfg.on_reboot
          : d.shutdownReason === 'poweroff'
            ? cfg.on_poweroff
            : undefined;
    if (action !== 'restart') return;
    // Restart: destroy and build again from the same config and images (libxl does the
    // same). The images are read and checked first: if that fails the domain stays as it
    // is, shut down, with the reason in xl dmesg and its state; nothing else is touched.
    queueMicrotask(() => {
      if (this.hv.domains.get(domid) !== d || d.dying) return;
      let images: DomainImages;
      try {
        images = this.readImages(cfg);
      } catch (e) {
        d.shutdownDetail = `restart failed: ${errorLine(e)}`;
        this.hv.dmesg(`domain ${domid} (${cfg.name}): ${d.shutdownDetail}; left shut down`);
        this.configs.delete(domid); // no second try on the next state change
        return;
      }
      this.hv.destroyDomain(domid);
      try {
        const nd = this.build(cfg, images);
        this.configs.set(nd.domid, cfg);
      } catch (e) {
        this.hv.dmesg(`domain ${domid} (${cfg.name}): restart failed: ${errorLine(e)}`);
      }
    });
  }
}

/** A pv kernel must be an ELF file (Xen's xc_dom_* loaders for pv take ELF only). */
export function checkPvKernel(bytes: Uint8Array, path: string): void {
  const format = detectImageFormat(bytes);
  if (format !== 'elf') throw new Error(`kernel '${path}' is not an ELF file (${format === 'raw' ? 'unknown format' : format}): a pv kernel must be ELF`);
}

function errorLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}
