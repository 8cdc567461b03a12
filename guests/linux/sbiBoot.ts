/**
 * Booting the MMU kernel (Linux 6.1, S-mode) as an hvm domain with firmware = "sbi" under
 * an in-process hypervisor with real vCPU workers, typing at the init's prompt and
 * counting what it cost: console bytes, exits by reason, instructions, time. Shared by the
 * guest tests (sbi.test.ts) and the benchmarks (bench/linux.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Domain } from '../../src/core/xen/domain';
import { Hypervisor } from '../../src/core/xen/hypervisor';
import { Toolstack } from '../../src/core/xen/toolstack';
import { nodeVcpuHost } from '../../src/node/vcpuHost';
import { projectRoot } from '../../src/node/paths';
import { INIT_PROMPT } from './session';

export const LINUX_MMU_IMAGE_NAME = 'public/guests/linux/linux-6.1-mmu.Image';
export const INITRAMFS_NAME = 'public/guests/linux/initramfs.cpio';
/** The two consoles the kernel can be given: the emulated 16550A, or the SBI console. */
export const SBI_CMDLINES = {
  ttyS0: 'console=ttyS0 earlycon=uart8250,mmio,0x10000000 initramfs_async=0',
  hvc0: 'console=hvc0 earlycon=sbi initramfs_async=0',
} as const;
export type SbiConsole = keyof typeof SBI_CMDLINES;

export interface SbiBootOptions {
  console: SbiConsole;
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

export interface SbiBootResult {
  console: string;
  /** Host ms from domain creation to the first prompt. */
  promptMs: number;
  /** Guest instructions retired by the domain when the first prompt appeared. */
  promptInsns: number;
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

export async function bootSbiLinux(o: SbiBootOptions): Promise<SbiBootResult> {
  const root = projectRoot();
  const hv = new Hypervisor({ memoryMiB: (o.memMiB ?? 128) + 32, pcpus: 1, host: nodeVcpuHost(o.workerScript) });
  const ts = new Toolstack(hv, { readFile: (p) => readFileSync(join(root, p)) });
  try {
    hv.start();
    const t0 = performance.now();
    const d = ts.create([
      'name = "linux"', 'type = "hvm"', 'firmware = "sbi"', `memory = ${o.memMiB ?? 128}`, `vcpus = ${o.vcpus ?? 1}`,
      `kernel = "${LINUX_MMU_IMAGE_NAME}"`, `ramdisk = "${INITRAMFS_NAME}"`, `cmdline = "${SBI_CMDLINES[o.console]}"`,
      'on_poweroff = "preserve"',
    ].join('\n'));
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
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; exits ${JSON.stringify(Object.fromEntries(d.exits))}; console:\n${out.slice(-2000)}`);
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
    const promptInsns = d.vcpus.reduce((n, v) => n + v.instret, 0);
    const promptBytes = bytes;
    const promptExits = Object.fromEntries(d.exits);
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
    return { console: out, promptMs, promptInsns, promptBytes, promptExits, bytes, exits: Object.fromEntries(d.exits), ...(shutdown ? { shutdown } : {}) };
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
