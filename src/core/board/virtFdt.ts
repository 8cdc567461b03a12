/**
 * The device tree QEMU's riscv32 `virt` machine hands its guest in a1
 * (hw/riscv/virt.c create_fdt and friends), limited to the devices hyperlab models:
 * harts with their local interrupt controllers, DRAM, CLINT, PLIC, the NS16550A UART,
 * the Goldfish RTC, the eight virtio-mmio transports, and the SiFive test finisher with
 * its syscon poweroff/reboot nodes.
 *
 * Property names and values mirror `qemu-system-riscv32 -machine virt,dumpdtb=...`
 * (checked against QEMU 7.2 by virtFdt.test.ts). Deliberate differences:
 *   - riscv,ndev is 95, the highest source id; QEMU 7.2 writes 96 (VIRT_IRQCHIP_NUM_SOURCES),
 *     which later QEMU corrected to VIRT_IRQCHIP_NUM_SOURCES - 1.
 *   - riscv,isa describes our hart (hartIsaString(): "rv32ima_zicsr_zifencei_zihintpause",
 *     built from the hart's encoding table), not QEMU's default CPU; it equals QEMU's for
 *     the CPU model that matches the hart (QEMU_CPU_RV32IMA). Supervisor and user modes
 *     have no letter in this string (QEMU writes none either); mmu-type "riscv,sv32" is
 *     what says S-mode has paging.
 *   - the cpu interrupt controllers carry #address-cells = <0>, which QEMU 7.2 omits
 *     and dtc warns about (interrupt_provider check).
 * Nodes QEMU adds for devices we lack (pmu, fw-cfg, flash, platform-bus, pci) are left
 * out. Phandles are numbered in creation order, not QEMU's. Nodes come in QEMU's order
 * (libfdt puts a new node before its older siblings, so the last created comes first).
 * /chosen carries QEMU's 32-byte rng-seed (create_fdt: qemu_guest_getrandom), fresh
 * random bytes for every tree unless the caller gives the seed (a deterministic run) or
 * null (none).
 */
import {
  VIRT_CLINT_BASE,
  VIRT_CLINT_SIZE,
  VIRT_PLIC_BASE,
  VIRT_PLIC_NUM_SOURCES,
  VIRT_PLIC_SIZE,
  VIRT_RTC_BASE,
  VIRT_RTC_IRQ,
  VIRT_RTC_SIZE,
  VIRT_TEST_BASE,
  VIRT_TEST_SIZE,
  VIRT_TIMEBASE_FREQ,
  VIRT_UART0_BASE,
  VIRT_UART0_CLOCK,
  VIRT_UART0_IRQ,
  VIRT_UART0_SIZE,
  VIRT_VIRTIO_BASE,
  VIRT_VIRTIO_COUNT,
  VIRT_VIRTIO_IRQ,
  VIRT_VIRTIO_SIZE,
} from './memoryMap';
import { encodeFdt, node, PhandleAllocator, prop, type FdtNode } from './fdt';
import { IRQ_MEIP, IRQ_MSIP, IRQ_MTIP, IRQ_SEIP } from '../bus/mmio';
import { hartIsaString } from '../cpu/encodings';

export interface VirtFdtOptions {
  memBase: number;
  memSize: number;
  /** Number of harts, 1..512 (QEMU VIRT_CPUS_MAX; the PLIC window has room for 1024 contexts). */
  harts: number;
  bootargs?: string;
  initrd?: { start: number; end: number };
  /** riscv,isa of every hart; default what the hart implements (VIRT_DEFAULT_ISA). */
  isa?: string;
  /** /chosen rng-seed: default 32 fresh random bytes, as QEMU; null leaves it out. */
  rngSeed?: Uint8Array | null;
}

export const VIRT_DEFAULT_ISA = hartIsaString();
/** QEMU's rng_seed[32] in create_fdt. */
export const VIRT_RNG_SEED_BYTES = 32;

/** Random bytes from the host (Web Crypto, in browsers, workers and Node alike). */
function randomSeed(): Uint8Array {
  const seed = new Uint8Array(VIRT_RNG_SEED_BYTES);
  const crypto = (globalThis as { crypto?: { getRandomValues(a: Uint8Array): Uint8Array } }).crypto;
  if (crypto) crypto.getRandomValues(seed);
  else for (let i = 0; i < seed.length; i++) seed[i] = Math.floor(Math.random() * 256);
  return seed;
}
const VIRT_MAX_HARTS = 512;

