import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FdtNode } from './fdt';
import { decodeFdt, findNode, getString, getStrings, getU32, getU32s } from './fdtReader';
import { buildVirtFdt, buildVirtFdtTree } from './virtFdt';
import { hartIsaString } from '../cpu/encodings';
import { QEMU_CPU_RV32IMA } from '../../node/qemu';

function has(cmd: string): boolean {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const base = { memBase: 0x8000_0000, memSize: 128 * 1024 * 1024, harts: 1 };

describe('buildVirtFdt', () => {
  it('describes harts, memory and devices as QEMU virt does', () => {
    const { root } = decodeFdt(buildVirtFdt({ ...base, harts: 2, bootargs: 'console=ttyS0' }));
    expect(getString(root, 'compatible')).toBe('riscv-virtio');
    expect(getU32(findNode(root, '/cpus')!, 'timebase-frequency')).toBe(10_000_000);
    const cpu1 = findNode(root, '/cpus/cpu@1')!;
    expect(getString(cpu1, 'riscv,isa')).toBe('rv32ima_zicsr_zifencei_zihintpause');
    expect(getString(cpu1, 'mmu-type')).toBe('riscv,sv32');
    expect(getU32(cpu1, 'reg')).toBe(1);
    const intc1 = getU32(findNode(root, '/cpus/cpu@1/interrupt-controller')!, 'phandle');
    const intc0 = getU32(findNode(root, '/cpus/cpu@0/interrupt-controller')!, 'phandle');
    expect(getU32s(findNode(root, '/memory@80000000')!, 'reg')).toEqual([0, 0x8000_0000, 0, 0x800_0000]);
    const plic = findNode(root, '/soc/plic@c000000')!;
    expect(getU32(plic, 'riscv,ndev')).toBe(95);
    expect(getU32s(plic, 'interrupts-extended')).toEqual([intc0, 11, intc0, 9, intc1, 11, intc1, 9]);
    expect(getU32s(findNode(root, '/soc/clint@2000000')!, 'interrupts-extended')).toEqual([intc0, 3, intc0, 7, intc1, 3, intc1, 7]);
    const serial = findNode(root, '/soc/serial@10000000')!;
    expect(getU32(serial, 'interrupt-parent')).toBe(getU32(plic, 'phandle'));
    expect(getU32(serial, 'clock-frequency')).toBe(0x384000);
    const test = findNode(root, '/soc/test@100000')!;
    expect(getStrings(test, 'compatible')).toEqual(['sifive,test1', 'sifive,test0', 'syscon']);
    expect(getU32(findNode(root, '/poweroff')!, 'regmap')).toBe(getU32(test, 'phandle'));
    expect(getU32(findNode(root, '/reboot')!, 'value')).toBe(0x7777);
    const rtc = findNode(root, '/soc/rtc@101000')!;
    expect(getString(rtc, 'compatible')).toBe('google,goldfish-rtc');
    expect(getU32(rtc, 'interrupts')).toBe(11);
    expect(getU32(rtc, 'interrupt-parent')).toBe(getU32(plic, 'phandle'));
    expect(getU32s(rtc, 'reg')).toEqual([0, 0x101000, 0, 0x1000]);
    for (let n = 1; n <= 8; n++) {
      const v = findNode(root, `/soc/virtio_mmio@1000${n}000`)!;
      expect(getString(v, 'compatible')).toBe('virtio,mmio');
      expect(getU32(v, 'interrupts')).toBe(n);
      expect(getU32(v, 'interrupt-parent')).toBe(getU32(plic, 'phandle'));
      expect(getU32s(v, 'reg')).toEqual([0, 0x1000_0000 + n * 0x1000, 0, 0x1000]);
    }
    expect(findNode(root, '/soc')!.children.map((c) => c.name)).toEqual([
      'rtc@101000',
      'serial@10000000',
      'test@100000',
      ...[8, 7, 6, 5, 4, 3, 2, 1].map((n) => `virtio_mmio@1000${n}000`),
      'plic@c000000',
      'clint@2000000',
    ]);
    const chosen = findNode(root, '/chosen')!;
    expect(getString(chosen, 'stdout-path')).toBe('/soc/serial@10000000');
    expect(getString(chosen, 'bootargs')).toBe('console=ttyS0');
    expect(getProp(chosen, 'linux,initrd-start')).toBeUndefined();
  });

  it('adds the initrd range and a custom isa', () => {
    const tree = buildVirtFdtTree({ ...base, initrd: { start: 0x8400_0000, end: 0x8400_1000 }, isa: 'rv32ima' });
    const chosen = findNode(tree, '/chosen')!;
    expect(getU32(chosen, 'linux,initrd-start')).toBe(0x8400_0000);
    expect(getU32(chosen, 'linux,initrd-end')).toBe(0x8400_1000);
    expect(getString(findNode(tree, '/cpus/cpu@0')!, 'riscv,isa')).toBe('rv32ima');
    expect(getProp(chosen, 'bootargs')).toBeUndefined();
  });

  it("riscv,isa is the hart's own list: its encoding table's extensions and Zihintpause (PAUSE decodes as FENCE)", () => {
    expect(hartIsaString()).toBe('rv32ima_zicsr_zifencei_zihintpause');
    expect(getString(findNode(buildVirtFdtTree(base), '/cpus/cpu@0')!, 'riscv,isa')).toBe(hartIsaString());
  });

  it('/chosen carries a 32-byte rng-seed where QEMU puts it, fresh for every tree unless one is given', () => {
    const initrd = { start: 0x8400_0000, end: 0x8400_1000 };
    const a = findNode(buildVirtFdtTree({ ...base, initrd, bootargs: 'quiet' }), '/chosen')!;
    const b = findNode(buildVirtFdtTree(base), '/chosen')!;
    expect(a.props.map((p) => p.name)).toEqual(['linux,initrd-end', 'linux,initrd-start', 'rng-seed', 'bootargs', 'stdout-path']);
    expect(getProp(a, 'rng-seed')!.value.length).toBe(32);
    expect(Buffer.from(getProp(a, 'rng-seed')!.value).equals(Buffer.from(getProp(b, 'rng-seed')!.value))).toBe(false);
    const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
    const fixed = findNode(buildVirtFdtTree({ ...base, rngSeed: seed }), '/chosen')!;
    expect([...getProp(fixed, 'rng-seed')!.value]).toEqual([...seed]);
    expect(getProp(findNode(buildVirtFdtTree({ ...base, rngSeed: null }), '/chosen')!, 'rng-seed')).toBeUndefined();
  });

  it('rejects impossible configurations', () => {
    expect(() => buildVirtFdt({ ...base, harts: 0 })).toThrow(RangeError);
    expect(() => buildVirtFdt({ ...base, memSize: 0x8000_0001 })).toThrow(RangeError);
    expect(() => buildVirtFdt({ ...base, initrd: { start: 2, end: 1 } })).toThrow(RangeError);
  });

  it('decodes cleanly with dtc', () => {
    if (!has('dtc')) {
      console.warn('dtc not found: skipping the dtc check');
      return;
    }
    const dtb = buildVirtFdt({ ...base, harts: 2, bootargs: 'console=ttyS0 earlycon' });
    const dts = execFileSync('dtc', ['-I', 'dtb', '-O', 'dts', '-'], { input: dtb, encoding: 'utf8' });
    expect(dts).toContain('compatible = "sifive,plic-1.0.0\\0riscv,plic0";');
    expect(dts).toContain('stdout-path = "/soc/serial@10000000";');
    expect(dts).toContain('bootargs = "console=ttyS0 earlycon";');
    // dtc warns on stderr about anything it dislikes; our tree should give it nothing.
    const warnings = execFileSync('sh', ['-c', 'dtc -I dtb -O dts - 2>&1 >/dev/null'], { input: dtb, encoding: 'utf8' });
    expect(warnings).toBe('');
  });
});

function getProp(n: FdtNode, name: string) {
  return n.props.find((p) => p.name === name);
}

/** phandle -> node path, for comparing references across trees. */
function phandlePaths(root: FdtNode): Map<number, string> {
  const map = new Map<number, string>();
  const walk = (n: FdtNode, path: string) => {
    const ph = getU32(n, 'phandle');
    if (ph !== undefined) map.set(ph, path || '/');
    for (const c of n.children) walk(c, `${path}/${c.name}`);
  };
  walk(root, '');
  return map;
}

/** Properties whose cells are phandles, with the period of phandle cells. */
const REFERENCES: Record<string, number> = { 'interrupts-extended': 2, 'interrupt-parent': 1, regmap: 1, cpu: 1 };
/** Ours differ from QEMU 7.2's on purpose (see virtFdt.ts). */
const OURS_ONLY = new Set(['#address-cells@interrupt-controller']);
const SKIP = new Set(['riscv,isa', 'riscv,ndev', 'phandle', 'rng-seed']);
const QEMU_ONLY = new Set<string>();

/** QEMU 7.2 nodes for devices hyperlab does not model (docs/devices.md). */
const NOT_MODELLED = ['/pmu', '/fw-cfg@10100000', '/flash@20000000', '/platform-bus@4000000', '/soc/pci@30000000'];

/** Paths of QEMU's nodes that we lack, and children that come in a different order. */
function compareNodeSets(ours: FdtNode, qemu: FdtNode): { missing: string[]; misordered: string[] } {
  const missing: string[] = [],
    misordered: string[] = [];
  const walk = (q: FdtNode, path: string) => {
    const o = path === '' ? ours : findNode(ours, path);
    if (!o) {
      missing.push(path);
      return;
    }
    const shared = q.children.map((c) => c.name).filter((n) => o.children.some((c) => c.name === n));
    if (JSON.stringify(shared) !== JSON.stringify(o.children.map((c) => c.name))) misordered.push(path || '/');
    for (const c of q.children) walk(c, `${path}/${c.name}`);
  };
  walk(qemu, '');
  return { missing, misordered };
}

function compareWithQemu(ours: FdtNode, qemu: FdtNode): string[] {
  const problems: string[] = [];
  const ourPh = phandlePaths(ours),
    qemuPh = phandlePaths(qemu);
  const walk = (o: FdtNode, path: string) => {
    const q = path === '' ? qemu : findNode(qemu, path);
    if (!q) {
      problems.push(`${path}: missing in QEMU`);
      return;
    }
    const leaf = o.name.split('@')[0]!;
    for (const p of o.props) {
      if (SKIP.has(p.name)) continue;
      if (OURS_ONLY.has(`${p.name}@${leaf}`)) continue;
      const qp = getProp(q, p.name);
      if (!qp) {
        problems.push(`${path} ${p.name}: QEMU has none`);
        continue;
      }
      const period = REFERENCES[p.name];
      if (period) {
        const resolve = (cells: number[], map: Map<number, string>) => cells.map((c, i) => (i % period === 0 ? (map.get(c) ?? `?${c}`) : c));
        const a = resolve(getU32s(o, p.name)!, ourPh),
          b = resolve(getU32s(q, p.name)!, qemuPh);
        if (JSON.stringify(a) !== JSON.stringify(b)) problems.push(`${path} ${p.name}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      } else if (Buffer.compare(Buffer.from(p.value), Buffer.from(qp.value)) !== 0) {
        problems.push(`${path} ${p.name}: values differ`);
      }
    }
    for (const qp of q.props) {
      if (!getProp(o, qp.name) && !QEMU_ONLY.has(qp.name)) problems.push(`${path} ${qp.name}: we have none`);
    }
    for (const c of o.children) walk(c, `${path}/${c.name}`);
  };
  walk(ours, '');
  return problems;
}

describe('buildVirtFdt against QEMU', () => {
  for (const harts of [1, 2, 12]) {
    it(`matches qemu-system-riscv32 -machine virt -smp ${harts} on the nodes we model`, () => {
      if (!has('qemu-system-riscv32')) {
        console.warn('qemu-system-riscv32 not found: skipping the QEMU comparison');
        return;
      }
      const dir = mkdtempSync(join(tmpdir(), 'hyperlab-fdt-'));
      try {
        writeFileSync(join(dir, 'kernel.bin'), new Uint8Array(4096));
        writeFileSync(join(dir, 'initrd.img'), new Uint8Array(100));
        const dtbPath = join(dir, 'virt.dtb');
        execFileSync(
          'qemu-system-riscv32',
          [
            '-machine',
            `virt,dumpdtb=${dtbPath}`,
            '-bios',
            'none',
            '-m',
            '256M',
            '-smp',
            String(harts),
            '-kernel',
            join(dir, 'kernel.bin'),
            '-initrd',
            join(dir, 'initrd.img'),
            '-append',
            'console=ttyS0 earlycon',
            '-display',
            'none',
          ],
          { stdio: 'ignore' },
        );
        const qemu = decodeFdt(new Uint8Array(readFileSync(dtbPath))).root;
        const qchosen = findNode(qemu, '/chosen')!;
        expect(getProp(qchosen, 'rng-seed')!.value.length).toBe(32);
        const ours = buildVirtFdtTree({
          memBase: 0x8000_0000,
          memSize: 256 * 1024 * 1024,
          harts,
          bootargs: 'console=ttyS0 earlycon',
          initrd: { start: getU32(qchosen, 'linux,initrd-start')!, end: getU32(qchosen, 'linux,initrd-end')! },
        });
        expect(compareWithQemu(ours, qemu)).toEqual([]);
        // Every other QEMU node is one we model, in QEMU's order.
        expect(compareNodeSets(ours, qemu)).toEqual({ missing: NOT_MODELLED, misordered: [] });
        // The comparison itself notices a wrong value, a wrong reference and a gap.
        const wrong = buildVirtFdtTree({ memBase: 0x8000_0000, memSize: 128 * 1024 * 1024, harts });
        const problems = compareWithQemu(wrong, qemu).join('\n');
        expect(problems).toContain('/memory@80000000 reg: values differ');
        expect(problems).toContain('/chosen linux,initrd-start: we have none');
        const clint = findNode(wrong, '/soc/clint@2000000')!;
        const ie = getProp(clint, 'interrupts-extended')!;
        ie.value.set([0, 0, 0, 7], 4);
        expect(compareWithQemu(wrong, qemu).join('\n')).toContain('clint@2000000 interrupts-extended');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('riscv,isa against QEMU', () => {
  it("equals QEMU 7.2's for the reference CPU model (QEMU_CPU_RV32IMA: hyperlab's hart)", () => {
    if (!has('qemu-system-riscv32')) {
      console.warn('qemu-system-riscv32 not found: skipping the QEMU comparison');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'hyperlab-fdt-'));
    try {
      const dtbPath = join(dir, 'virt.dtb');
      execFileSync('qemu-system-riscv32', ['-machine', `virt,dumpdtb=${dtbPath}`, '-cpu', QEMU_CPU_RV32IMA, '-bios', 'none', '-display', 'none'], {
        stdio: 'ignore',
      });
      const qemu = decodeFdt(new Uint8Array(readFileSync(dtbPath))).root;
      expect(getString(findNode(buildVirtFdtTree(base), '/cpus/cpu@0')!, 'riscv,isa')).toBe(getString(findNode(qemu, '/cpus/cpu@0')!, 'riscv,isa'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
