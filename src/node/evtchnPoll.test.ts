/**
 * SCHEDOP_poll with a real pv vCPU (Xen's do_poll): a vCPU polling one port wakes when
 * that port becomes pending even while it is masked, not for another (masked) port, and
 * at its timeout. The guest is a few assembled instructions that poll in a loop and count
 * their wake-ups; Domain-0 sends the events.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assemble } from '../core/cpu/asm';
import type { Domain } from '../core/xen/common/domain';
import { Hypervisor } from '../core/xen/common/hypervisor';
import * as X from '../core/xen/public/xen';
import { parseXlConfig } from '../core/tools/xlConfig';
import { ensureBundleSync } from './testBundle';
import { nodeVcpuHost } from './vcpuHost';
import { elf32Executable } from '../core/loader/elfWrite';
import { li, sleep, until, wordsToImage } from '../testing/support';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

const POLL_ARGS = 0x8000_2000; // struct sched_poll { ports; nr_ports; u64 timeout }
const PORTS = 0x8000_2010;
const WAKEUPS = 0x8000_2020;

/** loop: SCHEDOP_poll(POLL_ARGS); clear pending word 0 and the upcall; wakeups++ */
function pollerImage(): Uint8Array {
  const w = [
    assemble('lw', { rd: 9, rs1: 11, imm: 36 }), // s1 = start_info->shared_info
    assemble('addi', { rd: 22, rs1: 9, imm: 1024 }),
    assemble('addi', { rd: 22, rs1: 22, imm: 1024 }), // s6 = &evtchn_pending[0]
    ...li(18, WAKEUPS),
  ];
  const top = w.length;
  w.push(...li(11, POLL_ARGS), ...li(17, 0x0a00_0007), assemble('addi', { rd: 16, imm: X.HYPERVISOR_sched_op }));
  w.push(assemble('addi', { rd: 10, imm: X.SCHEDOP_poll }), assemble('ecall'));
  w.push(assemble('sw', { rs1: 22, rs2: 0, imm: 0 }), assemble('sb', { rs1: 9, rs2: 0, imm: 0 }), assemble('sw', { rs1: 9, rs2: 0, imm: 4 }));
  w.push(assemble('lw', { rd: 5, rs1: 18, imm: 0 }), assemble('addi', { rd: 5, rs1: 5, imm: 1 }), assemble('sw', { rs1: 18, rs2: 5, imm: 0 }));
  w.push(assemble('jal', { imm: (top - w.length) * 4 }));
  return wordsToImage(w);
}

function setup(timeoutNs: number): { h: Hypervisor; d: Domain; polled: number; other: number; send: (port: number) => void; wakeups: () => number } {
  const h = new Hypervisor({ memoryMiB: 32, pcpus: 1, host: nodeVcpuHost(ensureBundleSync()) });
  hv = h;
  h.start();
  const d = h.createDomain(parseXlConfig('name = "poller"\ntype = "pv"\nmemory = 8\nkernel = "x"'), { kernel: elf32Executable(pollerImage()) });
  h.pauseDomain(d.domid);
  const bind = (): [number, number] => {
    const guest = h.evtchn.allocUnbound(d, 0);
    return [guest, h.evtchn.bindInterdomain(h.dom0, d.domid, guest)];
  };
  const [polled, polledDom0] = bind();
  const [other, otherDom0] = bind();
  const mem = d.mem!;
  mem.write(d.sharedInfo + X.SI_EVTCHN_PENDING, new Uint8Array(128)); // nothing pending from the binds
  mem.setU32(POLL_ARGS, PORTS);
  mem.setU32(POLL_ARGS + 4, 1);
  mem.setU32(POLL_ARGS + 8, timeoutNs % 0x1_0000_0000);
  mem.setU32(POLL_ARGS + 12, Math.floor(timeoutNs / 0x1_0000_0000));
  mem.setU32(PORTS, polled);
  // Both ports masked: only the poll itself can wake the vCPU, never an upcall.
  mem.orU32(d.sharedInfo + X.SI_EVTCHN_MASK, (1 << polled) | (1 << other));
  h.unpauseDomain(d.domid);
  const send = (port: number): void => void h.evtchn.send(h.dom0, port === polled ? polledDom0 : otherDom0);
  return { h, d, polled, other, send, wakeups: () => mem.u32(WAKEUPS) };
}

describe('SCHEDOP_poll', () => {
  it('wakes on the polled port even when masked, and not on another port', async () => {
    const { d, polled, other, send, wakeups } = setup(0);
    await until(() => d.vcpus[0]!.poll !== undefined && d.state === 'blocked');
    expect(wakeups()).toBe(0);
    send(other);
    await sleep(200);
    expect(wakeups()).toBe(0);
    expect(d.state).toBe('blocked');
    send(polled);
    await until(() => wakeups() === 1);
    await until(() => d.state === 'blocked');
    send(polled);
    await until(() => wakeups() === 2);
    expect([polled, other].every((p) => p > 2)).toBe(true);
  });

  it('wakes at its timeout with no event at all', async () => {
    // The timeout is absolute system time (ns since the domain started): 300 ms.
    const { d, wakeups } = setup(300e6);
    await until(() => wakeups() >= 1, 5_000);
    // Once past the timeout every poll returns at once: the vCPU keeps running.
    await until(() => wakeups() > 100);
    expect(d.shutdownReason).toBeNull();
  });
});
