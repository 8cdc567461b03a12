/**
 * Presets: one xl.cfg per guest image the lab ships (public/guests), as Domain-0 keeps
 * them in /etc/xen, and the Linux guests (public/guests/linux: kernels and an initramfs,
 * docs/linux.md). What the page's "create" menu offers and what `xl create hello.cfg`
 * reads. Images the lab does not know get an hvm config (a "-pv" suffix means pv).
 */
import type { GuestFile, PresetInfo } from './hvProtocol';

const KNOWN: Readonly<Record<string, { type: 'pv' | 'hvm'; description: string }>> = {
  hello: { type: 'hvm', description: 'prints a greeting and powers off' },
  'isa-selftest': { type: 'hvm', description: 'checks the ISA and the privileged architecture, then powers off' },
  cpubench: { type: 'hvm', description: 'CPU benchmark: prints its timing and powers off' },
  'teaching-os-hvm': { type: 'hvm', description: 'the teaching OS on the virt board (UART, CLINT, PLIC), with a shell' },
  'teaching-os-pv': { type: 'pv', description: 'the teaching OS on the paravirtual ABI (hypercalls, rings, event channels), with a shell' },
  hostile: { type: 'pv', description: 'a hostile pv guest for isolation experiments: a shell of grant, map, copy and balloon primitives (guests/hostile)' },
};

/** The order presets are listed in: the teaching OS first, then Linux, then the small guests. */
const ORDER = [
  'teaching-os-pv',
  'teaching-os-pv-disk',
  'teaching-os-hvm',
  'teaching-os-pv-net1',
  'teaching-os-pv-net2',
  'teaching-os-hvm-net',
  'linux-nommu',
  'linux-sbi',
  'linux-sbi-hvc',
  'linux-6.12-disk',
  'linux-6.1-disk',
  'linux-6.1-net',
  'linux-6.12-net',
  'hello',
  'cpubench',
  'isa-selftest',
  'hostile',
];

/** The Linux guests' files, under guests/ (guestCatalog.ts lists them when the site has them). */
export const LINUX_FILES = ['linux/linux-6.12-nommu.Image', 'linux/linux-6.1-mmu.Image', 'linux/initramfs.cpio', 'linux/rootfs.qcow2'] as const;
const INITRAMFS = 'linux/initramfs.cpio';
/** The root disk (ext2, the userland): the read-only base of the disk presets' overlays (docs/linux.md "The root disk"). */
const ROOTFS = 'linux/rootfs.qcow2';
const ROOT_DISK = 'console=ttyS0 earlycon=uart8250,mmio,0x10000000 root=/dev/vda rw';
const TTYS0 = 'console=ttyS0 earlycon=uart8250,mmio,0x10000000 initramfs_async=0';

interface LinuxPreset {
  kernel: (typeof LINUX_FILES)[number];
  firmware?: 'sbi';
  cmdline: string;
  description: string;
  /** Boots from its disk (no initramfs): an overlay in OPFS over the shipped rootfs, made on first use by backing=. */
  rootDisk?: string;
  /** xl.cfg vif specs: an interface on xenbr0 (virtio-net), docs/network.md "Linux guests". */
  vif?: readonly string[];
  /** MiB, when not LINUX_MEMORY_MIB. */
  memory?: number;
}

