/**
 * Domain-0's toolstack (libxl's job): creates domains from xl.cfg text and image files,
 * carries out on_poweroff / on_reboot / on_crash, and answers the `xl` commands (xl.ts).
 * Host-agnostic: files come through `readFile`, so the browser reads uploads and Node
 * reads the disk.
 */
import type { Domain } from '../xen/common/domain';
import type { Hypervisor } from '../xen/common/hypervisor';
import { parseXlConfig, type DomainConfig } from './xlConfig';

export interface ToolstackIo {
  /** Read an image named in a config (kernel, ramdisk). Throws with a readable message. */
  readFile(path: string): Uint8Array;
}

export class Toolstack {
  /** The configs domains were created from, for on_reboot = "restart". */
  private readonly configs = new Map<number, DomainConfig>();

  constructor(readonly hv: Hypervisor, private readonly io: ToolstackIo) {
    hv.on('domain', (domid) => this.onDomainChange(domid));
  }

  /** `xl create`: from config text (a ConfigError names the line that is wrong). */
  create(configText: string, overrides: Partial<DomainConfig> = {}): Domain {
    const cfg = { ...parseXlConfig(configText), ...overrides };
    return this.createFrom(cfg);
  }

  createFrom(cfg: DomainConfig): Domain {
    const kernel = this.io.readFile(cfg.kernel);
    const ramdisk = cfg.ramdisk !== undefined ? this.io.readFile(cfg.ramdisk) : undefined;
    const d = this.hv.createDomain(cfg, ramdisk ? { kernel, ramdisk } : { kernel });
    this.configs.set(d.domid, cfg);
    return d;
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
    if (!d || !cfg || d.dying) {
      if (!d) this.configs.delete(domid);
      return;
    }
    const action = d.shutdownReason === 'crash' ? cfg.on_crash : d.shutdownReason === 'reboot' ? cfg.on_reboot : d.shutdownReason === 'poweroff' ? cfg.on_poweroff : undefined;
    if (action !== 'restart') return;
    // Restart: destroy and build again from the same config and images (libxl does the same).
    queueMicrotask(() => {
      if (!this.hv.domains.has(domid)) return;
      this.hv.destroyDomain(domid);
      this.createFrom(cfg);
    });
  }
}
