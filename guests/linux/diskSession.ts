/**
 * Linux on its disk (docs/linux.md "The root disk"): hvm domains booting with no initramfs
 * and root=/dev/vda, their disk a qcow2 overlay over the shipped rootfs, under one
 * in-process hypervisor with real vCPU workers, through the toolstack (so xl.cfg's
 * `disk = [...]`, on_reboot = "restart" and destroy + create are the real paths). A
 * console per domain name, kept across restarts (a restarted domain gets a new domid).
 * Shared by disk.test.ts and the Linux dd bench (bench/diskLinux.ts).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Domain } from '../../src/core/xen/common/domain';
import { Hypervisor } from '../../src/core/xen/common/hypervisor';
import { Toolstack } from '../../src/core/tools/toolstack';
import { openDiskFile } from '../../src/node/blockFile';
import { nodeVcpuHost } from '../../src/node/vcpuHost';
import { projectRoot } from '../../src/node/paths';
import { INIT_PROMPT } from './session';

/** The shipped root file system (guests/linux/build.sh): ext2 in a qcow2, the read-only base of every overlay. */
export const ROOTFS_NAME = 'public/guests/linux/rootfs.qcow2';
/** The command line of the disk presets (examples/linux-*-disk.cfg). */
export const DISK_CMDLINE = 'console=ttyS0 earlycon=uart8250,mmio,0x10000000 root=/dev/vda rw';

export const DISK_GUESTS = {
  /** Linux 6.12, no MMU, M-mode. */
  nommu: { kernel: 'public/guests/linux/linux-6.12-nommu.Image', firmware: 'none', memory: 64 },
  /** Linux 6.1, Sv32, S-mode on hyperlab's SBI. */
  mmu: { kernel: 'public/guests/linux/linux-6.1-mmu.Image', firmware: 'sbi', memory: 128 },
} as const;
export type DiskGuest = keyof typeof DISK_GUESTS;

/**
 * An xl.cfg for `guest` booting from the overlay `overlay` (created over the rootfs if
 * missing); with `initramfs`, from the initramfs, whose init switches to the disk.
 */
export function diskConfig(name: string, guest: DiskGuest, overlay: string, opts: { initramfs?: boolean } = {}): string {
  const g = DISK_GUESTS[guest];
  return [
    `name = "${name}"`,
    'type = "hvm"',
    `firmware = "${g.firmware}"`,
    `memory = ${g.memory}`,
    `kernel = "${g.kernel}"`,
    ...(opts.initramfs ? ['ramdisk = "public/guests/linux/initramfs.cpio"', `cmdline = "${DISK_CMDLINE} initramfs_async=0"`] : [`cmdline = "${DISK_CMDLINE}"`]),
    `disk = [ "format=qcow2, vdev=xvda, access=rw, backing=${join(projectRoot(), ROOTFS_NAME)}, target=${overlay}" ]`,
    'on_poweroff = "preserve"',
    'on_reboot = "restart"',
  ].join('\n');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class LinuxDiskLab {
  readonly hv: Hypervisor;
  readonly ts: Toolstack;
  /** Console text by domain name, across restarts. */
  private readonly consoles = new Map<string, string>();
  /** Prompts already consumed, by domain name. */
  private readonly prompts = new Map<string, number>();

  /** The prompt each domain's console ends a command with (default: the Linux init's shell's). */
  private readonly promptOf = new Map<string, string>();

  constructor(workerScript: string, memoryMiB = 160, opts: { pcpus?: number } = {}) {
    const root = projectRoot();
    this.hv = new Hypervisor({ memoryMiB, pcpus: opts.pcpus ?? 1, host: nodeVcpuHost(workerScript) });
    this.ts = new Toolstack(this.hv, {
      readFile: (p) => readFileSync(isAbsolute(p) ? p : join(root, p)),
      openDisk: (spec) => openDiskFile(spec),
    });
    this.hv.on('console', (domid, b) => {
      const name = this.hv.domains.get(domid)?.name;
      if (name !== undefined) this.consoles.set(name, this.console(name) + Buffer.from(b).toString('latin1'));
    });
    this.hv.start();
  }

  create(config: string): Domain {
    return this.ts.create(config);
  }

  /** Another guest's prompt for `name` (a teaching OS's "tos$ "). */
  setPrompt(name: string, prompt: string): void {
    this.promptOf.set(name, prompt);
  }

  private prompt(name: string): string {
    return this.promptOf.get(name) ?? INIT_PROMPT;
  }

  console(name: string): string {
    return this.consoles.get(name) ?? '';
  }

  domain(name: string): Domain | undefined {
    return [...this.hv.domains.values()].find((d) => d.name === name);
  }

  /** Wait until `test` holds; a shutdown the caller did not ask for, or the deadline, throws with the console's tail. */
  async waitFor(name: string, test: () => boolean, what: string, timeoutMs: number, allowShutdown = false): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!test()) {
      const d = this.domain(name);
      if (!allowShutdown && d?.shutdownReason === 'poweroff')
        throw new Error(`${name} powered off before ${what}; console:\n${this.console(name).slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`${name}: timed out waiting for ${what}; console:\n${this.console(name).slice(-3000)}`);
      await sleep(5);
    }
  }

  /** Wait for the next prompt of `name` (after those already seen). */
  async nextPrompt(name: string, timeoutMs = 120_000): Promise<void> {
    const want = (this.prompts.get(name) ?? 0) + 1;
    const prompt = this.prompt(name);
    await this.waitFor(name, () => this.console(name).split(prompt).length - 1 >= want, `prompt ${want}`, timeoutMs);
    this.prompts.set(name, want);
  }

  /** Type a command line at the prompt and return what it printed (lines, "\r" removed) once the next prompt comes. */
  async run(name: string, line: string, timeoutMs = 120_000): Promise<string[]> {
    const d = this.domain(name);
    if (d === undefined) throw new Error(`no domain ${name}`);
    const from = this.console(name).length;
    this.hv.consoleInput(d.domid, new TextEncoder().encode(`${line}\n`));
    await this.nextPrompt(name, timeoutMs);
    const text = this.console(name).slice(from).replace(/\r\n/g, '\n');
    return text
      .slice(0, text.lastIndexOf(this.prompt(name)))
      .split('\n')
      .slice(1, -1);
  }

  /** Type `poweroff` and wait for the domain to shut down. */
  async poweroff(name: string, timeoutMs = 60_000): Promise<void> {
    const d = this.domain(name);
    if (d === undefined) throw new Error(`no domain ${name}`);
    this.hv.consoleInput(d.domid, new TextEncoder().encode('poweroff\n'));
    await this.waitFor(name, () => d.shutdownReason === 'poweroff', 'the power-off', timeoutMs, true);
  }

  destroy(name: string): void {
    const d = this.domain(name);
    if (d !== undefined) this.hv.destroyDomain(d.domid);
  }

  close(): void {
    this.hv.shutdownHost();
  }
}
