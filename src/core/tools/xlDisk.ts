/**
 * One `disk = [ ... ]` entry of xl.cfg, in Xen's xl-disk-configuration(5) syntax: comma-
 * separated `key=value` pairs, flags and positional parameters. Positional parameters fill
 * the ones not yet given, in the order target, format, vdev, access (an empty one takes
 * the default); `target=` must come last and takes the rest of the string, commas and all.
 * So these are the same disk:
 *
 *   /images/root.img,raw,xvda,rw
 *   /images/root.img,,xvda
 *   format=raw, vdev=xvda, access=rw, target=/images/root.img
 *
 * Virtual device names number as xen-vbd-interface(7) says: xvd disk d partition p is
 * 202 << 8 | d << 4 | p (xvda = 51712) for d < 16 and p < 16, else 1 << 28 | d << 8 | p;
 * sd is 8 << 8 | d << 4 | p; hd is 3 << 8 (hda, hdb) or 22 << 8 (hdc, hdd) | d << 6 | p.
 * A plain number is taken as the device id itself. The deprecated forms are read too:
 * `file:/images/a.img,xvda,w` (a prefix on the target, then no positional format) and
 * `hdc:cdrom`.
 *
 * One key is hyperlab's own: `backing=BASE` (format=qcow2 only) makes the target a private
 * overlay over BASE, which the host creates when the target does not exist yet (the
 * Linux disk presets: docs/linux.md). xl leaves image creation to qemu-img; here the
 * config says it, so that the first `xl create` works.
 *
 * A second is hyperlab's too: `sector-size=N` (512, 1024, 2048 or 4096; default 512) is the
 * disk's logical sector size, which blkback publishes as `sector-size` and
 * `physical-sector-size` and virtio-blk as `blk_size` (Xen's blkback takes it from the
 * backing device, bdev_logical_block_size; an image file has none, so the config says it).
 * The image's size must be a whole number of such sectors (tools/vbd.ts checks at open).
 */
export type DiskFormat = 'raw' | 'qcow2';

export interface DiskSpec {
  /** The image: a path (Node) or an image name (browser). */
  target: string;
  format: DiskFormat;
  /** The name the guest is told (xvda...), and its number (the xenstore device id). */
  vdev: string;
  devid: number;
  access: 'rw' | 'ro';
  devtype: 'disk' | 'cdrom';
  /** hyperlab's key: the base image of an overlay the host creates at `target` if missing. */
  backing?: string;
  /** hyperlab's key: the logical sector size in bytes (absent: 512). */
  sectorSize?: number;
}

/** The sector sizes `sector-size=` takes: blkif.h's "a power of two with a minimum value of 512", up to a page. */
export const MIN_SECTOR_SIZE = 512;
export const MAX_SECTOR_SIZE = 4096;

export class DiskSpecError extends Error {}

const KEYS = ['target', 'format', 'vdev', 'access', 'devtype', 'backend', 'backing', 'sector-size'] as const;
type Key = (typeof KEYS)[number];
const POSITIONAL: readonly Key[] = ['target', 'format', 'vdev', 'access'];
/** Deprecated target prefixes (xl-disk-configuration(5)): raw:, qcow2:, file:, phy:, aio:, tap:aio:, tap:qcow2:... */
const DEPRECATED_PREFIX = /^(?:tap2?:)?(raw|qcow2|file|phy|aio):/;

