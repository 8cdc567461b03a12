/**
 * Console sessions with the Linux guest (docs/linux.md): boot it under `hyperlab run` or
 * under the QEMU reference machine, type one command line each time the init's prompt
 * appears, and collect the console.
 *
 * Input is typed at the prompt, never before: the kernel's 8250 driver empties the
 * UART's receive FIFO when the console is opened, so bytes that arrive earlier are lost
 * (how many depends on host timing, on QEMU as on hyperlab).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { projectRoot } from '../../src/node/paths';
import { findQemu, qemuArgs, stripTimingLines } from '../../src/node/qemu';

/** The project's root, found from package.json, so that this also works bundled (bench/linux.ts). */
const ROOT = projectRoot();
export const LINUX_DIR = join(ROOT, 'public', 'guests', 'linux');
/** Linux 6.12, rv32ima, no MMU, M-mode (guests/linux/build.sh). */
export const LINUX_NOMMU_IMAGE = join(LINUX_DIR, 'linux-6.12-nommu.Image');
export const LINUX_INITRAMFS = join(LINUX_DIR, 'initramfs.cpio');
/** The kernel command line both machines boot with. */
export const LINUX_APPEND = 'console=ttyS0 earlycon=uart8250,mmio,0x10000000 initramfs_async=0';
/** What the init prints when it waits for a command. */
export const INIT_PROMPT = 'hyperlab# ';
/**
 * The reference CPU: RV32IMA with Zicsr and Zifencei and M/S/U, i.e. hyperlab's hart.
 * QEMU 7.2's rv32 CPU also has Zba/Zbb/Zbc/Zbs on by default, which would show in the
 * device tree's riscv,isa; they are turned off here. Zihintpause cannot be turned off
 * in 7.2 (its riscv,isa ends in "_zihintpause"; PAUSE is a FENCE hint to hyperlab).
 */
export const QEMU_CPU_LINUX = 'rv32,c=false,f=false,d=false,h=false,sstc=false,debug=false,marchid=0,mimpid=0,' + 'zba=false,zbb=false,zbc=false,zbs=false';

export interface SessionOptions {
  /** Command lines (without newline), each typed when the prompt appears. */
  commands: string[];
  /** Kill the machine after this long. Default 60 s. */
  timeoutMs?: number;
  memMiB?: number;
  /** The kernel command line; default LINUX_APPEND, null for none (no --append / -append). */
  append?: string | null;
  /** The initramfs; default LINUX_INITRAMFS, null for none (booting from a disk). */
  initrd?: string | null;
  /** QEMU: a raw image as a virtio-blk-device (the root disk, /dev/vda). */
  disk?: string;
}

export interface SessionResult {
  /** The console, raw (the guest's newlines are "\r\n"). */
  stdout: string;
  stderr: string;
  exitCode: number | null;
  timedOut: boolean;
  /** Milliseconds from spawning the machine to the first prompt (NaN if it never came). */
  promptMs: number;
  wallMs: number;
}

/** Run `cmd args`, typing opts.commands at successive prompts. */
export function consoleSession(cmd: string, args: string[], opts: SessionOptions): Promise<SessionResult> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let scanned = 0; // prompts before this offset have been answered
    let next = 0;
    let promptMs = Number.NaN;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.stdin.on('error', () => {
      /* the machine may exit before reading everything */
    });
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString('latin1');
      for (;;) {
        const at = out.indexOf(INIT_PROMPT, scanned);
        if (at < 0) break;
        scanned = at + INIT_PROMPT.length;
        if (Number.isNaN(promptMs)) promptMs = performance.now() - start;
        if (next < opts.commands.length) child.stdin.write(`${opts.commands[next++]}\n`);
      }
    });
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString('utf8');
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        stdout: out,
        stderr: err,
        exitCode: timedOut ? null : code,
        timedOut,
        promptMs,
        wallMs: performance.now() - start,
      });
    });
  });
}

/** The hyperlab command line (bin/hyperlab.js run) for the Linux guest. */
export function hyperlabLinuxArgs(opts: Omit<SessionOptions, 'commands'> = {}): string[] {
  return [
    join(ROOT, 'bin', 'hyperlab.js'),
    'run',
    LINUX_NOMMU_IMAGE,
    '--mem',
    `${opts.memMiB ?? 128}M`,
    ...(opts.initrd === null ? [] : ['--initrd', opts.initrd ?? LINUX_INITRAMFS]),
    ...(opts.append === null ? [] : ['--append', opts.append ?? LINUX_APPEND]),
  ];
}

export function hyperlabSession(opts: SessionOptions): Promise<SessionResult> {
  return consoleSession(process.execPath, hyperlabLinuxArgs(opts), opts);
}

/** The same boot on QEMU: -kernel IMAGE -initrd INITRAMFS -append ARGS. */
export function qemuLinuxArgs(opts: Omit<SessionOptions, 'commands'> = {}): string[] {
  return qemuArgs(LINUX_NOMMU_IMAGE, {
    cpu: QEMU_CPU_LINUX,
    memMiB: opts.memMiB ?? 128,
    extraArgs: [...qemuBootArgs(opts), ...(opts.append === null ? [] : ['-append', opts.append ?? LINUX_APPEND])],
  });
}

