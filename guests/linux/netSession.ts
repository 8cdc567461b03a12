/**
 * Linux on the network (docs/linux.md "The network"): hvm Linux domains booted from the
 * initramfs with a vif (virtio-net on a virtio-mmio slot, a port on Domain-0's xenbr0) and
 * the kernel's own IP autoconfiguration (`ip=`), beside pv teaching OS domains, under one
 * in-process hypervisor (LinuxDiskLab) with Domain-0's xl (ping, network-list) at hand.
 * Shared by network.test.ts and the network bench (bench/net.ts).
 */
import { runXl } from '../../src/core/tools/xl';
import { guestImage } from '../../src/node/paths';
import { LinuxDiskLab } from './diskSession';
import { INITRAMFS_NAME } from './domainSession';

export const NET_GUESTS = {
  /** Linux 6.12, no MMU, M-mode. */
  nommu: { kernel: 'public/guests/linux/linux-6.12-nommu.Image', firmware: 'none', memory: 64 },
  /** Linux 6.1, Sv32, S-mode on hyperlab's SBI. */
  mmu: { kernel: 'public/guests/linux/linux-6.1-mmu.Image', firmware: 'sbi', memory: 128 },
} as const;
export type NetGuest = keyof typeof NET_GUESTS;

/** The kernel's `ip=` for a static address on xenbr0's 10.0.0.0/24 with Domain-0 as the gateway (Documentation/admin-guide/nfs/nfsroot.rst). */
export const staticIp = (addr: string): string => `ip=${addr}::10.0.0.1:255.255.255.0::eth0:off`;

/**
 * An xl.cfg for a Linux domain on xenbr0: `ip` is the kernel's ip= (`ip=dhcp` or
 * staticIp(...)), `vif` the vif spec (e.g. `mac=00:16:3e:00:02:01, ip=10.0.0.12`).
 */
export function linuxNetConfig(name: string, guest: NetGuest, vif: string, ip: string): string {
  const g = NET_GUESTS[guest];
  return [
    `name = "${name}"`,
    'type = "hvm"',
    `firmware = "${g.firmware}"`,
    `memory = ${g.memory}`,
    `kernel = "${g.kernel}"`,
    `ramdisk = "${INITRAMFS_NAME}"`,
    `cmdline = "console=ttyS0 earlycon=uart8250,mmio,0x10000000 initramfs_async=0 ${ip}"`,
    `vif = [ '${vif}' ]`,
  ].join('\n');
}

/** A pv teaching OS domain on xenbr0 (its prompt is `NAME$ `; `ifconfig dhcp` takes the vif's ip=). */
export function teachingOsNetConfig(name: string, vif: string): string {
  return [`name = "${name}"`, 'type = "pv"', 'memory = 16', `kernel = "${guestImage('teaching-os-pv')}"`, `vif = [ '${vif}' ]`].join('\n');
}

/** A lab of Linux and teaching OS domains on xenbr0, typed at by name, with Domain-0's xl. */
export class NetLab extends LinuxDiskLab {
  constructor(workerScript: string, memoryMiB = 256, pcpus = 2) {
    super(workerScript, memoryMiB, { pcpus });
  }

  /** Run an xl command in Domain-0 (e.g. `ping -c 2 10.0.0.11`); its output lines and status. */
  async xl(...argv: string[]): Promise<{ out: string; status: number }> {
    const lines: string[] = [];
    const io = { out: (t: string) => lines.push(t), readFile: () => '', writeBytes: () => {} };
    try {
      const r = runXl(this.ts, argv, io);
      const status = r.pending ? await r.pending : r.status;
      return { out: lines.join('\n'), status };
    } catch (e) {
      return { out: (e as Error).message, status: 1 };
    }
  }

  /** Type a line at `name`'s console without waiting for the prompt; the console's length before it (for waitText). */
  type(name: string, line: string): number {
    const d = this.domain(name);
    if (d === undefined) throw new Error(`no domain ${name}`);
    const from = this.console(name).length;
    this.hv.consoleInput(d.domid, new TextEncoder().encode(`${line}\n`));
    return from;
  }

  /** Wait until `name`'s console, from offset `from`, holds `text` (e.g. a listener's "listening on"). */
  async waitText(name: string, text: string, from: number, timeoutMs = 120_000): Promise<void> {
    await this.waitFor(name, () => this.console(name).indexOf(text, from) >= 0, JSON.stringify(text), timeoutMs);
  }

  /** Type at two consoles at once (a listener and its client) and wait for both prompts. */
  async runBoth(a: string, lineA: string, b: string, lineB: string, timeoutMs = 240_000): Promise<[string[], string[]]> {
    return Promise.all([this.run(a, lineA, timeoutMs), this.run(b, lineB, timeoutMs)]);
  }
}