const hex = (n: number) => n.toString(16);

function checkOptions(o: VirtFdtOptions): void {
  const u32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff;
  if (!Number.isInteger(o.harts) || o.harts < 1 || o.harts > VIRT_MAX_HARTS) {
    throw new RangeError(`harts must be 1..${VIRT_MAX_HARTS}, got ${o.harts}`);
  }
  if (!u32(o.memBase) || !u32(o.memSize) || o.memSize === 0 || o.memBase + o.memSize > 2 ** 32) {
    throw new RangeError(`memory 0x${hex(o.memBase)}+0x${hex(o.memSize)} does not fit in 32 bits`);
  }
  if (o.initrd && (!u32(o.initrd.start) || !u32(o.initrd.end) || o.initrd.end < o.initrd.start)) {
    throw new RangeError(`bad initrd range 0x${hex(o.initrd.start)}..0x${hex(o.initrd.end)}`);
  }
}

/** The tree, as data (for the UI or further editing). */
export function buildVirtFdtTree(opts: VirtFdtOptions): FdtNode {
  checkOptions(opts);
  const ph = new PhandleAllocator();
  const isa = opts.isa ?? VIRT_DEFAULT_ISA;
  const harts = Array.from({ length: opts.harts }, (_, h) => h);

  // create_fdt_socket_cpus: one cpu@N per hart (N in decimal, as QEMU prints it with
  // "%d"), each with its own cpu-intc.
  const cpuPh = harts.map(() => ph.next());
  const intcPh = harts.map(() => ph.next());
  const cpuNodes = harts.map((h) =>
    node(
      `cpu@${h}`,
      [
        prop.u32('phandle', cpuPh[h]!),
        prop.string('device_type', 'cpu'),
        prop.u32('reg', h),
        prop.string('status', 'okay'),
        prop.string('compatible', 'riscv'),
        prop.string('riscv,isa', isa),
        prop.string('mmu-type', 'riscv,sv32'),
      ],
      [
        node('interrupt-controller', [
          prop.u32('#interrupt-cells', 1),
          prop.u32('#address-cells', 0),
          prop.empty('interrupt-controller'),
          prop.string('compatible', 'riscv,cpu-intc'),
          prop.u32('phandle', intcPh[h]!),
        ]),
      ],
    ),
  );
  // create_fdt_socket_cpus also writes the cpu-map: one cluster per socket.
  const cpuMap = node(
    'cpu-map',
    [],
    [
      node(
        'cluster0',
        [],
        harts.map((h) => node(`core${h}`, [prop.u32('cpu', cpuPh[h]!)])),
      ),
    ],
  );
  const cpus = node(
    'cpus',
    [prop.u32('#address-cells', 1), prop.u32('#size-cells', 0), prop.u32('timebase-frequency', VIRT_TIMEBASE_FREQ)],
    [...cpuNodes, cpuMap],
  );

  const memory = node(`memory@${hex(opts.memBase)}`, [prop.string('device_type', 'memory'), prop.u64Pairs('reg', [[opts.memBase, opts.memSize]])]);

  const plicPh = ph.next();
  const testPh = ph.next();
  const uart = node(`serial@${hex(VIRT_UART0_BASE)}`, [
    prop.u32('interrupts', VIRT_UART0_IRQ),
    prop.u32('interrupt-parent', plicPh),
    prop.u32('clock-frequency', VIRT_UART0_CLOCK),
    prop.u64Pairs('reg', [[VIRT_UART0_BASE, VIRT_UART0_SIZE]]),
    prop.string('compatible', 'ns16550a'),
  ]);
  // create_fdt_rtc
  const rtc = node(`rtc@${hex(VIRT_RTC_BASE)}`, [
    prop.u32('interrupts', VIRT_RTC_IRQ),
    prop.u32('interrupt-parent', plicPh),
    prop.u64Pairs('reg', [[VIRT_RTC_BASE, VIRT_RTC_SIZE]]),
    prop.string('compatible', 'google,goldfish-rtc'),
  ]);
  // create_fdt_virtio: created from slot 0 up, so listed from the last slot down.
  const virtio = Array.from({ length: VIRT_VIRTIO_COUNT }, (_, k) => {
    const i = VIRT_VIRTIO_COUNT - 1 - k;
    const base = VIRT_VIRTIO_BASE + i * VIRT_VIRTIO_SIZE;
    return node(`virtio_mmio@${hex(base)}`, [
      prop.u32('interrupts', VIRT_VIRTIO_IRQ + i),
      prop.u32('interrupt-parent', plicPh),
      prop.u64Pairs('reg', [[base, VIRT_VIRTIO_SIZE]]),
      prop.string('compatible', 'virtio,mmio'),
    ]);
  });
  const test = node(`test@${hex(VIRT_TEST_BASE)}`, [
    prop.u32('phandle', testPh),
    prop.u64Pairs('reg', [[VIRT_TEST_BASE, VIRT_TEST_SIZE]]),
    prop.strings('compatible', ['sifive,test1', 'sifive,test0', 'syscon']),
  ]);
  // PLIC context 2h is hart h's M-mode (MEIP, 11), 2h+1 its S-mode (SEIP, 9).
  const plic = node(`plic@${hex(VIRT_PLIC_BASE)}`, [
    prop.u32('phandle', plicPh),
    prop.u32('riscv,ndev', VIRT_PLIC_NUM_SOURCES - 1),
    prop.u64Pairs('reg', [[VIRT_PLIC_BASE, VIRT_PLIC_SIZE]]),
    prop.u32s(
      'interrupts-extended',
      harts.flatMap((h) => [intcPh[h]!, IRQ_MEIP, intcPh[h]!, IRQ_SEIP]),
    ),
    prop.empty('interrupt-controller'),
    prop.strings('compatible', ['sifive,plic-1.0.0', 'riscv,plic0']),
    prop.u32('#address-cells', 0),
    prop.u32('#interrupt-cells', 1),
  ]);
  const clint = node(`clint@${hex(VIRT_CLINT_BASE)}`, [
    prop.u32s(
      'interrupts-extended',
      harts.flatMap((h) => [intcPh[h]!, IRQ_MSIP, intcPh[h]!, IRQ_MTIP]),
    ),
    prop.u64Pairs('reg', [[VIRT_CLINT_BASE, VIRT_CLINT_SIZE]]),
    prop.strings('compatible', ['sifive,clint0', 'riscv,clint0']),
  ]);
  const soc = node(
    'soc',
    [prop.u32('#address-cells', 2), prop.u32('#size-cells', 2), prop.string('compatible', 'simple-bus'), prop.empty('ranges')],
    [rtc, uart, test, ...virtio, plic, clint],
  );

  // The finisher doubles as a syscon for Linux's generic poweroff/reboot drivers.
  const syscon = (name: string, compatible: string, value: number) =>
    node(name, [prop.u32('value', value), prop.u32('offset', 0), prop.u32('regmap', testPh), prop.string('compatible', compatible)]);

  // riscv_load_initrd (QEMU 7.2) writes the initrd bounds as single cells on riscv32.
  const seed = opts.rngSeed === undefined ? randomSeed() : opts.rngSeed;
  const chosen = node('chosen', [
    ...(opts.initrd ? [prop.u32('linux,initrd-end', opts.initrd.end), prop.u32('linux,initrd-start', opts.initrd.start)] : []),
    ...(seed !== null ? [prop.bytes('rng-seed', seed)] : []),
    ...(opts.bootargs !== undefined ? [prop.string('bootargs', opts.bootargs)] : []),
    prop.string('stdout-path', `/soc/serial@${hex(VIRT_UART0_BASE)}`),
  ]);

  return node(
    '',
    [prop.u32('#address-cells', 2), prop.u32('#size-cells', 2), prop.string('compatible', 'riscv-virtio'), prop.string('model', 'riscv-virtio,qemu')],
    [chosen, syscon('poweroff', 'syscon-poweroff', 0x5555), syscon('reboot', 'syscon-reboot', 0x7777), memory, cpus, soc],
  );
}

/** The DTB blob to place in guest memory (a1 at boot). */
export function buildVirtFdt(opts: VirtFdtOptions): Uint8Array {
  return encodeFdt(buildVirtFdtTree(opts));
}
