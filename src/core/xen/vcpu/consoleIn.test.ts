/**
 * SBI console input served in the vCPU (consoleIn.ts): the ring itself, then a vCPU run in
 * this thread whose guest polls the legacy getchar. Its requests to the hypervisor are
 * recorded instead of served, so the test sees which polls would have been exits.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../cpu/asm';
import { ConsoleInRing, SBI_CONSOLE_IN_BYTES } from './consoleIn';
import { SBI_LEGACY_GETCHAR } from './sbi';
import * as C from './vcpuControl';
import { sbiTestVcpu, TEST_RAM_BASE as RAM } from './testing';

const OUT = RAM + 0x1000;

describe('ConsoleInRing', () => {
  it('hands bytes over in order, keeps what does not fit as a backlog, and answers -1 when empty', () => {
    const r = ConsoleInRing.create();
    expect(r.take()).toBe(-1);
    const queue = Array.from({ length: SBI_CONSOLE_IN_BYTES + 10 }, (_, i) => i & 0xff);
    expect(r.fill(queue)).toBe(SBI_CONSOLE_IN_BYTES);
    expect(queue).toHaveLength(10);
    expect(r.backlog).toBe(true);
    const seen: number[] = [];
    for (let i = 0; i < SBI_CONSOLE_IN_BYTES; i++) seen.push(r.take());
    expect(seen).toEqual(Array.from({ length: SBI_CONSOLE_IN_BYTES }, (_, i) => i & 0xff));
    expect(r.take()).toBe(-1);
    expect(r.fill(queue)).toBe(10);
    expect(r.backlog).toBe(false);
    expect(new ConsoleInRing(r.buffer).take()).toBe(0); // another thread's view of the same ring
  });

  it('survives a worker that scribbles on the tail: never more than the ring holds', () => {
    const r = ConsoleInRing.create();
    new Int32Array(r.buffer, 0, 4)[1] = 12345; // TAIL far ahead of HEAD
    expect(r.length).toBe(0);
    expect(r.fill([1, 2, 3])).toBe(3);
    new Int32Array(r.buffer, 0, 4)[1] = -5000; // far behind
    expect(r.length).toBe(SBI_CONSOLE_IN_BYTES);
    expect(r.fill([4])).toBe(0);
  });
});

/** A vCPU (hvm, firmware = "sbi") whose guest polls getchar `polls` times, storing a0 at OUT. */
function pollingVcpu(polls: number, ring: ConsoleInRing | undefined) {
  const poll = [
    assemble('addi', { rd: 17, imm: SBI_LEGACY_GETCHAR }),
    assemble('ecall'),
    assemble('sw', { rs1: 8, rs2: 10 }),
    assemble('addi', { rd: 8, rs1: 8, imm: 4 }),
  ];
  const program = [
    assemble('lui', { rd: 8, imm: OUT >>> 12 }),
    ...Array.from({ length: polls }, () => poll).flat(),
    assemble('wfi'),
    assemble('jal', { imm: 0 }),
  ];
  const { r, cb } = sbiTestVcpu(program, ring ? { consoleIn: ring.buffer } : {});
  const requests: number[] = [];
  r.request = (kind) => {
    requests.push(kind);
    return 0x2a;
  }; // as if the hypervisor answered '*'
  const results = () => Array.from({ length: polls }, (_, i) => r.bus.ram.i32[(OUT - RAM) / 4 + i]!);
  return { r, cb, requests, results };
}

describe('SBI getchar in the vCPU', () => {
  it('takes typed bytes from the ring and answers -1 when it is empty, without a request', () => {
    const ring = ConsoleInRing.create();
    ring.setReader();
    ring.fill([...new TextEncoder().encode('hi')]);
    const { r, cb, requests, results } = pollingVcpu(4, ring);
    r.runSlice(10_000);
    expect(results()).toEqual([0x68, 0x69, -1, -1]);
    expect(requests).toEqual([]);
    expect(cb[C.C_LOCAL_HC + C.LOCAL_HC.indexOf('sbi:console-read-local')]).toBe(4);
  });

  it('asks the hypervisor until it has seen the guest read the SBI console, and when bytes wait behind a full ring', () => {
    const { r, requests, results } = pollingVcpu(2, ConsoleInRing.create());
    r.runSlice(10_000);
    expect(results()).toEqual([0x2a, 0x2a]);
    expect(requests).toEqual([C.VcpuRequest.SBI_CONSOLE_READ, C.VcpuRequest.SBI_CONSOLE_READ]);

    const ring = ConsoleInRing.create();
    ring.setReader();
    ring.fill(Array.from({ length: SBI_CONSOLE_IN_BYTES + 1 }, () => 0x41)); // one byte left behind
    for (let i = 0; i < SBI_CONSOLE_IN_BYTES - 1; i++) ring.take();
    const b = pollingVcpu(2, ring);
    b.r.runSlice(10_000);
    expect(b.results()).toEqual([0x41, 0x2a]); // the last byte in the ring, then a request for the backlog
    expect(b.requests).toEqual([C.VcpuRequest.SBI_CONSOLE_READ]);
  });

  it('without a ring, every poll is a request', () => {
    const { r, requests } = pollingVcpu(3, undefined);
    r.runSlice(10_000);
    expect(requests).toHaveLength(3);
  });
});
