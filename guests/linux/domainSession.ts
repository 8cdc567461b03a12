/**
 * Booting a Linux guest as an hvm domain under an in-process hypervisor with real vCPU
 * workers (one pCPU), typing at the init's prompt and counting what it cost: console
 * bytes, exits by reason, instructions, time. The kernels: Linux 6.12 without an MMU in
 * M-mode (firmware "none"), and Linux 6.1 with the MMU in S-mode (firmware "sbi") on the
 * UART (ttyS0) or the SBI console (hvc0). Shared by the guest tests (sbi.test.ts) and the
 * benchmarks (bench/linux.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Runstate, type Domain } from '../../src/core/xen/common/domain';
import { Hypervisor } from '../../src/core/xen/common/hypervisor';
import { Toolstack } from '../../src/core/tools/toolstack';
import { nodeVcpuHost } from '../../src/node/vcpuHost';
import { projectRoot } from '../../src/node/paths';
import { INIT_PROMPT } from './session';

export const INITRAMFS_NAME = 'public/guests/linux/initramfs.cpio';
/** The guests: kernel, firmware and command line (the console). */
export const LINUX_GUESTS = {
  /** Linux 6.12, no MMU, M-mode from 0x80000000 (QEMU's -bios none). */
  'nommu-ttyS0': {
    kernel: 'public/guests/linux/linux-6.12-nommu.Image',
    firmware: 'none',
    cmdline: 'console=ttyS0 earlycon=uart8250,mmio,0x10000000 initramfs_async=0',
  },
  /** Linux 6.1, Sv32, S-mode on hyperlab's SBI, on the emulated 16550A. */
  'sbi-ttyS0': {
    kernel: 'public/guests/linux/linux-6.1-mmu.Image',
    firmware: 'sbi',
    cmdline: 'console=ttyS0 earlycon=uart8250,mmio,0x10000000 initramfs_async=0',
  },
  /** The same on the SBI console. */
  'sbi-hvc0': { kernel: 'public/guests/linux/linux-6.1-mmu.Image', firmware: 'sbi', cmdline: 'console=hvc0 earlycon=sbi initramfs_async=0' },
} as const;
export type LinuxGuest = keyof typeof LINUX_GUESTS;

export interface LinuxBootOptions {
  guest: LinuxGuest;
  /** The path of the vCPU worker script (bundled). */
  workerScript: string;
  /** Command lines typed at successive prompts. */
  commands?: string[];
  /** After the commands: type `poweroff` and wait for the domain to shut down. */
  poweroff?: boolean;
  memMiB?: number;
  vcpus?: number;
  timeoutMs?: number;
}

export interface LinuxBootResult {
  console: string;
  /** Host ms from domain creation to the first prompt. */
  promptMs: number;
  /** Guest instructions the domain retired up to the first prompt, counted when it first idles there. */
  promptInsns: number;
  /** CPU time (ms) the domain's vCPUs spent running guest code up to then. */
  promptCpuMs: number;
  /** Console bytes and exits by reason up to the first prompt. */
  promptBytes: number;
  promptExits: Record<string, number>;
  /** The same at the end of the session. */
  bytes: number;
  exits: Record<string, number>;
  /** Why the domain shut down ("poweroff (SBI system_reset(0, 0))"), if it did. */
  shutdown?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function bootLinuxDomain(o: LinuxBootOptions): Promise<LinuxBootResult> {
  const g = LINUX_GUESTS[o.guest];
  const root = projectRoot();
  const hv = new Hypervisor({ memoryMiB: (o.memMiB ?? 128) + 32, pcpus: 1, host: nodeVcpuHost(o.workerScript) });
  const ts = new Toolstack(hv, { readFile: (p) => readFileSync(join(root, p)) });
  try {
    hv.start();
    const t0 = performance.now();
    const d = ts.create(
      [
        'name = "linux"',
        'type = "hvm"',
        `firmware = "${g.firmware}"`,
        `memory = ${o.memMiB ?? 128}`,
        `vcpus = ${o.vcpus ?? 1}`,
        `kernel = "${g.kernel}"`,
        `ramdisk = "${INITRAMFS_NAME}"`,
        `cmdline = "${g.cmdline}"`,
        'on_poweroff = "preserve"',
      ].join('\n'),
    );
    let out = '';
    let bytes = 0;
    hv.on('console', (domid, b) => {
      if (domid !== d.domid) return;
      bytes += b.length;
      out += Buffer.from(b).toString('latin1');
    });
    const deadline = Date.now() + (o.timeoutMs ?? 60_000);
    const waitFor = async (test: () => boolean, what: string): Promise<void> => {
      while (!test()) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}; exits ${JSON.stringify(Object.fromEntries(d.exits))}; console:\n${out.slice(-2000)}`);
        if (d.shutdownReason) throw new Error(`the domain shut down (${d.shutdownDetail ?? ''}) before ${what}; console:\n${out}`);
        await sleep(2);
      }
    };
    let prompts = 0;
    const nextPrompt = async (): Promise<void> => {
      const want = prompts + 1;
      await waitFor(() => out.split(INIT_PROMPT).length - 1 >= want, `prompt ${want}`);
      prompts = want;
    };
    await nextPrompt();
    const promptMs = performance.now() - t0;
    const promptBytes = bytes;
    const promptExits = Object.fromEntries(d.exits);
    // vCPUs account instructions when a slice ends: count them once vCPU 0 idles at the prompt.
    await waitFor(() => d.vcpus[0]!.runstate === Runstate.BLOCKED, 'the vCPU to idle at the prompt');
    const promptInsns = d.vcpus.reduce((n, v) => n + v.instret, 0);
    const promptCpuMs = d.cpuNs / 1e6;
    for (const c of o.commands ?? []) {
      hv.consoleInput(d.domid, new TextEncoder().encode(`${c}\n`));
      await nextPrompt();
    }
    let shutdown: string | undefined;
    if (o.poweroff) {
      hv.consoleInput(d.domid, new TextEncoder().encode('poweroff\n'));
      await waitForShutdown(d, deadline, () => out);
      shutdown = `${d.shutdownReason} (${d.shutdownDetail ?? ''})`;
    }
    return {
      console: out,
      promptMs,
      promptInsns,
      promptCpuMs,
      promptBytes,
      promptExits,
      bytes,
      exits: Object.fromEntries(d.exits),
      ...(shutdown ? { shutdown } : {}),
    };
  } finally {
    hv.shutdownHost();
  }
}

async function waitForShutdown(d: Domain, deadline: number, out: () => string): Promise<void> {
  while (!d.shutdownReason) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for the domain to shut down; console:\n${out()}`);
    await sleep(2);
  }
}

/** Exits of one reason per console byte. */
export function exitsPerByte(exits: Record<string, number>, reason: string, bytes: number): number {
  return (exits[reason] ?? 0) / bytes;
}
