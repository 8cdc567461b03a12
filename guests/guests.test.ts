/**
 * The shipped guest images (public/guests/*.elf): each one runs to completion under
 * QEMU with the output it promises, and the committed images are exactly what
 * guests/build.sh produces from the sources in guests/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { qemuAvailable, runQemu, stripTimingLines } from '../src/node/qemu';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const IMAGES = join(ROOT, 'public', 'guests');
const image = (name: string): string => join(IMAGES, `${name}.elf`);
const lines = (text: string): string[] => text.split(/\r?\n/).filter((l) => l !== '');

const ISA_GROUPS = [
  'rv32i',
  'rv32i-mem',
  'rv32m',
  'rv32a',
  'zicsr',
  'zifencei',
  'machine',
  'exceptions',
  'privilege',
  'delegation',
  'interrupts',
  'plic',
  'counters',
  'pmp',
  'sv32',
  'sv32-perm',
];

const HAVE_QEMU = qemuAvailable();
if (!HAVE_QEMU) {
  console.warn('guests.test.ts: qemu-system-riscv32 not found (set HYPERLAB_QEMU): skipping QEMU runs');
}

function toolchainMissing(): string | null {
  for (const [tool, args] of [
    ['clang', ['--version']],
    ['ld.lld', ['--version']],
  ] as const) {
    const r = spawnSync(tool, [...args], { stdio: 'ignore' });
    if (r.error !== undefined || r.status !== 0) return `${tool} not found`;
  }
  const libgcc = process.env['LIBGCC'] ?? '/usr/lib/gcc/riscv64-unknown-elf/12.2.0/rv32im/ilp32/libgcc.a';
  return existsSync(libgcc) ? null : `libgcc.a not found at ${libgcc}`;
}
const NO_TOOLCHAIN = toolchainMissing();
if (NO_TOOLCHAIN !== null) {
  console.warn(`guests.test.ts: ${NO_TOOLCHAIN}: skipping the reproducible-build test`);
}

describe.skipIf(!HAVE_QEMU)('guests under QEMU (skipped without qemu-system-riscv32)', () => {
  it('hello greets, reports its boot registers and powers off with pass', async () => {
    const r = await runQemu(image('hello'), { timeoutMs: 20_000 });
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'Hello from hyperlab',
      'RISC-V RV32IMA, machine mode, bare metal',
      'hartid: 0',
      'fdt: 0x87e00000 (magic ok)',
      'hello: PASS',
    ]);
  });

  it('isa-selftest passes every group', async () => {
    const r = await runQemu(image('isa-selftest'), { timeoutMs: 30_000 });
    const out = lines(r.stdout);
    expect(out[0]).toMatch(/^isa-selftest: RV32IMA/);
    const groups = out.slice(1, -1);
    expect(groups.map((l) => l.split(':')[0])).toEqual(ISA_GROUPS);
    for (const line of groups) expect(line).toMatch(/^[\w-]+: ok \(\d+ checks\)$/);
    expect(out.at(-1)).toBe('isa-selftest: PASS');
    expect(r.exitCode).toBe(0);
  });

  it('cpubench passes its self-check and prints one timing line', async () => {
    const r = await runQemu(image('cpubench'), { timeoutMs: 60_000 });
    expect(r.exitCode).toBe(0);
    expect(lines(stripTimingLines(r.stdout))).toEqual([
      'cpubench: linked list, matrix multiply, state machine, CRC16',
      'iterations: 6000',
      'crc: list 0x84ad matrix 0x3d8c state 0x25db total 0xdd88',
      'cpubench: PASS',
    ]);
    const timing = lines(r.stdout).filter((l) => l.startsWith('timing:'));
    expect(timing).toHaveLength(1);
    expect(timing[0]).toMatch(/^timing: \d+ ticks, \d+\.\d{3} s, \d+\.\d{2} iterations\/s$/);
  });

  it('outputs are identical between runs once timing lines are dropped', async () => {
    for (const name of ['hello', 'isa-selftest', 'cpubench']) {
      const [a, b] = await Promise.all([runQemu(image(name)), runQemu(image(name))]);
      expect(stripTimingLines(a.stdout)).toBe(stripTimingLines(b.stdout));
    }
  });
});

describe.skipIf(NO_TOOLCHAIN !== null)('guest images (skipped without clang, ld.lld, libgcc)', () => {
  it('public/guests/*.elf are byte-for-byte what guests/build.sh builds', () => {
    const out = mkdtempSync(join(tmpdir(), 'hyperlab-guests-'));
    try {
      const r = spawnSync('bash', [join(ROOT, 'guests', 'build.sh'), '--out', out], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const built = readdirSync(out)
        .filter((f) => f.endsWith('.elf'))
        .sort();
      const committed = readdirSync(IMAGES)
        .filter((f) => f.endsWith('.elf'))
        .sort();
      expect(built).toEqual(committed);
      for (const f of built) {
        const same = readFileSync(join(out, f)).equals(readFileSync(join(IMAGES, f)));
        expect(same, `${f} differs from a fresh build: run npm run guests and commit`).toBe(true);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
