/**
 * xl.cfg-style domain configuration (docs/man/xl.cfg.5.pod in Xen): `key = value` lines,
 * values are numbers, "strings" or 'strings', or [lists]; `#` starts a comment. Defaults
 * as in Xen (CONFIG_DEFAULTS). A mistake is a ConfigError naming the line.
 */
import { DiskSpecError, parseDiskSpec, type DiskSpec } from './xlDisk';
import { formatVifSpec, parseVifSpec, VifSpecError, type VifConfig } from './xlVif';
import { formatMac } from '../net/ethernet';

export type ActionOnEvent = 'destroy' | 'restart' | 'preserve';
export type Firmware = 'none' | 'sbi';

export interface DomainConfig {
  name: string;
  type: 'pv' | 'hvm';
  /** MiB of RAM at start. */
  memory: number;
  /** MiB the domain may grow to (balloon); >= memory. */
  maxmem: number;
  vcpus: number;
  kernel: string;
  ramdisk?: string;
  cmdline?: string;
  /**
   * hvm only. "none": the vCPU starts in M-mode at 0x80000000 as QEMU's reset vector leaves
   * it (`-bios none`). "sbi": it starts in S-mode at the kernel's entry with a0 = hartid and
   * a1 = the device tree, and hyperlab is its SBI firmware (docs/hypervisor.md).
   */
  firmware: Firmware;
  /** Credit scheduler weight (xl.cfg cpu_weight), 1..65535. */
  cpu_weight: number;
  /** Percent of one pCPU, 0 = no cap. */
  cap: number;
  on_poweroff: ActionOnEvent;
  on_reboot: ActionOnEvent;
  on_crash: ActionOnEvent;
  /** Virtual disks (xl.cfg `disk = [ 'spec', ... ]`, xl-disk-configuration(5)): served by blkback to pv domains. */
  disk?: DiskSpec[];
  /** Network interfaces (xl.cfg `vif = [ 'spec', ... ]`, xl-network-configuration(5)): served by netback to pv domains; devid filled in. */
  vif?: (VifConfig & { devid: number })[];
  /** xl.cfg `nomigrate = 1` (libxl's disable_migrate): `xl migrate` refuses the domain (tools/migration/save.ts checkMigratable). */
  nomigrate?: boolean;
}

export class ConfigError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(line > 0 ? `line ${line}: ${message}` : message);
  }
}

type Value = number | string | Value[];

/** Config text larger than this is refused before it is parsed. */
export const MAX_CONFIG_BYTES = 1 << 20;
/** Xen's MAX_GUEST_CMDLINE is 1024 bytes with the terminating NUL. */
export const MAX_CMDLINE = 1023;
/** Lists in lists: xl.cfg needs two levels (disk and vif specs); more is a mistake or an attack. */
const MAX_LIST_DEPTH = 8;

const ACTIONS: readonly ActionOnEvent[] = ['destroy', 'restart', 'preserve'];
const FIRMWARES: readonly Firmware[] = ['none', 'sbi'];

/** The keys hyperlab knows, each with its check. */
const KEYS: Record<string, (v: Value, line: number) => Partial<DomainConfig>> = {
  name: (v, l) => ({ name: str(v, l, 'name', /^[A-Za-z0-9_.-]{1,64}$/) }),
  type: (v, l) => {
    const t = str(v, l, 'type');
    if (t !== 'pv' && t !== 'hvm') throw new ConfigError(l, `type must be "pv" or "hvm", not "${t}"`);
    return { type: t };
  },
  memory: (v, l) => ({ memory: int(v, l, 'memory', 4, 1024) }),
  maxmem: (v, l) => ({ maxmem: int(v, l, 'maxmem', 4, 1024) }),
  vcpus: (v, l) => ({ vcpus: int(v, l, 'vcpus', 1, 8) }),
  kernel: (v, l) => ({ kernel: str(v, l, 'kernel') }),
  ramdisk: (v, l) => ({ ramdisk: str(v, l, 'ramdisk') }),
  cmdline: (v, l) => ({ cmdline: cmdline(v, l, 'cmdline') }),
  firmware: (v, l) => {
    const f = str(v, l, 'firmware');
    if (!(FIRMWARES as readonly string[]).includes(f)) throw new ConfigError(l, `firmware must be "none" or "sbi", not "${f}"`);
    return { firmware: f as Firmware };
  },
  extra: (v, l) => ({ cmdline: cmdline(v, l, 'extra') }),
  cpu_weight: (v, l) => ({ cpu_weight: int(v, l, 'cpu_weight', 1, 65535) }),
  cap: (v, l) => ({ cap: int(v, l, 'cap', 0, 800) }),
  on_poweroff: (v, l) => ({ on_poweroff: action(v, l, 'on_poweroff') }),
  on_reboot: (v, l) => ({ on_reboot: action(v, l, 'on_reboot') }),
  on_crash: (v, l) => ({ on_crash: action(v, l, 'on_crash') }),
  disk: (v, l) => ({ disk: disks(v, l) }),
  vif: (v, l) => ({ vif: vifs(v, l) }),
  nomigrate: (v, l) => ({ nomigrate: (v as unknown) === true || ((v as unknown) !== false && int(v, l, 'nomigrate', 0, 1) === 1) }),
};

