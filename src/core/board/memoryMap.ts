/**
 * The physical memory map of QEMU's riscv32 `virt` machine (hw/riscv/virt.c,
 * `virt_memmap`), which hvm guests see unchanged so that images built for
 * `qemu-system-riscv32 -machine virt -bios none` run here as they run there.
 */

/**
 * Mask ROM: QEMU's reset vector and fw_dynamic_info (devices/mrom.ts). The hart does not
 * execute from it here; the board starts at the RAM address the reset vector jumps to.
 */
export const VIRT_MROM_BASE = 0x0000_1000;
export const VIRT_MROM_SIZE = 0xf000;

/** SiFive test finisher ("sifive,test0"): write 0x5555 pass, 0x3333|code<<16 fail, 0x7777 reset. */
export const VIRT_TEST_BASE = 0x0010_0000;
export const VIRT_TEST_SIZE = 0x1000;

/** Goldfish RTC ("google,goldfish-rtc"), interrupt 11. The registers use 0x24 bytes of the slot. */
export const VIRT_RTC_BASE = 0x0010_1000;
export const VIRT_RTC_SIZE = 0x1000;
export const VIRT_RTC_IRQ = 11;

/** CLINT: msip at +0, mtimecmp at +0x4000, mtime at +0xbff8. */
export const VIRT_CLINT_BASE = 0x0200_0000;
export const VIRT_CLINT_SIZE = 0x1_0000;

/** PLIC: 0x0c000000; QEMU sizes the window for its largest hart count (VIRT_PLIC_SIZE). */
export const VIRT_PLIC_BASE = 0x0c00_0000;
export const VIRT_PLIC_SIZE = 0x60_0000;
/** Interrupt sources 1..95 (QEMU VIRT_IRQCHIP_NUM_SOURCES = 96, source 0 reserved). */
export const VIRT_PLIC_NUM_SOURCES = 96;
export const VIRT_PLIC_NUM_PRIORITIES = 7;

/** NS16550A UART, interrupt 10 on the PLIC, input clock 3686400 Hz. */
export const VIRT_UART0_BASE = 0x1000_0000;
export const VIRT_UART0_SIZE = 0x100;
export const VIRT_UART0_IRQ = 10;
export const VIRT_UART0_CLOCK = 3_686_400;

/**
 * virtio-mmio transports: 8 slots of 0x1000 from 0x10001000 (slot i at
 * VIRT_VIRTIO_BASE + i * VIRT_VIRTIO_SIZE, interrupt VIRT_VIRTIO_IRQ + i); the registers
 * use 0x200 bytes of each slot.
 */
export const VIRT_VIRTIO_BASE = 0x1000_1000;
export const VIRT_VIRTIO_SIZE = 0x1000;
export const VIRT_VIRTIO_COUNT = 8;
export const VIRT_VIRTIO_IRQ = 1;
/**
 * The slot the n-th virtio device (from 0) plugs into. QEMU's `virt` creates the transports
 * from slot 0 up, and each new bus is prepended to the list that -device searches for a
 * free one, so the first device lands in the last slot (0x10008000, PLIC source 8), the
 * second in slot 6, and so on (QEMU's hw/arm/virt.c explains the same for ARM).
 */
export function virtioSlotForDevice(n: number): number {
  return VIRT_VIRTIO_COUNT - 1 - n;
}

/**
 * Regions of QEMU's `virt` that hyperlab does not model (accesses raise access faults
 * here; QEMU answers them): fw_cfg, the two CFI flash banks, the platform bus for dynamic
 * sysbus devices, and the PCIe host bridge's ECAM, I/O and 32-bit MMIO windows. QEMU
 * also puts a 64-bit PCIe MMIO window above 4 GiB, which RV32 cannot reach.
 */
export const VIRT_UNMODELLED: readonly { name: string; base: number; size: number }[] = [
  { name: 'pcie-pio', base: 0x0300_0000, size: 0x1_0000 },
  { name: 'platform-bus', base: 0x0400_0000, size: 0x200_0000 },
  { name: 'fw-cfg', base: 0x1010_0000, size: 0x18 },
  { name: 'flash', base: 0x2000_0000, size: 0x400_0000 },
  { name: 'pcie-ecam', base: 0x3000_0000, size: 0x1000_0000 },
  { name: 'pcie-mmio', base: 0x4000_0000, size: 0x4000_0000 },
];

/** DRAM starts at 2 GiB. QEMU's default size is 128 MiB. */
export const VIRT_DRAM_BASE = 0x8000_0000;
export const VIRT_DRAM_DEFAULT_SIZE = 128 * 1024 * 1024;

/** The CLINT's mtime runs at 10 MHz on `virt` (RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ). */
export const VIRT_TIMEBASE_FREQ = 10_000_000;
