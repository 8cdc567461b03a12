/**
 * Waiting in place (docs/hypervisor.md): a vCPU that sleeps in WFI until its timer, 200 us
 * away, keeps its pCPU and resumes there. It must still look blocked to users (xentop, xl,
 * the page) and its waiting must not count as CPU time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assemble } from '../core/cpu/asm';
import { Runstate } from '../core/xen/common/domain';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { GuestMemory } from '../core/xen/common/guestMemory';
import { parseXlConfig } from '../core/tools/xlConfig';
import { ensureBundleSync } from './testBundle';
import { nodeVcpuHost } from './vcpuHost';
import { li, sleep, wordsToImage } from '../testing/support';

let hv: Hypervisor | undefined;
const COUNT = 0x8010_0000;
afterEach(() => hv?.shutdownHost());

/**
 * An hvm guest in M-mode: loop: mtimecmp = mtime + 200 us; wfi; count++. MTIE is on and
 * MIE off, so the timer only ends the WFI (privileged spec 3.3.3): no trap, no exit.
 */
function sleeperImage(): Uint8Array {
  const w = [
    ...li(28, 0x0200_bff8),
    ...li(29, 0x0200_4000),
    ...li(18, COUNT),
    assemble('addi', { rd: 5, imm: 0x80 }),
    assemble('csrrs', { rs1: 5, csr: 0x304 }), // mie.MTIE
  ];
  const top = w.length;
  w.push(assemble('lw', { rd: 6, rs1: 28, imm: 0 }), assemble('addi', { rd: 6, rs1: 6, imm: 2000 }));
  w.push(
    assemble('addi', { rd: 7, imm: -1 }),
    assemble('sw', { rs1: 29, rs2: 7, imm: 4 }),
    assemble('sw', { rs1: 29, rs2: 6, imm: 0 }),
    assemble('sw', { rs1: 29, rs2: 0, imm: 4 }),
  );
  w.push(assemble('wfi'));
  w.push(assemble('lw', { rd: 6, rs1: 18, imm: 0 }), assemble('addi', { rd: 6, rs1: 6, imm: 1 }), assemble('sw', { rs1: 18, rs2: 6, imm: 0 }));
  w.push(assemble('jal', { imm: (top - w.length) * 4 }));
  return wordsToImage(w);
}

describe('waiting in place', () => {
  it('a vCPU waiting on its pCPU shows as blocked, and the wait is not CPU time', async () => {
    hv = new Hypervisor({ memoryMiB: 32, pcpus: 1, host: nodeVcpuHost(ensureBundleSync()) });
    hv.start();
    const d = hv.createDomain(parseXlConfig('name = "sleeper"\ntype = "hvm"\nmemory = 8\nkernel = "x"'), { kernel: sleeperImage() });
    const mem = new GuestMemory(hv.memory.buffer, d.p2m, d.ramBase, d.ramSize);
    const wakeups = (): number => mem.u32(COUNT);
    while (wakeups() < 50) await sleep(5);
    const [n0, cpu0, t0] = [wakeups(), d.cpuNs, performance.now()];
    let parked = 0,
      blocked = 0;
    for (let i = 0; i < 100; i++) {
      await sleep(3);
      if (d.vcpus[0]!.runstate === Runstate.RUNNING && d.vcpus[0]!.isParked()) parked++;
      if (d.state === 'blocked') blocked++;
    }
    const wallNs = (performance.now() - t0) * 1e6;
    // It did wait in place (it resumed there, mostly), and showed as blocked meanwhile.
    expect(parked).toBeGreaterThan(50);
    expect(blocked).toBeGreaterThan(80);
    expect(wakeups() - n0).toBeGreaterThan(100);
    // Its CPU time is what it ran, not the 300 ms it held the pCPU.
    expect((d.cpuNs - cpu0) / wallNs).toBeLessThan(0.3);
  });
});