/** Xen's defaults (xl.cfg(5)): 1 vCPU, weight 256, no cap, destroy on poweroff and crash, restart on reboot. */
export const CONFIG_DEFAULTS = {
  type: 'pv',
  memory: 32,
  vcpus: 1,
  cpu_weight: 256,
  cap: 0,
  firmware: 'none',
  on_poweroff: 'destroy',
  on_reboot: 'restart',
  on_crash: 'destroy',
} as const;

export function parseXlConfig(text: string): DomainConfig {
  if (text.length > MAX_CONFIG_BYTES) throw new ConfigError(0, `the config is too large (${text.length} characters, at most ${MAX_CONFIG_BYTES})`);
  const cfg: Partial<DomainConfig> = {};
  const seenAt = new Map<string, number>(); // key -> its line
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const body = stripComment(raw).trim();
    if (body === '') return;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(body);
    if (!m) throw new ConfigError(line, `expected "key = value", got "${clip(body)}"`);
    const key = m[1]!;
    const check = Object.hasOwn(KEYS, key) ? KEYS[key] : undefined;
    if (!check) throw new ConfigError(line, `unknown key "${clip(key)}"`);
    if (seenAt.has(key)) throw new ConfigError(line, `"${key}" is set twice`);
    seenAt.set(key, line);
    Object.assign(cfg, check(parseValue(m[2]!.trim(), line, 0), line));
  });
  return complete(cfg, seenAt);
}

/**
 * The same checks for a config given as an object (the automation API, the page's create
 * panel): every key known and checked as in a file, defaults applied. Errors are one line.
 */
export function validateDomainConfig(input: unknown): DomainConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ConfigError(0, 'a domain config must be an object of xl.cfg keys');
  const cfg: Partial<DomainConfig> = {};
  for (const [key, v] of Object.entries(input)) {
    if (v === undefined) continue;
    const check = Object.hasOwn(KEYS, key) ? KEYS[key] : undefined;
    if (!check) throw new ConfigError(0, `unknown key "${clip(key)}"`);
    if (
      typeof v !== 'number' &&
      typeof v !== 'string' &&
      !((key === 'disk' || key === 'vif') && Array.isArray(v)) &&
      !(key === 'nomigrate' && typeof v === 'boolean')
    )
      throw new ConfigError(0, `${key} must be a number or a string`);
    Object.assign(cfg, check(v as Value, 0));
  }
  return complete(cfg, new Map());
}

function complete(cfg: Partial<DomainConfig>, seenAt: ReadonlyMap<string, number>): DomainConfig {
  if (cfg.name === undefined) throw new ConfigError(0, 'the config has no "name"');
  if (cfg.kernel === undefined) throw new ConfigError(0, 'the config has no "kernel"');
  const full: DomainConfig = { ...CONFIG_DEFAULTS, ...cfg, maxmem: cfg.maxmem ?? cfg.memory ?? CONFIG_DEFAULTS.memory } as DomainConfig;
  if (full.firmware !== 'none' && full.type !== 'hvm') {
    throw new ConfigError(seenAt.get('firmware') ?? 0, `firmware = "${full.firmware}" is for hvm domains (pv domains always have hyperlab's SBI)`);
  }
  if (full.maxmem < full.memory) throw new ConfigError(0, `maxmem (${full.maxmem}) is below memory (${full.memory})`);
  return full;
}

/** A value quoted in an error message: at most 40 characters of it. */
function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

function stripComment(s: string): string {
  let quote = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return s.slice(0, i);
  }
  return s;
}

function parseValue(text: string, line: number, depth: number): Value {
  if (/^-?\d+$/.test(text)) return Number(text);
  const q = /^"([^"]*)"$|^'([^']*)'$/.exec(text);
  if (q) return q[1] ?? q[2]!;
  if (text.startsWith('[') && text.endsWith(']')) {
    if (depth >= MAX_LIST_DEPTH) throw new ConfigError(line, `lists nested more than ${MAX_LIST_DEPTH} deep`);
    const inner = text.slice(1, -1).trim();
    return inner === '' ? [] : splitList(inner).map((t) => parseValue(t.trim(), line, depth + 1));
  }
  throw new ConfigError(line, `cannot read the value "${clip(text)}" (a number, a "string" or a [list])`);
}