/** Parse one disk spec; a mistake is a DiskSpecError naming the key (or the parameter) at fault. */
export function parseDiskSpec(text: string): DiskSpec {
  const got = new Map<Key, string>();
  const set = (key: Key, value: string): void => {
    if (got.has(key)) throw new DiskSpecError(`disk '${clip(text)}': ${key} is given twice`);
    got.set(key, value);
  };
  let rest = text;
  while (rest.length > 0) {
    const lead = rest.trimStart();
    if (lead.startsWith('target=')) {
      set('target', lead.slice('target='.length));
      break;
    }
    const comma = rest.indexOf(',');
    const param = (comma < 0 ? rest : rest.slice(0, comma)).trim();
    rest = comma < 0 ? '' : rest.slice(comma + 1);
    const eq = param.indexOf('=');
    if (eq >= 0) {
      const key = param.slice(0, eq).trim();
      if (!(KEYS as readonly string[]).includes(key)) throw new DiskSpecError(`disk '${clip(text)}': unknown key '${clip(key)}'`);
      set(key as Key, param.slice(eq + 1).trim());
    } else if (param === 'cdrom') {
      set('devtype', 'cdrom');
    } else {
      const next = POSITIONAL.find((k) => !got.has(k));
      if (next === undefined) throw new DiskSpecError(`disk '${clip(text)}': too many positional parameters at '${clip(param)}'`);
      if (next === 'target') {
        // The deprecated form: a prefix on the target names its format, and no positional format follows.
        const m = DEPRECATED_PREFIX.exec(param);
        if (m) {
          got.set('target', param.slice(m[0].length));
          got.set('format', m[1] === 'qcow2' ? 'qcow2' : (got.get('format') ?? ''));
          continue;
        }
      }
      if (next === 'vdev' && param.endsWith(':cdrom')) {
        got.set('vdev', param.slice(0, -':cdrom'.length)); // deprecated: hdc:cdrom
        set('devtype', 'cdrom');
        continue;
      }
      got.set(next, param); // empty: the default
    }
  }
  const target = got.get('target') ?? '';
  if (target === '') throw new DiskSpecError(`disk '${clip(text)}': no target (the image) given`);
  const format = got.get('format') || 'raw';
  if (format !== 'raw' && format !== 'qcow2') throw new DiskSpecError(`disk '${clip(text)}': format '${clip(format)}' is not supported (raw or qcow2)`);
  const vdev = got.get('vdev') ?? '';
  if (vdev === '') throw new DiskSpecError(`disk '${clip(text)}': no vdev given (xvda, hda, sda...)`);
  const devid = vdevToDevid(vdev);
  if (devid === undefined) throw new DiskSpecError(`disk '${clip(text)}': vdev '${clip(vdev)}' is not a device name (xvda, hda, sda, or a number)`);
  const devtype = got.get('devtype') || 'disk';
  if (devtype !== 'disk' && devtype !== 'cdrom') throw new DiskSpecError(`disk '${clip(text)}': devtype '${clip(devtype)}' must be disk or cdrom`);
  const accessText = got.get('access') || (devtype === 'cdrom' ? 'ro' : 'rw');
  const access = accessText === 'rw' || accessText === 'w' ? 'rw' : accessText === 'ro' || accessText === 'r' ? 'ro' : undefined;
  if (access === undefined) throw new DiskSpecError(`disk '${clip(text)}': access '${clip(accessText)}' must be rw or ro`);
  if (devtype === 'cdrom' && access === 'rw') throw new DiskSpecError(`disk '${clip(text)}': access: a cdrom is read-only`);
  const backend = got.get('backend') || '0';
  if (backend !== '0' && backend !== 'Domain-0') throw new DiskSpecError(`disk '${clip(text)}': backend '${clip(backend)}': only Domain-0 serves disks`);
  const backing = got.get('backing') ?? '';
  if (backing !== '' && format !== 'qcow2') throw new DiskSpecError(`disk '${clip(text)}': backing: only a qcow2 overlay has a backing file`);
  const sizeText = got.get('sector-size') ?? '';
  const sectorSize = sizeText === '' ? undefined : Number(sizeText);
  if (
    sectorSize !== undefined &&
    (!/^\d+$/.test(sizeText) || sectorSize < MIN_SECTOR_SIZE || sectorSize > MAX_SECTOR_SIZE || (sectorSize & (sectorSize - 1)) !== 0)
  )
    throw new DiskSpecError(`disk '${clip(text)}': sector-size '${clip(sizeText)}' must be a power of two from ${MIN_SECTOR_SIZE} to ${MAX_SECTOR_SIZE}`);
  return {
    target,
    format,
    vdev,
    devid,
    access,
    devtype,
    ...(backing !== '' ? { backing } : {}),
    ...(sectorSize !== undefined && sectorSize !== MIN_SECTOR_SIZE ? { sectorSize } : {}),
  };
}

/** A disk name as its index: a = 0 ... z = 25, aa = 26 (bijective base 26). */
function diskIndex(letters: string): number {
  let n = 0;
  for (const c of letters) n = n * 26 + (c.charCodeAt(0) - 96);
  return n - 1;
}

/** xen-vbd-interface(7): the device id of a vdev name, or undefined if it is none. */
export function vdevToDevid(vdev: string): number | undefined {
  if (/^\d+$/.test(vdev)) {
    const n = Number(vdev);
    return n > 0 && n < 2 ** 31 ? n : undefined;
  }
  const m = /^(xvd|sd|hd)([a-z]{1,4})(\d*)$/.exec(vdev);
  if (!m) return undefined;
  const disk = diskIndex(m[2]!);
  const part = m[3] === '' ? 0 : Number(m[3]);
  if (m[3]!.length > 1 && m[3]!.startsWith('0')) return undefined;
  switch (m[1]) {
    case 'xvd':
      if (disk < 16 && part < 16) return (202 << 8) | (disk << 4) | part;
      if (disk < 1 << 20 && part < 256) return (1 << 28) + disk * 256 + part;
      return undefined;
    case 'sd':
      return disk < 16 && part < 16 ? (8 << 8) | (disk << 4) | part : undefined;
    default: // hd: hda and hdb on major 3, hdc and hdd on major 22
      if (disk > 3 || part > 63) return undefined;
      return ((disk < 2 ? 3 : 22) << 8) | ((disk & 1) << 6) | part;
  }
}

/** A spec written back in the canonical key=value form (for messages and `xl block-list`). */
export function formatDiskSpec(d: DiskSpec): string {
  return `format=${d.format}, vdev=${d.vdev}, access=${d.access}${d.devtype === 'cdrom' ? ', devtype=cdrom' : ''}${d.backing !== undefined ? `, backing=${d.backing}` : ''}${d.sectorSize !== undefined ? `, sector-size=${d.sectorSize}` : ''}, target=${d.target}`;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}...` : s;
}
