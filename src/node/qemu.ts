/**
 * The QEMU reference harness: runs a guest image on `qemu-system-riscv32 -machine virt
 * -bios none`, the machine hvm guests believe they run on (docs/hart.md, the board), and
 * returns what it printed on its UART. Differential tests run the same image here and
 * on hyperlab's hart and compare the two outputs after stripTimingLines().
 *
 * QEMU is found through the environment variable HYPERLAB_QEMU (a path to the binary)
 * or else as `qemu-system-riscv32` on PATH.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';

/**
 * The CPU model QEMU should emulate: hyperlab's hart, RV32IMA + Zicsr + Zifencei with
 * S and U modes and privileged spec 1.12. QEMU's default `rv32` CPU also has C, F, D,
 * H, Sstc, Zba/Zbb/Zbc/Zbs and the debug triggers (tselect...), which would make QEMU
 * accept instructions (and show CSRs) that hyperlab's hart rejects, so the reference
 * machine turns them off. marchid and mimpid default to QEMU's version number; both
 * read 0 here.
 * Pass `cpu: null` to run QEMU's default CPU instead.
 */
export const QEMU_CPU_RV32IMA =
  'rv32,c=false,f=false,d=false,h=false,sstc=false,zba=false,zbb=false,zbc=false,zbs=false,' + 'debug=false,marchid=0,mimpid=0,priv_spec=v1.12.0';

export interface QemuRunOptions {
  /** QEMU -cpu value; default QEMU_CPU_RV32IMA, null for QEMU's own default CPU. */
  cpu?: string | null;
  /** Guest RAM in MiB (QEMU -m). Default 128, QEMU's own default for `virt`. */
  memMiB?: number;
  /** Bytes typed on the guest's UART (written to QEMU's stdin, which is then closed). */
  input?: string;
  /** Kill QEMU after this many milliseconds. Default 60 000. */
  timeoutMs?: number;
  /** More QEMU arguments, appended after the standard ones (e.g. ['-icount', 'shift=0']). */
  extraArgs?: string[];
}

export interface QemuRunResult {
  /** Everything the guest wrote to its UART (raw: the guests' newlines are "\r\n"). */
  stdout: string;
  /** QEMU's own diagnostics, if any. */
  stderr: string;
  /** QEMU's exit status: 0 after the test finisher's pass, its code after a fail; null if killed. */
  exitCode: number | null;
  timedOut: boolean;
  wallMs: number;
}

const QEMU_BINARY = 'qemu-system-riscv32';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The QEMU binary to use, or null: $HYPERLAB_QEMU if set, else qemu-system-riscv32 on PATH. */
export function findQemu(env: NodeJS.ProcessEnv = process.env): string | null {
  const forced = env['HYPERLAB_QEMU'];
  if (forced !== undefined && forced !== '') return isExecutable(forced) ? forced : null;
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, QEMU_BINARY);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

export function qemuAvailable(): boolean {
  return findQemu() !== null;
}

/**
 * The command line for one run: no monitor, no display, no firmware (the reset vector
 * enters the image at 0x80000000 in M-mode with a0 = hartid, a1 = the device tree,
 * a2 = fw_dynamic_info). -no-reboot turns a guest reset into an exit. The serial port
 * is stdio when there is input to type; otherwise a file (`serialFile`), because QEMU
 * drops UART bytes when a busy reader leaves its stdout pipe full.
 */
export function qemuArgs(image: string, opts: QemuRunOptions = {}, serialFile?: string): string[] {
  return [
    '-machine',
    'virt',
    '-bios',
    'none',
    '-m',
    `${opts.memMiB ?? 128}M`,
    '-smp',
    '1',
    ...(opts.cpu === null ? [] : ['-cpu', opts.cpu ?? QEMU_CPU_RV32IMA]),
    '-display',
    'none',
    '-serial',
    serialFile !== undefined ? `file:${serialFile}` : 'stdio',
    '-monitor',
    'none',
    '-no-reboot',
    '-kernel',
    image,
    ...(opts.extraArgs ?? []),
  ];
}

/** Run `image` under QEMU until it powers off, exits or times out. */
export function runQemu(image: string, opts: QemuRunOptions = {}): Promise<QemuRunResult> {
  const qemu = findQemu();
  if (qemu === null) {
    return Promise.reject(new Error(`${QEMU_BINARY} not found (set HYPERLAB_QEMU or add it to PATH)`));
  }
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const start = performance.now();
  const serialFile = opts.input ? undefined : join(mkdtempSync(join(tmpdir(), 'hyperlab-qemu-')), 'serial.out');
  return new Promise((resolve, reject) => {
    const child = spawn(qemu, qemuArgs(image, opts, serialFile), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {
      /* QEMU may exit before reading its input: EPIPE is not an error of the run. */
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      let serial = Buffer.concat(out);
      if (serialFile !== undefined) {
        serial = existsSync(serialFile) ? readFileSync(serialFile) : Buffer.alloc(0);
        rmSync(dirname(serialFile), { recursive: true, force: true });
      }
      resolve({
        stdout: serial.toString('latin1'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode: timedOut ? null : code,
        timedOut,
        wallMs: performance.now() - start,
      });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Drop the lines that may differ between runs and machines: by convention
 * (docs/guests.md) only lines starting with "timing:". Line endings are kept.
 */
export function stripTimingLines(text: string): string {
  return text
    .split(/(?<=\n)/)
    .filter((line) => !line.startsWith('timing:'))
    .join('');
}
