/** xl-disk-configuration(5) specs and xen-vbd-interface(7) numbering. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseXlConfig, validateDomainConfig } from './xlConfig';
import { DiskSpecError, formatDiskSpec, parseDiskSpec, vdevToDevid } from './xlDisk';

describe('disk specs', () => {
  it('positional and key=value forms mean the same disk', () => {
    const want = { target: '/img/a.raw', format: 'raw', vdev: 'xvda', devid: 51712, access: 'rw', devtype: 'disk' };
    expect(parseDiskSpec('/img/a.raw,raw,xvda,rw')).toEqual(want);
    expect(parseDiskSpec('/img/a.raw,,xvda')).toEqual(want);
    expect(parseDiskSpec('format=raw, vdev=xvda, access=rw, target=/img/a.raw')).toEqual(want);
    expect(parseDiskSpec('vdev=xvda, /img/a.raw')).toEqual(want);
  });

  it('the deprecated forms: a prefix on the target, then vdev and access; hdc:cdrom', () => {
    expect(parseDiskSpec('file:/img/a.raw,xvda,w')).toMatchObject({ target: '/img/a.raw', format: 'raw', vdev: 'xvda', access: 'rw' });
    expect(parseDiskSpec('raw:/dev/vg/guest-volume,hda,w')).toMatchObject({ target: '/dev/vg/guest-volume', devid: 768, access: 'rw' });
    expect(parseDiskSpec('tap:qcow2:/img/b.qcow2,xvdb,r')).toMatchObject({ target: '/img/b.qcow2', format: 'qcow2', access: 'ro' });
    expect(parseDiskSpec('raw:/root/image.iso,hdc:cdrom,ro')).toMatchObject({ target: '/root/image.iso', vdev: 'hdc', devtype: 'cdrom', access: 'ro' });
  });

  it("backing= (hyperlab's key): the base of an overlay the host creates; qcow2 only", () => {
    expect(parseDiskSpec('vdev=xvda, format=qcow2, backing=public/base.qcow2, target=disks/a.qcow2')).toMatchObject({
      target: 'disks/a.qcow2',
      format: 'qcow2',
      backing: 'public/base.qcow2',
    });
    expect(parseDiskSpec('a.qcow2,qcow2,xvda')).not.toHaveProperty('backing');
    expect(() => parseDiskSpec('backing=b.raw, a.raw,raw,xvda')).toThrow(/backing: only a qcow2 overlay has a backing file/);
    const cfg = validateDomainConfig(parseXlConfig('name = "a"\nkernel = "k"\ndisk = [ "format=qcow2, vdev=xvda, backing=b.qcow2, target=a.qcow2" ]'));
    expect(cfg.disk?.[0]?.backing).toBe('b.qcow2'); // kept through the config's validation
  });

  it("sector-size= (hyperlab's key): the logical sector size, a power of two from 512 to 4096; bad values refused in one line naming the key", () => {
    expect(parseDiskSpec('lab.raw,raw,xvda,rw,sector-size=4096')).toMatchObject({ target: 'lab.raw', vdev: 'xvda', access: 'rw', sectorSize: 4096 });
    expect(parseDiskSpec('sector-size=1024, vdev=xvdb, target=b.raw').sectorSize).toBe(1024);
    // 512 is the default: the spec is the same as without the key.
    expect(parseDiskSpec('a.raw,raw,xvda,sector-size=512')).toEqual(parseDiskSpec('a.raw,raw,xvda'));
    expect(parseDiskSpec('a.raw,raw,xvda')).not.toHaveProperty('sectorSize');
    // Written back (save files, xl block-list) and read again: the same disk.
    const d = parseDiskSpec('a.raw,raw,xvda,sector-size=4096');
    expect(formatDiskSpec(d)).toBe('format=raw, vdev=xvda, access=rw, sector-size=4096, target=a.raw');
    expect(parseDiskSpec(formatDiskSpec(d))).toEqual(d);
    for (const bad of ['1000', '256', '8192', '0', '-4096', '4096.0', '0x1000', 'big', '513']) {
      expect(() => parseDiskSpec(`a.raw,raw,xvda,sector-size=${bad}`), bad).toThrow(DiskSpecError);
      expect(() => parseDiskSpec(`a.raw,raw,xvda,sector-size=${bad}`), bad).toThrow(
        `disk 'a.raw,raw,xvda,sector-size=${bad}': sector-size '${bad}' must be a power of two from 512 to 4096`,
      );
    }
    expect(() => parseDiskSpec('a.raw,raw,xvda,sector-size=')).not.toThrow(); // empty: the default, as for the other keys
    expect(() => parseDiskSpec('a.raw,raw,xvda,sector-size=4096,sector-size=512')).toThrow(/sector-size is given twice/);
    const cfg = validateDomainConfig(parseXlConfig('name = "a"\nkernel = "k"\ndisk = [ "a.raw,raw,xvda,rw,sector-size=2048" ]'));
    expect(cfg.disk?.[0]?.sectorSize).toBe(2048);
  });

  it('target= takes the rest of the string, commas included', () => {
    expect(parseDiskSpec('vdev=xvdb, access=ro, target=/odd,name.img').target).toBe('/odd,name.img');
    expect(parseDiskSpec('vdev=xvdb, access=ro, target=/odd,name.img').access).toBe('ro');
  });

  it('qcow2, read-only and cdrom', () => {
    expect(parseDiskSpec('base.qcow2,qcow2,xvdb,ro')).toMatchObject({ format: 'qcow2', access: 'ro', devid: 51728 });
    expect(parseDiskSpec('/root/image.iso,,hdc,cdrom')).toMatchObject({ devtype: 'cdrom', access: 'ro', devid: 22 << 8 });
    expect(parseDiskSpec('/root/image.iso,,hdc,,cdrom')).toMatchObject({ devtype: 'cdrom', access: 'ro' });
    expect(parseDiskSpec('/root/image.iso,raw,hdc,devtype=cdrom')).toMatchObject({ devtype: 'cdrom' });
    expect(parseDiskSpec('a.img,,xvda,r').access).toBe('ro');
    expect(parseDiskSpec('a.img,,xvda,w').access).toBe('rw');
  });

  it('errors name the key at fault', () => {
    const bad: [string, RegExp][] = [
      ['a.img,vhd,xvda', /format 'vhd' is not supported/],
      ['a.img,,xvda,rx', /access 'rx' must be rw or ro/],
      ['a.img,,floppy', /vdev 'floppy' is not a device name/],
      ['a.img', /no vdev given/],
      ['vdev=xvda', /no target/],
      ['a.img,,xvda,rw,extra', /too many positional parameters at 'extra'/],
      ['a.img,,xvda,colour=blue', /unknown key 'colour'/],
      ['a.img,,xvda,vdev=xvdb', /vdev is given twice/],
      ['a.img,,hdc,rw,cdrom', /access: a cdrom is read-only/],
      ['a.img,,xvda,backend=3', /backend '3'/],
    ];
    for (const [spec, re] of bad) expect(() => parseDiskSpec(spec), spec).toThrow(re);
    expect(() => parseDiskSpec('a.img')).toThrow(DiskSpecError);
  });

  it('vdev numbers as xen-vbd-interface(7)', () => {
    expect(vdevToDevid('xvda')).toBe(51712);
    expect(vdevToDevid('xvdb')).toBe(51728);
    expect(vdevToDevid('xvda1')).toBe(51713);
    expect(vdevToDevid('xvdp15')).toBe((202 << 8) | (15 << 4) | 15);
    expect(vdevToDevid('xvdq')).toBe((1 << 28) | (16 << 8));
    expect(vdevToDevid('xvdaa')).toBe((1 << 28) | (26 << 8));
    expect(vdevToDevid('xvda16')).toBe((1 << 28) | 16);
    expect(vdevToDevid('sda')).toBe(8 << 8);
    expect(vdevToDevid('sdb2')).toBe((8 << 8) | (1 << 4) | 2);
    expect(vdevToDevid('hda')).toBe(768);
    expect(vdevToDevid('hdb')).toBe(768 + 64);
    expect(vdevToDevid('hdd1')).toBe((22 << 8) | 64 | 1);
    expect(vdevToDevid('hde')).toBeUndefined();
    expect(vdevToDevid('51712')).toBe(51712);
    expect(vdevToDevid('xvda01')).toBeUndefined();
    expect(vdevToDevid('vda')).toBeUndefined();
  });

  it('xl.cfg disk = [ ... ]: commas inside quoted specs, errors name the config line', () => {
    const cfg = parseXlConfig(`name = "d"\nkernel = "k"\ndisk = [ '/img/a.raw,raw,xvda,rw', "format=qcow2, vdev=xvdb, access=ro, target=b.qcow2", ]`);
    expect(cfg.disk?.map((d) => [d.vdev, d.format, d.access, d.target])).toEqual([
      ['xvda', 'raw', 'rw', '/img/a.raw'],
      ['xvdb', 'qcow2', 'ro', 'b.qcow2'],
    ]);
    expect(() => parseXlConfig(`name = "d"\nkernel = "k"\n\ndisk = [ 'a.img,,xvda,rw,bogus=1' ]`)).toThrow(
      /^line 4: disk 'a.img,,xvda,rw,bogus=1': unknown key 'bogus'/,
    );
    expect(() => parseXlConfig(`name = "d"\nkernel = "k"\ndisk = [ 'a.img,,xvda', 'b.img,,51712' ]`)).toThrow(ConfigError);
    expect(() => parseXlConfig(`name = "d"\nkernel = "k"\ndisk = 'a.img,,xvda'`)).toThrow(/line 3: disk must be a \[list\]/);
  });
});
