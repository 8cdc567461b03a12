import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../core/cpu/asm';
import { guestImage, projectRoot } from './paths';

const bin = join(projectRoot(), 'bin', 'hyperlab.js');
const tmp = mkdtempSync(join(tmpdir(), 'hyperlab-cli-'));

function hyperlab(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A flat binary: the words of `program`, little-endian. */
function rawImage(name: string, program: number[]): string {
  const path = join(tmp, name);
  writeFileSync(path, new Uint8Array(Int32Array.from(program).buffer));
  return path;
}

/** Writes `value` to the SiFive test finisher at 0x100000. */
function finisherProgram(value: number): number[] {
  const lo = (value << 20) >> 20;
  return [
    assemble('lui', { rd: 5, imm: 0x100 }),
    assemble('lui', { rd: 6, imm: ((value - lo) >>> 12) & 0xfffff }),
    assemble('addi', { rd: 6, rs1: 6, imm: lo }),
    assemble('sw', { rs1: 5, rs2: 6 }),
  ];
}

describe('hyperlab --help', () => {
  it.each([
    [['--help'], 'usage: hyperlab COMMAND'],
    [['-h'], 'usage: hyperlab COMMAND'],
    [['help'], 'usage: hyperlab COMMAND'],
    [['run', '--help'], 'usage: hyperlab run IMAGE'],
    [['run', '--mem', '64M', '-h'], 'usage: hyperlab run IMAGE'],
    [['host', '--help'], 'usage: hyperlab host'],
    [['host', '-h'], 'usage: hyperlab host'],
    [['bench', '--help'], 'usage: hyperlab bench'],
    [['bench', '-h'], 'usage: hyperlab bench'],
    [['help', 'host'], 'usage: hyperlab host'],
    [['help', '--help'], 'usage: hyperlab help'],
  ])('%j: usage on stdout, status 0', (args, usage) => {
    const r = hyperlab(args);
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith(usage)).toBe(true);
    expect(r.stdout).toMatch(/-h, --help|COMMAND --help|hyperlab help/);
    expect(r.stderr).toBe('');
  });

  it('every command named in the usage answers --help', () => {
    const commands = [...hyperlab(['--help']).stdout.matchAll(/^ {2}(\w+)/gm)].map((m) => m[1]!);
    expect(commands).toEqual(['run', 'host', 'bench', 'help']);
    for (const c of commands) expect(hyperlab([c, '--help']).status).toBe(0);
  });
});

describe('hyperlab run', () => {
  it('boots hello, prints its console and exits 0 on the finisher PASS', () => {
    const r = hyperlab(['run', guestImage('hello')]);
    expect(r.stdout).toContain('Hello from hyperlab');
    expect(r.status).toBe(0);
  });

  it('a raw image that writes FAIL with code 7 exits with status 7', () => {
    const r = hyperlab(['run', rawImage('fail7.bin', finisherProgram(0x3333 | (7 << 16)))]);
    expect(r.status).toBe(7);
  });

  it('--max-insns that runs out exits 124 with a message', () => {
    const r = hyperlab(['run', '--max-insns', '1000', rawImage('loop.bin', [assemble('jal', { imm: 0 })])]);
    expect(r.status).toBe(124);
    expect(r.stderr).toMatch(/--max-insns 1000 reached/);
  });

  it('a guest asleep with no timer and no more input exits 125', () => {
    const r = hyperlab(['run', rawImage('wfi.bin', [assemble('wfi'), assemble('jal', { imm: -4 })])]);
    expect(r.status).toBe(125);
  });

  it.each([
    [['run'], /no image given/],
    [['run', '/nonexistent/image.elf'], /cannot read image '\/nonexistent\/image.elf': no such file/],
    [['run', '--mem', 'lots', 'x'], /bad size 'lots'/],
    [['run', '--bogus', 'x'], /unknown option '--bogus'/],
    [['frobnicate'], /unknown command/],
    [['host', '--bogus'], /unknown option '--bogus'/],
    [['help', 'frobnicate'], /unknown command 'frobnicate'/],
  ])('usage error %j: one line, status 2, no stack trace', (args, message) => {
    const r = hyperlab(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a malformed ELF gets a one-line loader error and status 2', () => {
    const path = join(tmp, 'bad.elf');
    const bytes = new Uint8Array(64);
    bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]); // ELFCLASS64
    writeFileSync(path, bytes);
    const r = hyperlab(['run', path]);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/bad\.elf: .*64-bit/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--trace prints each instruction with its disassembly', () => {
    const r = hyperlab(['run', '--trace', rawImage('pass.bin', finisherProgram(0x5555))]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('M 80000000  001002b7  lui t0, 0x100');
    expect(r.stderr).toContain('sw t1, 0(t0)');
  });

  it('stdin reaches the guest UART', () => {
    // Poll LSR.DR, read RBR, then write the byte + 1 to the finisher as its fail code.
    const program = [
      assemble('lui', { rd: 5, imm: 0x10000 }),
      assemble('lbu', { rd: 6, rs1: 5, imm: 5 }),
      assemble('andi', { rd: 6, rs1: 6, imm: 1 }),
      assemble('beq', { rs1: 6, imm: -8 }),
      assemble('lbu', { rd: 7, rs1: 5, imm: 0 }),
      assemble('slli', { rd: 7, rs1: 7, imm: 16 }),
      assemble('lui', { rd: 8, imm: 3 }),
      assemble('addi', { rd: 8, rs1: 8, imm: 0x333 }),
      assemble('or', { rd: 7, rs1: 7, rs2: 8 }),
      assemble('lui', { rd: 9, imm: 0x100 }),
      assemble('sw', { rs1: 9, rs2: 7 }),
    ];
    const r = hyperlab(['run', rawImage('echo.bin', program)], 'A');
    expect(r.status).toBe(0x41);
  });
});
