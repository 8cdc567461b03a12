/**
 * Isolation: a hostile pv domain makes random hypercalls (random numbers, sub-operations
 * and arguments, many of them pointers into its own RAM, others anywhere) and random SBI
 * calls for ten million instructions beside a victim domain whose memory holds canary
 * pages. The canaries never change, the hypervisor keeps running, and the victim keeps
 * being scheduled. Then the same with grant sequences (issue 10): two hostile guests
 * (guests/hostile) grant, map, copy, unmap, end grants and balloon pages out and in at
 * random, on each other and on a victim, and one of them is destroyed and replaced now
 * and then while the other may map its pages.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assemble } from '../../core/cpu/asm';
import { Hypervisor } from '../../core/xen/common/hypervisor';
import { parseXlConfig } from '../../core/tools/xlConfig';
import { bootHypervisor, changedPages, Consoles, createHostile, type HostileGuest } from '../testSupport';
import { ensureBundleSync } from '../testBundle';
import { nodeVcpuHost } from '../vcpuHost';
import { elf32Executable } from '../../core/loader/elfWrite';
import { li, wordsToImage } from '../../testing/support';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

/**
 * The hostile guest: an LCG in s0 (x8) drives a6 (hypercall 0..63), a0..a4 (half of them
 * pointers into the first 64 KiB of its RAM, half anything) and a7 (mostly Xen's
 * extension, sometimes a random SBI extension). Traps come back to the loop (stvec).
 */
function hostileImage(seed: number): Uint8Array {
  const PROLOGUE = 9; // words before `top`
  const w: number[] = [
    ...li(8, seed), // s0 = seed
    ...li(9, 1103515245), // s1 = LCG multiplier
    ...li(18, 0x8000_0000), // s2 = RAM base
    ...li(7, 0x8000_0000 + PROLOGUE * 4),
    assemble('csrrw', { rs1: 7, csr: 0x105 }), // stvec = top: every trap comes back to the loop
  ];
  const top = w.length * 4;
  const step = (): void => {
    w.push(assemble('mul', { rd: 8, rs1: 8, rs2: 9 }), assemble('addi', { rd: 8, rs1: 8, imm: 1237 }));
  };
  const arg = (rd: number): void => {
    step();
    // rd = bit 1 of s0 ? RAM base + (s0 & 0xfffc) : s0
    w.push(assemble('srli', { rd: 5, rs1: 8, imm: 1 }), assemble('andi', { rd: 5, rs1: 5, imm: 1 }));
    w.push(assemble('add', { rd, rs1: 8, rs2: 0 }));
    w.push(assemble('beq', { rs1: 5, rs2: 0, imm: 16 }));
    w.push(...li(6, 0xfffc), assemble('and', { rd, rs1: 8, rs2: 6 }));
    w.push(assemble('add', { rd, rs1: rd, rs2: 18 }));
  };
  for (const r of [10, 11, 12, 13, 14]) arg(r);
  step();
  w.push(assemble('srli', { rd: 16, rs1: 8, imm: 20 }), assemble('andi', { rd: 16, rs1: 16, imm: 63 })); // a6
  w.push(...li(17, 0x0a00_0007)); // a7 = Xen's extension
  w.push(assemble('andi', { rd: 5, rs1: 8, imm: 7 }));
  w.push(assemble('bne', { rs1: 5, rs2: 0, imm: 8 }));
  w.push(assemble('srli', { rd: 17, rs1: 8, imm: 3 })); // 1 in 8: a random SBI extension
  w.push(assemble('ecall'));
  w.push(assemble('jal', { imm: top - w.length * 4 }));
  if (top !== PROLOGUE * 4) throw new Error('prologue size changed');
  return wordsToImage(w);
}

/**
 * A hostile hvm guest: random loads and stores of random widths to random addresses in
 * the device area 0..0x1100_0000 (test finisher excluded) and to random addresses
 * anywhere, with mtvec pointing back at the loop so every fault is survived.
 */
