import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { encodeFdt, FDT_MAGIC, node, PhandleAllocator, prop, type FdtNode } from './fdt';
import { decodeFdt, FdtError, findNode, getString, getStrings, getU32, getU32s } from './fdtReader';

function hasDtc(): boolean {
  try {
    execFileSync('dtc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** dtc's DTS rendering of a blob, or undefined when dtc is not installed. */
function dtcDecode(dtb: Uint8Array): string | undefined {
  if (!hasDtc()) {
    console.warn('dtc not found: skipping the dtc cross-check');
    return undefined;
  }
  return execFileSync('dtc', ['-I', 'dtb', '-O', 'dts', '-'], { input: dtb, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
}

function sampleTree(): FdtNode {
  const ph = new PhandleAllocator();
  const intc = ph.next();
  return node(
    '',
    [prop.u32('#address-cells', 2), prop.u32('#size-cells', 2), prop.string('model', 'test,board')],
    [
      node('intc', [prop.u32('phandle', intc), prop.empty('interrupt-controller')]),
      node('memory@80000000', [prop.string('device_type', 'memory'), prop.u64Pairs('reg', [[0x8000_0000, 0x800_0000]])]),
      node('dev@1000', [
        prop.u64Pairs('reg', [[0x1000, 0x100]]),
        prop.strings('compatible', ['vendor,a', 'vendor,b']),
        prop.u32s('interrupts-extended', [intc, 3, intc, 7]),
        prop.u64('big', 0x1_2345_6789),
      ]),
    ],
  );
}

describe('encodeFdt', () => {
  it('writes a v17 header, an empty reservation map and aligned blocks', () => {
    const dtb = encodeFdt(sampleTree());
    const v = new DataView(dtb.buffer);
    expect(v.getUint32(0)).toBe(FDT_MAGIC);
    expect(v.getUint32(4)).toBe(dtb.length);
    expect(v.getUint32(16)).toBe(40); // off_mem_rsvmap
    expect(v.getUint32(8)).toBe(56); // struct right after the 16-byte terminator
    expect(v.getUint32(20)).toBe(17);
    expect(v.getUint32(24)).toBe(16);
    expect(v.getUint32(36) % 4).toBe(0);
    for (let i = 40; i < 56; i++) expect(dtb[i]).toBe(0);
    expect(v.getUint32(12)).toBe(56 + v.getUint32(36));
  });

  it('stores each property name once in the strings block', () => {
    const dtb = encodeFdt(sampleTree());
    const v = new DataView(dtb.buffer);
    const strings = String.fromCharCode(...dtb.subarray(v.getUint32(12), v.getUint32(12) + v.getUint32(32)));
    expect(strings.split('\0').filter((s) => s === 'reg')).toHaveLength(1);
    expect(strings.split('\0').filter((s) => s === 'phandle')).toHaveLength(1);
  });

  it('round-trips through the reader', () => {
    const tree = sampleTree();
    const decoded = decodeFdt(encodeFdt(tree, { bootCpuid: 3, reservations: [{ address: 0x8000_0000, size: 0x1000 }] }));
    expect(decoded.root).toEqual(tree);
    expect(decoded.bootCpuid).toBe(3);
    expect(decoded.reservations).toEqual([{ address: 0x8000_0000, size: 0x1000 }]);
    const dev = findNode(decoded.root, '/dev@1000')!;
    expect(getStrings(dev, 'compatible')).toEqual(['vendor,a', 'vendor,b']);
    expect(getU32s(dev, 'reg')).toEqual([0, 0x1000, 0, 0x100]);
    expect(getU32s(dev, 'big')).toEqual([1, 0x2345_6789]);
    expect(getU32(findNode(decoded.root, '/intc')!, 'phandle')).toBe(1);
    expect(getString(decoded.root, 'model')).toBe('test,board');
    expect(findNode(decoded.root, '/memory')?.name).toBe('memory@80000000');
    expect(findNode(decoded.root, '/nope')).toBeUndefined();
  });

  it('rejects malformed trees', () => {
    expect(() => encodeFdt(node('x'))).toThrow(RangeError);
    expect(() => encodeFdt(node('', [prop.u32('a', 1), prop.u32('a', 2)]))).toThrow(/duplicate property/);
    expect(() => encodeFdt(node('', [], [node('a'), node('a')]))).toThrow(/duplicate node/);
    expect(() => encodeFdt(node('', [], [node('')]))).toThrow(/empty/);
    expect(() => prop.u32('a', 2 ** 32)).toThrow(RangeError);
    expect(() => prop.u32('a', 1.5)).toThrow(RangeError);
    expect(() => prop.u64('a', -1)).toThrow(RangeError);
    expect(() => prop.string('a', 'caf\u00e9')).toThrow(RangeError);
    expect(() => prop.string('a', 'a\0b')).toThrow(RangeError);
  });

  it('is accepted by dtc', () => {
    const dts = dtcDecode(encodeFdt(sampleTree()));
    if (dts === undefined) return;
    expect(dts).toContain('compatible = "vendor,a\\0vendor,b";');
    expect(dts).toContain('interrupts-extended = <0x01 0x03 0x01 0x07>;');
    expect(dts).toContain('reg = <0x00 0x80000000 0x00 0x8000000>;');
    expect(dts).toContain('interrupt-controller;');
  });
});

describe('decodeFdt', () => {
  it('rejects every truncation and corruption with FdtError only', () => {
    const dtb = encodeFdt(sampleTree());
    for (let n = 0; n < dtb.length; n++) {
      expect(() => decodeFdt(dtb.subarray(0, n))).toThrow(FdtError);
    }
    let seed = 1;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 2000; i++) {
      const bad = dtb.slice();
      const flips = 1 + Math.floor(rand() * 4);
      for (let k = 0; k < flips; k++) bad[Math.floor(rand() * bad.length)] = Math.floor(rand() * 256);
      try {
        decodeFdt(bad);
      } catch (e) {
        expect(e).toBeInstanceOf(FdtError);
      }
    }
  });

  it('names the problem', () => {
    const dtb = encodeFdt(sampleTree());
    const bad = dtb.slice();
    bad[0] = 0;
    expect(() => decodeFdt(bad)).toThrow('not a device tree blob (bad magic)');
  });
});
