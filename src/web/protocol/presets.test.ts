import { describe, expect, it } from 'vitest';
import { parseXlConfig } from '../../core/tools/xlConfig';
import { Dom0Files } from '../worker/dom0Files';
import { presetsFor } from './presets';

const ELF = [{ name: 'hello', file: 'hello.elf', size: 1 }];
const LINUX = [
  { name: 'linux-6.12-nommu', file: 'linux/linux-6.12-nommu.Image', size: 2 },
  { name: 'linux-6.1-mmu', file: 'linux/linux-6.1-mmu.Image', size: 3 },
  { name: 'initramfs', file: 'linux/initramfs.cpio', size: 4 },
];

describe('presets', () => {
  it('one per image, and the Linux guests when the site has their kernel and the initramfs', () => {
    expect(presetsFor(ELF).map((p) => p.name)).toEqual(['hello']);
    expect(presetsFor([...ELF, ...LINUX]).map((p) => p.name)).toEqual([
      'linux-nommu',
      'linux-sbi',
      'linux-sbi-hvc',
      'linux-6.1-net',
      'linux-6.12-net',
      'hello',
    ]);
    expect(presetsFor([...ELF, LINUX[1]!]).map((p) => p.name)).toEqual(['hello']); // no initramfs
    expect(presetsFor([...ELF, LINUX[0]!, LINUX[2]!]).map((p) => p.name)).toEqual(['linux-nommu', 'linux-6.12-net', 'hello']);
    // the network presets: a vif on xenbr0 (virtio-net); 6.1 static from its command line, 6.12 by DHCP
    const net = new Map(presetsFor([...ELF, ...LINUX]).map((p) => [p.name, parseXlConfig(p.config)]));
    expect(net.get('linux-6.1-net')).toMatchObject({ memory: 128, firmware: 'sbi' });
    expect(net.get('linux-6.1-net')!.cmdline).toMatch(/ ip=10\.0\.0\.31::10\.0\.0\.1:255\.255\.255\.0::eth0:off$/);
    expect(net.get('linux-6.12-net')!.cmdline).toMatch(/ ip=dhcp$/);
    expect([...net.values()].filter((c) => c.vif !== undefined).map((c) => c.vif!.map((v) => v.bridge))).toEqual([['xenbr0'], ['xenbr0']]);
  });

  it('the Linux disk presets: with the rootfs, each kernel from its own overlay over it, no initramfs', () => {
    const rootfs = { name: 'rootfs', file: 'linux/rootfs.qcow2', size: 5 };
    expect(presetsFor([...ELF, ...LINUX, rootfs]).map((p) => p.name)).toEqual([
      'linux-nommu',
      'linux-sbi',
      'linux-sbi-hvc',
      'linux-6.12-disk',
      'linux-6.1-disk',
      'linux-6.1-net',
      'linux-6.12-net',
      'hello',
    ]);
    expect(presetsFor([...ELF, LINUX[0]!, rootfs]).map((p) => p.name)).toEqual(['linux-6.12-disk', 'hello']); // no initramfs needed
    const byName = new Map(presetsFor([...ELF, ...LINUX, rootfs]).map((p) => [p.name, parseXlConfig(p.config)]));
    const d61 = byName.get('linux-6.1-disk')!;
    expect(d61).toMatchObject({ firmware: 'sbi', kernel: 'guests/linux/linux-6.1-mmu.Image', cmdline: expect.stringMatching(/ root=\/dev\/vda rw$/) });
    expect(d61.ramdisk).toBeUndefined();
    expect(d61.disk).toEqual([
      { target: 'linux-6.1-disk.qcow2', format: 'qcow2', vdev: 'xvda', devid: 51712, access: 'rw', devtype: 'disk', backing: 'guests/linux/rootfs.qcow2' },
    ]);
    expect(byName.get('linux-6.12-disk')!.disk![0]!.target).toBe('linux-6.12-disk.qcow2');
  });

  it('the hostile test guest is a pv preset (its kernel runs only on the pv ABI)', () => {
    const hostile = presetsFor([{ name: 'hostile', file: 'hostile.elf', size: 1 }])[0]!;
    expect(parseXlConfig(hostile.config).type).toBe('pv');
  });

  it('Linux presets carry the ramdisk, the command line and, for S-mode, firmware = "sbi"', () => {
    const byName = new Map(presetsFor([...ELF, ...LINUX]).map((p) => [p.name, parseXlConfig(p.config)]));
    expect(byName.get('linux-nommu')).toMatchObject({
      type: 'hvm',
      firmware: 'none',
      kernel: 'guests/linux/linux-6.12-nommu.Image',
      ramdisk: 'guests/linux/initramfs.cpio',
    });
    expect(byName.get('linux-sbi')).toMatchObject({ type: 'hvm', firmware: 'sbi', kernel: 'guests/linux/linux-6.1-mmu.Image' });
    expect(byName.get('linux-sbi')!.cmdline).toMatch(/^console=ttyS0 /);
    expect(byName.get('linux-sbi-hvc')!.cmdline).toMatch(/^console=hvc0 /);
    expect(byName.get('hello')).toMatchObject({ kernel: 'guests/hello.elf', firmware: 'none' });
    expect(byName.get('hello')!.ramdisk).toBeUndefined();
  });

  it('Domain-0 finds the files a Linux preset names, under guests/linux/', async () => {
    const catalog = [...ELF, ...LINUX];
    const fetched: string[] = [];
    const files = new Dom0Files(catalog, presetsFor(catalog), async (f) => {
      fetched.push(f);
      return Uint8Array.of(f.length);
    });
    const cfg = parseXlConfig(files.readText('/etc/xen/linux-sbi.cfg'));
    await files.load(cfg.kernel);
    await files.load(cfg.ramdisk!);
    expect(fetched).toEqual(['linux/linux-6.1-mmu.Image', 'linux/initramfs.cpio']);
    expect(files.readBytes('public/guests/linux/initramfs.cpio')).toEqual(Uint8Array.of('linux/initramfs.cpio'.length));
    await expect(files.load('guests/elsewhere/initramfs.cpio')).rejects.toThrow(/no such file/);
  });

  it('the teaching OS (pv) also comes with a disk: its config names the image, which the preset makes on first use', () => {
    const presets = presetsFor([{ name: 'teaching-os-pv', file: 'teaching-os-pv.elf', size: 1 }]);
    expect(presets.map((p) => p.name)).toEqual(['teaching-os-pv', 'teaching-os-pv-disk', 'teaching-os-pv-net1', 'teaching-os-pv-net2']);
    const withDisk = presets[1]!;
    const cfg = parseXlConfig(withDisk.config);
    expect(cfg).toMatchObject({ type: 'pv', kernel: 'guests/teaching-os-pv.elf' });
    expect(cfg.disk).toEqual([{ target: 'teaching-os-pv.qcow2', format: 'qcow2', vdev: 'xvda', devid: 51712, access: 'rw', devtype: 'disk' }]);
    expect(withDisk.disks).toEqual([{ name: 'teaching-os-pv.qcow2', format: 'qcow2', size: 16 << 20 }]);
  });

  it('the networked teaching OS presets: a vif on xenbr0 whose ip= Domain-0 reserves, pv with either image, hvm with its own', () => {
    const presets = presetsFor([
      { name: 'teaching-os-pv', file: 'teaching-os-pv.elf', size: 1 },
      { name: 'teaching-os-hvm', file: 'teaching-os-hvm.elf', size: 1 },
    ]);
    const net = presets.filter((p) => p.name.includes('-net'));
    expect(net.map((p) => `${p.name} ${p.type}`)).toEqual(['teaching-os-pv-net1 pv', 'teaching-os-pv-net2 pv', 'teaching-os-hvm-net hvm']);
    const cfgs = net.map((p) => parseXlConfig(p.config));
    expect(cfgs.map((c) => c.vif?.map((v) => `${v.bridge} ${v.ip.join(',')}`))).toEqual([['xenbr0 167772171'], ['xenbr0 167772172'], ['xenbr0 167772181']]);
    expect(cfgs[2]).toMatchObject({ type: 'hvm', kernel: 'guests/teaching-os-hvm.elf' });
  });
});