/** Split a list's inside at its top-level commas: not inside quotes or nested brackets. */
function splitList(inner: string): string[] {
  const items: string[] = [];
  let quote = '',
    depth = 0,
    start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === ',' && depth === 0) {
      items.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  const last = inner.slice(start);
  if (last.trim() !== '' || items.length === 0) items.push(last); // a trailing comma is allowed
  return items;
}

/** `disk = [ 'spec', ... ]`: each spec parsed; two disks may not share a vdev. */
function disks(v: Value, line: number): DiskSpec[] {
  if (!Array.isArray(v)) throw new ConfigError(line, 'disk must be a [list] of "disk specs"');
  const out: DiskSpec[] = [];
  for (const item of v as unknown[]) {
    // A spec string, or (from validateDomainConfig) a parsed spec object, checked again through its text.
    const text = typeof item === 'string' ? item : specObjectText(item);
    if (text === undefined) throw new ConfigError(line, 'disk: each entry must be a "string"');
    let d: DiskSpec;
    try {
      d = parseDiskSpec(text);
    } catch (e) {
      if (e instanceof DiskSpecError) throw new ConfigError(line, e.message);
      throw e;
    }
    if (out.some((o) => o.devid === d.devid)) throw new ConfigError(line, `disk: vdev ${d.vdev} is given twice`);
    out.push(d);
  }
  return out;
}

/** `vif = [ 'spec', ... ]`: each spec parsed, device ids given in order (the lowest free one), no MAC or devid twice. */
function vifs(v: Value, line: number): (VifConfig & { devid: number })[] {
  if (!Array.isArray(v)) throw new ConfigError(line, 'vif must be a [list] of "vif specs"');
  const parsed: VifConfig[] = [];
  for (const item of v as unknown[]) {
    // A spec string, or (from validateDomainConfig) a parsed VifConfig, checked again through its text.
    const text =
      typeof item === 'string'
        ? item
        : typeof item === 'object' && item !== null && typeof (item as VifConfig).mac === 'number'
          ? formatVifSpec(item as VifConfig)
          : undefined;
    if (text === undefined) throw new ConfigError(line, 'vif: each entry must be a "string"');
    try {
      parsed.push(parseVifSpec(text));
    } catch (e) {
      if (e instanceof VifSpecError) throw new ConfigError(line, e.message);
      throw e;
    }
  }
  const used = new Set<number>();
  for (const p of parsed) {
    if (p.devid === undefined) continue;
    if (used.has(p.devid)) throw new ConfigError(line, `vif: devid ${p.devid} is given twice`);
    used.add(p.devid);
  }
  const out: (VifConfig & { devid: number })[] = [];
  for (const p of parsed) {
    let devid = p.devid;
    if (devid === undefined) {
      devid = 0;
      while (used.has(devid)) devid++;
      used.add(devid);
    }
    if (out.some((o) => o.mac === p.mac)) throw new ConfigError(line, `vif: mac ${formatMac(p.mac)} is given twice`);
    out.push({ ...p, devid });
  }
  return out;
}

/** A DiskSpec-shaped object as spec text (target last: it takes the rest). */
function specObjectText(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
  const o = item as Record<string, unknown>;
  const f = (k: string): string => (typeof o[k] === 'string' ? o[k] : '');
  const backing = f('backing') !== '' ? `, backing=${f('backing')}` : ''; // hyperlab's key (xlDisk.ts)
  // hyperlab's key too; anything but a number is sent as one the parser refuses.
  const sectorSize = o['sectorSize'] === undefined ? '' : `, sector-size=${typeof o['sectorSize'] === 'number' ? String(o['sectorSize']) : '?'}`;
  return `format=${f('format')}, vdev=${f('vdev')}, access=${f('access')}, devtype=${f('devtype')}${backing}${sectorSize}, target=${f('target')}`;
}

function str(v: Value, line: number, key: string, pattern?: RegExp): string {
  if (typeof v !== 'string') throw new ConfigError(line, `${key} must be a "string"`);
  if (pattern && !pattern.test(v)) throw new ConfigError(line, `${key} "${clip(v)}" is not allowed (1 to 64 letters, digits, _ . -)`);
  return v;
}

function int(v: Value, line: number, key: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(line, `${key} must be a whole number`);
  if (v < min || v > max) throw new ConfigError(line, `${key} must be between ${min} and ${max}, not ${v}`);
  return v;
}

function cmdline(v: Value, line: number, key: string): string {
  const c = str(v, line, key);
  const bytes = new TextEncoder().encode(c).length;
  if (bytes > MAX_CMDLINE) throw new ConfigError(line, `${key} is too long (${bytes} bytes, at most ${MAX_CMDLINE})`);
  return c;
}

function action(v: Value, line: number, key: string): ActionOnEvent {
  const a = str(v, line, key);
  if (!(ACTIONS as readonly string[]).includes(a)) throw new ConfigError(line, `${key} must be one of ${ACTIONS.join(', ')}, not "${a}"`);
  return a as ActionOnEvent;
}
