import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VirtMachine } from '../core/board/virt';
import { ImageError } from '../core/loader/imageError';
import { MachineRunner, type RunnerHost } from './machineRunner';
import type { MachineStats, VmEvent } from './protocol';
import { echoImage, spinImage, truncatedElf } from './testPrograms';

const nodeHost: RunnerHost = {
  now: () => performance.now(),
  queueTask: (task) => setImmediate(task),
  setTimer: (task, ms) => {
    const id = setTimeout(task, ms);
    return () => clearTimeout(id);
  },
};

const MEM = 16 * 1024 * 1024;

function start(kernel: Uint8Array): { runner: MachineRunner; events: VmEvent[]; text: () => string; last: () => MachineStats } {
  const events: VmEvent[] = [];
  const runner = new MachineRunner({
    host: nodeHost,
    sharedMemory: false,
    emit: (e) => events.push(e),
    createMachine: (onConsole) => new VirtMachine({ kernel, memSize: MEM, onConsole }),
  });
  const decoder = new TextDecoder();
  return {
    runner,
    events,
    text: () => events.map((e) => (e.type === 'console' ? decoder.decode(e.bytes) : '')).join(''),
    last: () => events.filter((e) => e.type === 'stats').at(-1)!.stats,
  };
}

async function until(test: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('MachineRunner', () => {
  it('runs hello to its PASS power-off, console first, stats after', async () => {
    const m = start(readFileSync('public/guests/hello.elf'));
    await until(() => m.last().state === 'off');
    expect(m.text()).toContain('Hello from hyperlab');
    expect(m.last().poweroff).toEqual({ kind: 'pass', code: 0 });
    const lastConsole = m.events.map((e) => e.type).lastIndexOf('console');
    const offReport = m.events.findIndex((e) => e.type === 'stats' && e.stats.state === 'off');
    expect(lastConsole).toBeLessThan(offReport);
    expect(m.last().instret).toBeGreaterThan(1000);
  });

  it('batches console output instead of one event per byte', async () => {
    const m = start(readFileSync('public/guests/hello.elf'));
    await until(() => m.last().state === 'off');
    const batches = m.events.filter((e) => e.type === 'console');
    expect(batches.length).toBeLessThanOrEqual(3);
    expect(m.text().length).toBeGreaterThan(50);
  });

  it('pause freezes the instruction count and resume continues it', async () => {
    const m = start(spinImage());
    await until(() => m.runner.stats().instret > 1_000_000);
    m.runner.pause();
    const frozen = m.runner.stats();
    expect(frozen.state).toBe('paused');
    await new Promise((r) => setTimeout(r, 50));
    expect(m.runner.stats().instret).toBe(frozen.instret);
    m.runner.resume();
    await until(() => m.runner.stats().instret > frozen.instret);
    expect(m.runner.stats().state).toBe('running');
    m.runner.pause();
  });

  it('feeds console input to the UART as its FIFO drains', async () => {
    const m = start(echoImage());
    const line = 'the quick brown fox jumps over the lazy dog\r';
    m.runner.sendInput(new TextEncoder().encode(line));
    await until(() => m.text() === line);
    await until(() => m.runner.stats().state === 'waiting'); // an idle guest sleeps in WFI
    const idle = m.runner.stats().instret;
    await new Promise((r) => setTimeout(r, 30));
    expect(m.runner.stats().instret - idle).toBeLessThan(1000);
    m.runner.pause();
  });

  it('reset starts a new boot with a fresh machine and numbers it', async () => {
    const m = start(readFileSync('public/guests/hello.elf'));
    await until(() => m.last().state === 'off');
    m.runner.reset();
    await until(() => m.last().state === 'off' && m.last().resets === 1);
    const reboot = m.events.find((e) => e.type === 'reboot');
    expect(reboot).toEqual({ type: 'reboot', reason: 'user', boot: 1 });
    const secondBoot = m.events.filter((e) => e.type === 'console' && e.boot === 1);
    expect(secondBoot.length).toBeGreaterThan(0);
  });

  it('stats carry increasing sequence numbers', async () => {
    const m = start(readFileSync('public/guests/hello.elf'));
    await until(() => m.last().state === 'off');
    const seqs = m.events.flatMap((e) => (e.type === 'stats' ? [e.stats.seq] : []));
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('a malformed image fails in the constructor with the loader message', () => {
    expect(() => start(truncatedElf())).toThrow(ImageError);
  });
});