/** Linux presets (hvm, 64 MiB, the shared initramfs); each needs its kernel and the initramfs. */
const LINUX: Readonly<Record<string, LinuxPreset>> = {
  'linux-nommu': {
    kernel: 'linux/linux-6.12-nommu.Image',
    cmdline: TTYS0,
    description: 'Linux 6.12 without an MMU, in M-mode as on QEMU -bios none (UART console), with a shell and a small userland (docs/linux.md)',
  },
  'linux-sbi': {
    kernel: 'linux/linux-6.1-mmu.Image',
    firmware: 'sbi',
    cmdline: TTYS0,
    description: "Linux 6.1 with the Sv32 MMU, in S-mode on hyperlab's SBI firmware (UART console), with a shell and a small userland (docs/linux.md)",
  },
  'linux-sbi-hvc': {
    kernel: 'linux/linux-6.1-mmu.Image',
    firmware: 'sbi',
    cmdline: 'console=hvc0 earlycon=sbi initramfs_async=0',
    description: "Linux 6.1 with the Sv32 MMU on hyperlab's SBI firmware, on the SBI console (hvc0), with a shell and a small userland (docs/linux.md)",
  },
  'linux-6.12-disk': {
    kernel: 'linux/linux-6.12-nommu.Image',
    cmdline: ROOT_DISK,
    rootDisk: 'linux-6.12-disk.qcow2',
    description:
      'Linux 6.12 without an MMU booting from its disk (root=/dev/vda: virtio-blk, ext2), a qcow2 overlay over the shipped rootfs kept across reloads (docs/linux.md)',
  },
  'linux-6.1-disk': {
    kernel: 'linux/linux-6.1-mmu.Image',
    firmware: 'sbi',
    cmdline: ROOT_DISK,
    rootDisk: 'linux-6.1-disk.qcow2',
    description:
      "Linux 6.1 with the Sv32 MMU on hyperlab's SBI booting from its disk (root=/dev/vda: virtio-blk, ext2), a qcow2 overlay over the shipped rootfs kept across reloads (docs/linux.md)",
  },
  // On the network (examples/linux-*-net.cfg, with random MACs so that a second one can be made):
  // 6.1 configures eth0 statically from its command line, 6.12 by DHCP from Domain-0 (the vif's ip=).
  'linux-6.1-net': {
    kernel: 'linux/linux-6.1-mmu.Image',
    firmware: 'sbi',
    memory: 128,
    cmdline: `${TTYS0} ip=10.0.0.31::10.0.0.1:255.255.255.0::eth0:off`,
    vif: ['bridge=xenbr0, ip=10.0.0.31'],
    description:
      "Linux 6.1 (Sv32 MMU, on hyperlab's SBI) with eth0 on xenbr0 (virtio-net), static 10.0.0.31: ping, nc, httpd, wget (try: ping -c 3 10.0.0.1, httpd &)",
  },
  'linux-6.12-net': {
    kernel: 'linux/linux-6.12-nommu.Image',
    cmdline: `${TTYS0} ip=dhcp`,
    vif: ['bridge=xenbr0, ip=10.0.0.32'],
    description:
      'Linux 6.12 (no MMU) with eth0 on xenbr0 (virtio-net), 10.0.0.32 by DHCP from Domain-0: ping, nc, httpd, wget (try: wget -O - http://10.0.0.31/)',
  },
};
/** The RAM of a Linux preset, MiB. */
export const LINUX_MEMORY_MIB = 64;

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

export interface PresetConfig {
  name: string;
  type: 'pv' | 'hvm';
  kernel: string;
  description?: string;
  memory?: number;
  firmware?: 'none' | 'sbi';
  ramdisk?: string;
  cmdline?: string;
  /** xl.cfg disk specs (xl-disk-configuration(5)). */
  disk?: readonly string[];
  /** xl.cfg vif specs (xl-network-configuration(5)). */
  vif?: readonly string[];
}

/**
 * The teaching OS (pv) with a disk: a 16 MiB qcow2 image in the browser's storage (OPFS
 * disks/), made the first time the preset is created and kept across page reloads.
 */
export const TEACHING_DISK = { name: 'teaching-os-pv.qcow2', format: 'qcow2', size: 16 << 20 } as const;

export function domainConfig(o: PresetConfig): string {
  return [
    ...(o.description ? [`# ${o.name}: ${o.description}`] : []),
    `name = "${o.name}"`,
    `type = "${o.type}"`,
    ...(o.firmware ? [`firmware = "${o.firmware}"`] : []),
    `memory = ${o.memory ?? PRESET_MEMORY_MIB}`,
    `kernel = "${o.kernel}"`,
    ...(o.ramdisk ? [`ramdisk = "${o.ramdisk}"`] : []),
    ...(o.cmdline ? [`cmdline = "${o.cmdline}"`] : []),
    ...(o.disk && o.disk.length > 0 ? [`disk = [ ${o.disk.map((d) => `'${d}'`).join(', ')} ]`] : []),
    ...(o.vif && o.vif.length > 0 ? [`vif = [ ${o.vif.map((v) => `'${v}'`).join(', ')} ]`] : []),
    'on_poweroff = "preserve"',
    '',
  ].join('\n');
}

