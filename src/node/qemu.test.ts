import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { QEMU_CPU_RV32IMA, findQemu, qemuArgs, qemuAvailable, runQemu, stripTimingLines } from './qemu';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HELLO = join(ROOT, 'public', 'guests', 'hello.elf');
const scratch = mkdtempSync(join(tmpdir(), 'hyperlab-qemu-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function fakeExecutable(path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, 0o755);
  return path;
}

describe('stripTimingLines', () => {
  it('drops exactly the lines that start with "timing:"', () => {
    const text = 'a\r\ntiming: 12 ticks\r\nb timing: kept\r\n timing: kept too\ntiming:\nc';
    expect(stripTimingLines(text)).toBe('a\r\nb timing: kept\r\n timing: kept too\nc');
  });
  it('handles a last line without a newline, and empty input', () => {
    expect(stripTimingLines('x\ntiming: 1')).toBe('x\n');
    expect(stripTimingLines('')).toBe('');
  });
});

describe('findQemu', () => {
  it('prefers HYPERLAB_QEMU and rejects a path that is not executable', () => {
    const fake = fakeExecutable(join(scratch, 'forced', 'my-qemu'));
    expect(findQemu({ HYPERLAB_QEMU: fake, PATH: '' })).toBe(fake);
    expect(findQemu({ HYPERLAB_QEMU: join(scratch, 'missing'), PATH: '/usr/bin' })).toBeNull();
  });
  it('searches PATH for qemu-system-riscv32', () => {
    const empty = join(scratch, 'empty');
    mkdirSync(empty, { recursive: true });
    expect(findQemu({ PATH: empty })).toBeNull();
    const fake = fakeExecutable(join(scratch, 'bin', 'qemu-system-riscv32'));
    expect(findQemu({ PATH: `${empty}:${dirname(fake)}` })).toBe(fake);
  });
});

describe('qemuArgs', () => {
  it('boots the image on virt without firmware, serial on stdio, the RV32IMA CPU', () => {
    const args = qemuArgs('x.elf', { memMiB: 64, extraArgs: ['-icount', 'shift=0'] });
    expect(args.join(' ')).toBe(
      `-machine virt -bios none -m 64M -smp 1 -cpu ${QEMU_CPU_RV32IMA} -display none ` + '-serial stdio -monitor none -no-reboot -kernel x.elf -icount shift=0',
    );
    expect(qemuArgs('x.elf', { cpu: null })).not.toContain('-cpu');
    expect(qemuArgs('x.elf')).toContain('128M');
  });
});

describe('runQemu', () => {
  it('rejects when QEMU cannot be found', async () => {
    const saved = process.env['HYPERLAB_QEMU'];
    process.env['HYPERLAB_QEMU'] = join(scratch, 'no-such-qemu');
    try {
      await expect(runQemu(HELLO)).rejects.toThrow(/not found/);
    } finally {
      if (saved === undefined) delete process.env['HYPERLAB_QEMU'];
      else process.env['HYPERLAB_QEMU'] = saved;
    }
  });
});

describe.skipIf(!qemuAvailable())('runQemu with QEMU (skipped without qemu-system-riscv32)', () => {
  it('returns the UART output and the finisher exit status', async () => {
    const r = await runQemu(HELLO, { input: 'ignored input\n', timeoutMs: 20_000 });
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Hello from hyperlab\r\n');
    expect(r.wallMs).toBeGreaterThan(0);
  });

  it('also runs on QEMU default CPU', async () => {
    const r = await runQemu(HELLO, { cpu: null, memMiB: 256, timeoutMs: 20_000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('hello: PASS');
  });

  it('kills a guest that never stops', async () => {
    const spin = join(scratch, 'spin.bin');
    writeFileSync(spin, Buffer.from([0x6f, 0x00, 0x00, 0x00])); /* j . (raw image at 0x80000000) */
    const r = await runQemu(spin, { timeoutMs: 1_000 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.wallMs).toBeGreaterThanOrEqual(900);
  });

  it('reports QEMU failing to start as a non-zero exit with its message', async () => {
    const r = await runQemu(join(scratch, 'no-such-image.elf'), { timeoutMs: 20_000 });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/no-such-image/);
  });
});
