/**
 * Presets: one xl.cfg per guest image the lab ships (public/guests), as Domain-0 keeps
 * them in /etc/xen. What the page's "create" menu offers and what `xl create hello.cfg`
 * reads. Images the lab does not know get an hvm config (a "-pv" suffix means pv).
 */
import type { GuestFile, PresetInfo } from './hvProtocol';

const KNOWN: Readonly<Record<string, { type: 'pv' | 'hvm'; description: string }>> = {
  hello: { type: 'hvm', description: 'prints a greeting and powers off' },
  'isa-selftest': { type: 'hvm', description: 'checks the ISA and the privileged architecture, then powers off' },
  cpubench: { type: 'hvm', description: 'CPU benchmark: prints its timing and powers off' },
  'teaching-os-hvm': { type: 'hvm', description: 'the teaching OS on the virt board (UART, CLINT, PLIC), with a shell' },
  'teaching-os-pv': { type: 'pv', description: 'the teaching OS on the paravirtual ABI (hypercalls, rings, event channels), with a shell' },
};

/** The order presets are listed in: the teaching OS first, then the small guests. */
const ORDER = ['teaching-os-pv', 'teaching-os-hvm', 'hello', 'cpubench', 'isa-selftest'];

/** Where Domain-0 keeps the preset configs. */
export const CONFIG_DIR = '/etc/xen';
/** Where config files name the shipped images. */
export const GUEST_DIR = 'guests';
/** Where uploaded images live. */
export const UPLOAD_DIR = 'uploads';

/** The RAM a preset gives its domain, MiB. */
export const PRESET_MEMORY_MIB = 16;

export function presetType(name: string): 'pv' | 'hvm' {
  return KNOWN[name]?.type ?? (name.endsWith('-pv') ? 'pv' : 'hvm');
}

export function domainConfig(o: { name: string; type: 'pv' | 'hvm'; kernel: string; description?: string; memory?: number }): string {
  return [
    ...(o.description ? [`# ${o.name}: ${o.description}`] : []),
    `name = "${o.name}"`,
    `type = "${o.type}"`,
    `memory = ${o.memory ?? PRESET_MEMORY_MIB}`,
    `kernel = "${o.kernel}"`,
    'on_poweroff = "preserve"',
    '',
  ].join('\n');
}

export function presetsFor(catalog: readonly GuestFile[]): PresetInfo[] {
  const rank = (n: string): number => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  return [...catalog]
    .sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name))
    .map((g) => {
      const type = presetType(g.name);
      const description = KNOWN[g.name]?.description ?? `the image ${g.file}`;
      return { name: g.name, type, description, config: domainConfig({ name: g.name, type, kernel: `${GUEST_DIR}/${g.file}`, description }) };
    });
}

/** A domain name (letters, digits, _ . -) made from a file name. */
export function domainNameFrom(fileName: string): string {
  const name = fileName.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64);
  return name === '' ? 'upload' : name;
}

/**
 * The default scenario: the teaching OS as a pv and an hvm domain when both images exist,
 * else hello beside a longer self-checking guest.
 */
export function defaultScenario(catalog: readonly GuestFile[]): string[] {
  const has = (n: string): boolean => catalog.some((g) => g.name === n);
  if (has('teaching-os-pv') && has('teaching-os-hvm')) return ['teaching-os-pv', 'teaching-os-hvm'];
  const second = ['isa-selftest', 'cpubench'].find(has);
  return has('hello') ? (second ? ['hello', second] : ['hello']) : second ? [second] : [];
}