export function presetsFor(catalog: readonly GuestFile[]): PresetInfo[] {
  const rank = (n: string): number => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  const linuxFile = (f: string): boolean => (LINUX_FILES as readonly string[]).includes(f);
  const images: PresetInfo[] = catalog
    .filter((g) => !linuxFile(g.file))
    .map((g) => {
      const type = presetType(g.name);
      const description = KNOWN[g.name]?.description ?? `the image ${g.file}`;
      return { name: g.name, type, description, config: domainConfig({ name: g.name, type, kernel: `${GUEST_DIR}/${g.file}`, description }) };
    });
  const has = (f: string): boolean => catalog.some((g) => g.file === f);
  const teachingDisk: PresetInfo[] = has('teaching-os-pv.elf') ? [teachingOsWithDisk()] : [];
  const networked: PresetInfo[] = NETWORKED.filter((n) => has(`teaching-os-${n.type}.elf`)).map(networkedTeachingOs);
  const linux: PresetInfo[] = Object.entries(LINUX)
    .filter(([, l]) => has(l.kernel) && has(l.rootDisk !== undefined ? ROOTFS : INITRAMFS))
    .map(([name, l]) => ({
      name,
      type: 'hvm',
      description: l.description,
      config: domainConfig({
        name,
        type: 'hvm',
        description: l.description,
        memory: l.memory ?? LINUX_MEMORY_MIB,
        kernel: `${GUEST_DIR}/${l.kernel}`,
        ...(l.rootDisk === undefined
          ? { ramdisk: `${GUEST_DIR}/${INITRAMFS}` }
          : { disk: [`format=qcow2, vdev=xvda, access=rw, backing=${GUEST_DIR}/${ROOTFS}, target=${l.rootDisk}`] }),
        cmdline: l.cmdline,
        ...(l.firmware ? { firmware: l.firmware } : {}),
        ...(l.vif ? { vif: l.vif } : {}),
      }),
    }));
  return [...images, ...teachingDisk, ...networked, ...linux].sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

function teachingOsWithDisk(): PresetInfo {
  const name = 'teaching-os-pv-disk';
  const description = `the teaching OS (pv) with a disk, xvda: ${TEACHING_DISK.name} in the browser's storage, made on first use and kept across reloads (try: disk, disk write 0 hi, disk flush)`;
  return {
    name,
    type: 'pv',
    description,
    config: domainConfig({
      name,
      type: 'pv',
      description,
      kernel: `${GUEST_DIR}/teaching-os-pv.elf`,
      disk: [`format=qcow2, vdev=xvda, access=rw, target=${TEACHING_DISK.name}`],
    }),
    disks: [TEACHING_DISK],
  };
}

/**
 * The teaching OS with an interface on xenbr0 (docs/network.md): Domain-0's DHCP server
 * hands each the address its `ip=` reserves, so a lab can say "ping 10.0.0.12". pv: netfront
 * and Domain-0's netback; hvm: virtio-net.
 */
export const NETWORKED: readonly { name: string; type: 'pv' | 'hvm'; ip: string; peer: string }[] = [
  { name: 'teaching-os-pv-net1', type: 'pv', ip: '10.0.0.11', peer: '10.0.0.12' },
  { name: 'teaching-os-pv-net2', type: 'pv', ip: '10.0.0.12', peer: '10.0.0.11' },
  { name: 'teaching-os-hvm-net', type: 'hvm', ip: '10.0.0.21', peer: '10.0.0.11' },
];

function networkedTeachingOs(n: (typeof NETWORKED)[number]): PresetInfo {
  const how = n.type === 'pv' ? 'netfront to netback' : 'virtio-net';
  const description = `the teaching OS (${n.type}) with eth0 on xenbr0 (${how}), ${n.ip} from Domain-0's DHCP (try: ifconfig dhcp, ping ${n.peer}, ping 10.0.0.1)`;
  return {
    name: n.name,
    type: n.type,
    description,
    config: domainConfig({ name: n.name, type: n.type, description, kernel: `${GUEST_DIR}/teaching-os-${n.type}.elf`, vif: [`bridge=xenbr0, ip=${n.ip}`] }),
  };
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
