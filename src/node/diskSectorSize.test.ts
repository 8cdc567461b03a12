/**
 * A disk of 4096-byte logical sectors (xl.cfg's hyperlab key `sector-size=4096`), end to
 * end with the teaching OS: pv blkfront reads the `sector-size` blkback published and
 * shows it; its `disk read SECTOR N` still counts 512-byte units, so `disk read 8 8` is one
 * 4 KiB sector and blkback counts 8; `disk read 9 1` is not whole sectors, reaches blkback
 * and comes back BLKIF_RSP_ERROR, counted `misaligned`; `disk write` pads to a whole
 * sector. hvm: virtio-blk's blk_size says 4096 and the device answers IOERR likewise. An
 * image that is not whole sectors is refused at attach in one line.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hypervisor } from '../core/xen/common/hypervisor';
import { teachingOsWithDisks, typeOn } from './diskTestSupport';
import { waitForConsole } from '../testing/support';

let hv: Hypervisor | undefined;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hyperlab-ssize-'));
});
afterEach(() => {
  hv?.shutdownHost();
  hv = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function image(): string {
  const img = join(dir, 'disk.raw');
  const bytes = new Uint8Array(1 << 20);
  for (let i = 0; i < bytes.length; i += 512) bytes[i] = (i / 512) & 0xff; // sector n starts with byte n
  writeFileSync(img, bytes);
  return img;
}

describe('a disk of 4096-byte sectors (sector-size=4096)', () => {
  it('pv: blkfront shows sector-size 4096; reads in 512-byte units; a read that is not whole sectors gets the backend error', async () => {
    const img = image();
    const r = teachingOsWithDisks('pv', 'big', [`${img},raw,xvda,rw,sector-size=4096`]);
    hv = r.h;
    const { h, ts, d } = r;
    const run = (line: string, want: RegExp | string): Promise<string> => typeOn(h, d, /big\$ $/, line, want, 60_000);
    await waitForConsole(d, 'disk: xvda (51712): 2048 sectors of 512 bytes (1024 KiB), sector-size 4096, read-write, flush, connected to domain 0', {
      lf: true,
      ms: 60_000,
    });
    await waitForConsole(d, /big\$ $/, { lf: true, ms: 60_000 });
    expect(await run('disk', /ring-ref/)).toContain('xvda: device 51712, 2048 sectors of 512 bytes (1024 KiB), sector-size 4096, read-write');
    const dev = ts.disks.of(d.domid)[0]!.device;
    const nodes = ts.disks.inspect(d.domid)[0]!.backendNodes;
    expect(nodes['sector-size']).toBe('4096');
    expect(nodes['sectors']).toBe('2048');

    const rd0 = dev.stats.rdSect;
    const dump = await run('disk read 8 8', /00001ff0 /);
    expect(dump).toMatch(/^00001000 {2}08 00 00/m); // byte 4096 is sector 8 (512-byte units), not sector 8 of 4096 bytes (byte 32768)
    expect(dump).toMatch(/^00001200 {2}09 00 00/m);
    expect(dev.stats.rdSect - rd0).toBe(8);

    const bad = await run('disk read 9 1', 'BLKIF_RSP_ERROR');
    expect(bad).toContain('disk: xvda: read at sector 9: BLKIF_RSP_ERROR');
    expect(bad).toContain('disk: xvda has 4096-byte sectors: a request must start and end on one of their boundaries (SECTOR and N multiples of 8');
    expect(await run('disk read 8 4', 'BLKIF_RSP_ERROR')).toContain('disk: xvda: read at sector 8: BLKIF_RSP_ERROR');
    expect(dev.stats.refused.misaligned).toBe(2);
    expect(dev.stats.rdSect - rd0).toBe(8);

    // A write pads to a whole logical sector: 8 sectors of 512 bytes.
    expect(await run('disk write 16 four KiB at once', 'disk: wrote')).toContain('disk: wrote 16 bytes to xvda at sector 16 (8 sectors)');
    expect(await run('disk flush', 'flushed')).toContain('flushed');
    const bytes = readFileSync(img);
    expect(bytes.subarray(16 * 512, 16 * 512 + 16).toString()).toBe('four KiB at once');
    expect(bytes.subarray(16 * 512 + 16, 24 * 512).every((b) => b === 0)).toBe(true);
    expect(bytes[24 * 512]).toBe(24); // the next sector untouched
    expect(dev.stats.wrSect).toBe(8);

    // An image that is not whole 4096-byte sectors is refused before anything is attached, in one line naming the key.
    const odd = join(dir, 'odd.raw');
    writeFileSync(odd, new Uint8Array(4096 * 3 + 512));
    let said: string;
    try {
      said = r.xl('block-attach', String(d.domid), `${odd},raw,xvdb,rw,sector-size=4096`);
    } catch (e) {
      said = String(e);
    }
    expect(said).toContain(`disk xvdb: '${odd}' is 12800 bytes, not a whole number of 4096-byte sectors (sector-size)`);
    expect(ts.disks.of(d.domid)).toHaveLength(1);
  }, 120_000);

  it('hvm: virtio-blk offers blk_size 4096; a read that is not whole sectors is answered IOERR', async () => {
    const img = image();
    const r = teachingOsWithDisks('hvm', 'bigv', [`${img},raw,xvda,rw,sector-size=4096`]);
    hv = r.h;
    const { h, ts, d } = r;
    const run = (line: string, want: RegExp | string): Promise<string> => typeOn(h, d, /tos\$ $/, line, want, 60_000);
    await waitForConsole(d, /tos\$ $/, { lf: true, ms: 60_000 });
    expect(await run('disk', /errors\n/)).toContain('vda: virtio-blk, 2048 sectors of 512 bytes (1024 KiB), blk_size 4096, read-write');
    const blk = ts.disks.virtioOf(d.domid)[0]!.blk;
    expect(await run('disk read 8 8', /00001000 {2}08 00 00/)).toMatch(/^00001000 {2}08 00 00/m);
    expect(blk.stats.rdSect).toBe(8);
    const bad = await run('disk read 9 1', 'has 4096-byte sectors');
    expect(bad).toContain('virtio-blk: vda: request 0 answered status 1'); // VIRTIO_BLK_S_IOERR
    expect(blk.stats.refused.misaligned).toBe(1);
  }, 120_000);
});