function mmioFuzzImage(seed: number): Uint8Array {
  const PROLOGUE = 7;
  const w: number[] = [...li(8, seed), ...li(9, 1103515245), ...li(7, 0x8000_0000 + PROLOGUE * 4), assemble('csrrw', { rs1: 7, csr: 0x305 })];
  const top = w.length * 4;
  const step = (): void => {
    w.push(assemble('mul', { rd: 8, rs1: 8, rs2: 9 }), assemble('addi', { rd: 8, rs1: 8, imm: 1237 }));
  };
  step();
  // address: s0 masked into the device window, unless bit 0 of s0 says "anywhere"
  w.push(...li(6, 0x10ff_fffc), assemble('and', { rd: 10, rs1: 8, rs2: 6 }));
  w.push(...li(6, 0x0010_0000), assemble('bne', { rs1: 10, rs2: 6, imm: 8 }), assemble('addi', { rd: 10, rs1: 10, imm: 4 })); // never the finisher
  w.push(assemble('andi', { rd: 5, rs1: 8, imm: 1 }), assemble('beq', { rs1: 5, rs2: 0, imm: 8 }), assemble('add', { rd: 10, rs1: 8, rs2: 0 }));
  step();
  w.push(assemble('andi', { rd: 5, rs1: 8, imm: 7 }));
  const ops = [
    assemble('lw', { rd: 11, rs1: 10 }),
    assemble('lb', { rd: 11, rs1: 10 }),
    assemble('lhu', { rd: 11, rs1: 10 }),
    assemble('sw', { rs1: 10, rs2: 8 }),
    assemble('sb', { rs1: 10, rs2: 8 }),
    assemble('sh', { rs1: 10, rs2: 8 }),
    assemble('lbu', { rd: 11, rs1: 10 }),
    assemble('sw', { rs1: 10, rs2: 8, imm: 4 }),
  ];
  // a jump table: 8 entries of [op, jal back to top]
  w.push(
    assemble('slli', { rd: 5, rs1: 5, imm: 3 }),
    assemble('auipc', { rd: 6, imm: 0 }),
    assemble('add', { rd: 6, rs1: 6, rs2: 5 }),
    assemble('jalr', { rs1: 6, imm: 12 }),
  );
  for (const op of ops) {
    w.push(op);
    w.push(assemble('jal', { imm: top - w.length * 4 }));
  }
  return wordsToImage(w);
}

const CANARY_PAGES = 16;
/** The grant fuzz's length and seed; longer runs by hand: HYPERLAB_GRANT_FUZZ_INSNS=1e8. */
const GRANT_FUZZ_INSNS = Math.max(1e7, Number(process.env['HYPERLAB_GRANT_FUZZ_INSNS'] ?? 1e7));
const GRANT_FUZZ_SEED = Number(process.env['HYPERLAB_GRANT_FUZZ_SEED'] ?? 0);
/** The victim: spins at 0x80000000; 16 pages of pattern follow (never touched by itself). */
function victimImage(): Uint8Array {
  const img = new Uint8Array(4096 * (1 + CANARY_PAGES));
  img.set(new Uint8Array(Int32Array.of(assemble('jal', { imm: 0 })).buffer));
  for (let i = 4096; i < img.length; i++) img[i] = (i * 131 + 7) & 0xff;
  return img;
}

