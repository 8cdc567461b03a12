/**
 * Log-dirty mode on real vCPU workers: a bare hvm guest whose harts each store to a known
 * set of pages in a loop shows exactly those pages dirty at CLEAN (and nothing after a CLEAN
 * while it is paused); Domain-0's grant copies and virtio-style DMA writes mark their pages;
 * off clears the watch bit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assemble } from '../../../cpu/asm';
import { WATCH_LOG_DIRTY } from '../../../cpu/writeWatch';
import { dmaWriteNote } from '../../../devices/virtio/guestDma';
import { P2M_MFN_MASK } from '../../../bus/bus';
import { Runstate } from '../../../xen/common/domain';
import { Hypervisor } from '../../../xen/common/hypervisor';
import { LogDirty } from '../../../xen/common/logDirty';
import { ensureBundleSync } from '../../../../node/testBundle';
import { nodeVcpuHost } from '../../../../node/vcpuHost';
import { Toolstack } from '../../toolstack';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

/** Pages (pfn offsets from 16 + 8 * hartid) each hart writes. */
const PAGES = [0, 2, 5];

/**
 * A flat RV32 program at the start of RAM (pfn 0): hart a0 stores a counter to pfns
 * 16 + 8*a0 + PAGES[i], then spins a while, forever. No stack, no other store.
 */
export function dirtyProgram(): Uint8Array {
  const T0 = 5,
    T1 = 6,
    T2 = 7,
    T4 = 29,
    T5 = 30,
    A0 = 10;
  const code: number[] = [];
  const ins = (n: string, o: Parameters<typeof assemble>[1]): number => code.push(assemble(n, o));
  const T6 = 31,
    A1 = 11,
    A6 = 16,
    A7 = 17;
  // Hart 0 starts hart 1 here (SBI HSM hart_start, EID 0x48534D "HSM", FID 0; a1 = start address); hart 1's call fails harmlessly.
  ins('auipc', { rd: T6, imm: 0 });
  ins('addi', { rd: T1, rs1: A0, imm: 0 });
  ins('bne', { rs1: A0, rs2: 0, imm: 9 * 4 });
  ins('addi', { rd: A0, rs1: 0, imm: 1 });
  ins('addi', { rd: A1, rs1: T6, imm: 0 });
  ins('lui', { rd: A7, imm: 0x485 });
  ins('addi', { rd: A7, rs1: A7, imm: 0x34d });
  ins('addi', { rd: A6, rs1: 0, imm: 0 });
  ins('ecall', {});
  ins('addi', { rd: A0, rs1: T1, imm: 0 });
  ins('addi', { rd: 0, rs1: 0, imm: 0 });
  ins('lui', { rd: T0, imm: 0x80010 }); // the imm of lui is the upper 20 bits
  ins('slli', { rd: T1, rs1: A0, imm: 15 });
  ins('add', { rd: T0, rs1: T0, rs2: T1 });
  ins('addi', { rd: T2, rs1: 0, imm: 0 });
  const loop = code.length;
  ins('addi', { rd: T2, rs1: T2, imm: 1 });
  for (const p of PAGES) {
    ins('lui', { rd: T4, imm: p });
    ins('add', { rd: T4, rs1: T4, rs2: T0 });
    ins('sw', { rs1: T4, rs2: T2, imm: 0 });
  }
  ins('lui', { rd: T5, imm: 0x10 }); // 64 Ki iterations
  const spin = code.length;
  ins('addi', { rd: T5, rs1: T5, imm: -1 });
  ins('bne', { rs1: T5, rs2: 0, imm: (spin - code.length) * 4 });
  ins('jal', { rd: 0, imm: (loop - code.length) * 4 });
  const out = new Uint8Array(code.length * 4);
  code.forEach((w, i) => new DataView(out.buffer).setUint32(i * 4, w >>> 0, true));
  return out;
}

function setup(vcpus: number): { hv: Hypervisor; ts: Toolstack; domid: number } {
  hv = new Hypervisor({ memoryMiB: 32, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
  hv.start();
  const prog = dirtyProgram();
  const ts = new Toolstack(hv, { readFile: () => prog });
  const d = ts.create(`name = "dirty"\ntype = "hvm"\nmemory = 4\nmaxmem = 4\nvcpus = ${vcpus}\nfirmware = "sbi"\nkernel = "dirty.bin"`);
  return { hv, ts, domid: d.domid };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('log-dirty', () => {
  it('a guest storing to a known set of pages shows exactly those pages dirty, on each vCPU worker', async () => {
    const { hv: h, domid } = setup(2);
    const d = h.domains.get(domid)!;
    await sleep(300);
    const ld = await LogDirty.enable(h, d);
    // Every frame of the domain is watched now.
    const mfn0 = d.p2m.get(16) & P2M_MFN_MASK;
    expect(h.watch.watch[mfn0]! & WATCH_LOG_DIRTY).toBe(WATCH_LOG_DIRTY);
    ld.clean();
    await sleep(400);
    const online = d.vcpus.filter((v) => v.runstate !== Runstate.OFFLINE).length;
    expect(online).toBe(2); // hart 1 started through SBI HSM: two vCPU workers write
    const want = Array.from({ length: online }, (_, hart) => PAGES.map((p) => 16 + 8 * hart + p)).flat();
    const set = ld.clean();
    expect(set.dirty).toEqual(want);
    expect(set.gone).toEqual([]);
    // Paused: nothing more is written, so the next CLEAN is empty; PEEK resets nothing.
    h.pauseDomain(domid);
    await sleep(50);
    ld.clean();
    expect(ld.clean().dirty).toEqual([]);
    h.unpauseDomain(domid);
    await sleep(300);
    expect(ld.peek()).toBe(want.length);
    expect(ld.clean().dirty).toEqual(want);
    ld.disable();
    expect(h.watch.watch[mfn0]! & WATCH_LOG_DIRTY).toBe(0);
    expect(() => ld.clean()).toThrow(/off/);
  }, 60_000);

  it("Domain-0's writes into the guest (grant copies, virtio DMA) mark their pages", async () => {
    const { hv: h, domid } = setup(1);
    const d = h.domains.get(domid)!;
    h.pauseDomain(domid);
    await sleep(50);
    const ld = await LogDirty.enable(h, d);
    ld.clean();
    // virtio-style DMA: the device models' hook, as vbd.ts passes it.
    dmaWriteNote(h, d)(40);
    // A grant copy's write (gnttab.copy / dom0Copy call noteWrite with the machine offset).
    h.gnttab.noteWrite!((d.p2m.get(41) & P2M_MFN_MASK) * 4096 + 100, 8);
    expect(ld.clean().dirty).toEqual([40, 41]);
    // A frame Domain-0 maps writable is dirty in every round; the named always-dirty pfns too.
    const ld2 = (ld.disable(), await LogDirty.enable(h, d, [7]));
    expect(ld2.clean().dirty).toEqual([7]);
    expect(ld2.clean().dirty).toEqual([7]);
  }, 60_000);
});