/** -initrd, and the disk as QEMU's virt board takes it: a drive with no interface and a virtio-blk-device on the virtio-mmio bus. */
function qemuBootArgs(opts: Omit<SessionOptions, 'commands'>): string[] {
  return [
    ...(opts.initrd === null ? [] : ['-initrd', opts.initrd ?? LINUX_INITRAMFS]),
    ...(opts.disk === undefined ? [] : ['-drive', `if=none,file=${opts.disk},format=raw,id=d`, '-device', 'virtio-blk-device,drive=d']),
  ];
}

export function qemuSession(opts: SessionOptions): Promise<SessionResult> {
  const qemu = findQemu();
  if (qemu === null) return Promise.reject(new Error('qemu-system-riscv32 not found'));
  return consoleSession(qemu, qemuLinuxArgs(opts), opts);
}

/** Linux 6.1, rv32 with the MMU, S-mode (guests/linux/build.sh). */
export const LINUX_MMU_IMAGE = join(LINUX_DIR, 'linux-6.1-mmu.Image');
/**
 * The M-mode SBI firmware QEMU boots kernel 2 with (guests/linux/qemu-sbi-shim/shim.S,
 * built by build.sh): Debian's QEMU has OpenSBI only for riscv64.
 */
export const QEMU_SBI_SHIM = join(ROOT, 'guests', 'linux', 'qemu-sbi-shim', 'shim.bin');

/** Kernel 2 on QEMU: -bios SHIM (the kernel then goes at 0x80400000) -kernel IMAGE -initrd -append. */
export function qemuSbiLinuxArgs(opts: Omit<SessionOptions, 'commands'> = {}): string[] {
  // qemuArgs says -bios none; a second -bios takes its place.
  return qemuArgs(LINUX_MMU_IMAGE, {
    cpu: QEMU_CPU_LINUX,
    memMiB: opts.memMiB ?? 128,
    extraArgs: ['-bios', QEMU_SBI_SHIM, ...qemuBootArgs(opts), ...(opts.append === null ? [] : ['-append', opts.append ?? LINUX_APPEND])],
  });
}

export function qemuSbiSession(opts: SessionOptions): Promise<SessionResult> {
  const qemu = findQemu();
  if (qemu === null) return Promise.reject(new Error('qemu-system-riscv32 not found'));
  return consoleSession(qemu, qemuSbiLinuxArgs(opts), opts);
}

/**
 * Kernel 2's console with what differs between hyperlab and QEMU + the shim masked, on
 * top of filterLinuxConsole(): QEMU loads the kernel at 0x80400000 after its firmware, so
 * Linux ignores the 4 MiB below it ("OF: fdt: Ignoring memory range", dropped) and the
 * memory ranges and page counts differ (masked); hyperlab's firmware takes no guest RAM
 * and the kernel starts at 0x80000000. The PLIC's "mapped N interrupts" (6.1 says
 * "plic:") is masked for the same reason as 6.12's.
 */
export function filterSbiLinuxConsole(text: string): string {
  return filterLinuxConsole(text)
    .split(/(?<=\n)/)
    .filter((line) => !line.startsWith('OF: fdt: Ignoring memory range'))
    .map((line) =>
      line
        .replace(/\[mem 0x[0-9a-f]+-0x([0-9a-f]+)\]/, '[mem _-0x$1]')
        .replace(/^(Built 1 zonelists, mobility grouping on\. {2}Total pages: )\d+/, '$1_')
        .replace(/^Memory: _K\/\d+K available /, 'Memory: _K/_K available ') // filterLinuxConsole masked the rest
        .replace(/^(plic: .*: mapped )\d+( interrupts)/, '$1_$2'),
    )
    .join('');
}

/**
 * The console lines that may differ between QEMU and hyperlab, and how they are
 * compared (docs/linux.md has the reasons):
 *   - "timing:" lines (the init's `count`), dropped, as for every guest;
 *   - "random: crng init done", dropped: QEMU puts a random rng-seed in /chosen, which
 *     seeds the kernel's RNG at once; hyperlab's tree has none, so the message comes
 *     whenever enough entropy has been gathered, if at all;
 *   - "Memory: ...K/...K available (..., ...K reserved, ...)": the available and reserved
 *     amounts are masked. They count the pages the device tree and its unflattened copy
 *     take, and QEMU's tree describes devices hyperlab does not have (pci, flash, fw-cfg,
 *     platform bus, pmu);
 *   - "riscv-plic: ...: mapped N interrupts": N is masked; it is the tree's riscv,ndev,
 *     96 on QEMU 7.2 and 95 on hyperlab (src/core/board/virtFdt.ts).
 * Line endings are normalised to "\n".
 */
export function filterLinuxConsole(text: string): string {
  return stripTimingLines(text.replace(/\r\n/g, '\n'))
    .split(/(?<=\n)/)
    .filter((line) => !line.startsWith('random: crng init done'))
    .map((line) =>
      line
        .replace(/^Memory: \d+K\/(\d+K) available \((.*), \d+K reserved, /, 'Memory: _K/$1 available ($2, _K reserved, ')
        .replace(/^(riscv-plic: .*: mapped )\d+( interrupts)/, '$1_$2'),
    )
    .join('');
}