describe('isolation', () => {
  it('random hypercalls for 10M instructions: the victim canaries stay, the hypervisor lives', async () => {
    hv = new Hypervisor({ memoryMiB: 64, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
    hv.start();
    const cfg = (name: string, type: string): ReturnType<typeof parseXlConfig> =>
      parseXlConfig(`name = "${name}"\ntype = "${type}"\nmemory = 8\nkernel = "x"\non_poweroff = "preserve"\non_crash = "preserve"`);
    const victimBytes = victimImage();
    const victim = hv.createDomain(cfg('victim', 'hvm'), { kernel: victimBytes });
    const hostile: ReturnType<Hypervisor['createDomain']>[] = [];
    let instructions = 0;
    for (let seed = 1; instructions < 10_000_000 && seed < 40; seed++) {
      const d = hv.createDomain(cfg(`hostile${seed}`, 'pv'), { kernel: elf32Executable(hostileImage(seed * 7919)) });
      hostile.push(d);
      const end = Date.now() + 20_000;
      while (d.vcpus[0]!.instret < 3_000_000 && d.shutdownReason === null && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      instructions += d.vcpus[0]!.instret;
      if (hv.domains.has(d.domid)) hv.destroyDomain(d.domid);
    }
    expect(instructions).toBeGreaterThanOrEqual(10_000_000);
    const calls = hostile.reduce((n, d) => n + [...d.exits].filter(([k]) => k.startsWith('hypercall')).reduce((m, [, c]) => m + c, 0), 0);
    expect(calls).toBeGreaterThan(10_000);
    // The victim's canary pages are as loaded, and it still runs.
    const ram = new Uint8Array(hv.memory.buffer);
    for (let g = 1; g <= CANARY_PAGES; g++) {
      const mfn = victim.p2m.get(g);
      const page = ram.subarray(mfn * 4096, mfn * 4096 + 4096);
      expect(page).toEqual(victimBytes.subarray(g * 4096, g * 4096 + 4096));
    }
    const before = victim.vcpus[0]!.instret;
    await new Promise((r) => setTimeout(r, 300));
    expect(victim.vcpus[0]!.instret).toBeGreaterThan(before);
    expect(victim.shutdownReason).toBeNull();
  });

  it('random MMIO from an hvm guest (UART, PLIC, CLINT, RTC, virtio, holes): no crash, no escape', async () => {
    hv = new Hypervisor({ memoryMiB: 64, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
    hv.start();
    const cfg = (name: string): ReturnType<typeof parseXlConfig> =>
      parseXlConfig(`name = "${name}"\ntype = "hvm"\nmemory = 8\nkernel = "x"\non_poweroff = "preserve"\non_crash = "preserve"`);
    const victimBytes = victimImage();
    const victim = hv.createDomain(cfg('victim'), { kernel: victimBytes });
    const fuzz = hv.createDomain(cfg('fuzz'), { kernel: mmioFuzzImage(12345) });
    const end = Date.now() + 60_000;
    while (fuzz.vcpus[0]!.instret < 2_000_000 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(fuzz.vcpus[0]!.instret).toBeGreaterThanOrEqual(2_000_000);
    expect(fuzz.exits.get('mmio:uart0') ?? 0).toBeGreaterThan(0);
    const ram = new Uint8Array(hv.memory.buffer);
    for (let g = 1; g <= CANARY_PAGES; g++) {
      const mfn = victim.p2m.get(g);
      expect(ram.subarray(mfn * 4096, mfn * 4096 + 4096)).toEqual(victimBytes.subarray(g * 4096, g * 4096 + 4096));
    }
    expect(victim.shutdownReason).toBeNull();
  });

  it(
    'random grant sequences (grant, map, copy, unmap, end, balloon out and in, teardown) for 10M instructions: the victim keeps its pages, every frame is freed once',
    async () => {
      const h = bootHypervisor(64);
      hv = h;
      const con = new Consoles(h);
      const victim = await createHostile(h, con, 'victim');
      const CANARY = victim.gfn(0x40),
        NCANARY = 0x780; // all of its RAM but the image and the special pages
      expect((await victim.cmd(`fill ${CANARY} ${NCANARY} 0x5a`)).result).toBe('ok');
      let serial = 0;
      const fuzzer = (): Promise<HostileGuest> => createHostile(h, con, `fuzz${serial++}`);
      const pair = [await fuzzer(), await fuzzer()];
      let instructions = 0,
        ops = 0,
        maps = 0,
        copies = 0,
        outs = 0;
      const start = Date.now();
      for (let round = 0; instructions < GRANT_FUZZ_INSNS && Date.now() - start < 45_000 * (GRANT_FUZZ_INSNS / 1e7); round++) {
        const before = pair.map((g) => g.d.vcpus[0]!.instret);
        const answers = await Promise.all(
          pair.map((g, i) =>
            g.start(`fuzz ${GRANT_FUZZ_SEED + round * 7919 + i + 1} 12000 4000 ${g.gfn(0x200)} ${g.gfn(2048)} ${pair[1 - i]!.domid} ${victim.domid}`),
          ),
        );
        for (const a of answers) {
          expect(a.result, a.line).toBe('ok');
          ops += a['ops'] as number;
          maps += a['maps'] as number;
          copies += a['copies'] as number;
          outs += a['outs'] as number;
        }
        await Promise.all(pair.map((g) => g.cmd('info'))); // the instruction counts of the slices are in
        instructions += pair.reduce((n, g, i) => n + g.d.vcpus[0]!.instret - before[i]!, 0);
        // Now and then one of them goes, while the other may still map its pages or hold
        // its grants; a new one takes its place (and likely its frames).
        if (round % 2 === 1) {
          h.destroyDomain(pair[0]!.domid);
          pair[0] = await fuzzer();
        }
      }
      console.log(
        `grant fuzz: ${instructions} instructions, ${ops} operations, ${maps} maps, ${copies} copies, ${outs} pages ballooned out, ${serial} fuzzers`,
      );
      expect(instructions).toBeGreaterThanOrEqual(GRANT_FUZZ_INSNS);
      expect(maps).toBeGreaterThan(100);
      expect(copies).toBeGreaterThan(100);
      expect(changedPages(h, victim.d, CANARY, NCANARY, 0x5a)).toEqual([]);
      expect(await victim.cmd(`check ${CANARY} ${NCANARY} 0x5a`)).toMatchObject({ bad: 0 });
      expect(victim.d.shutdownReason).toBeNull();
      // No request of theirs reached a bug of the hypervisor (it would crash the domain).
      expect(h.log.filter((l) => /hypervisor error|failed in the hypervisor/.test(l))).toEqual([]);
      hv = undefined;
      expect(() => h.shutdownHost()).not.toThrow();
      expect(h.memory.nrFree).toBe(h.memory.nrFrames);
    },
    90_000 * (GRANT_FUZZ_INSNS / 1e7),
  );
});
