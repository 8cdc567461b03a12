/**
 * The physical memory map of QEMU's riscv32 `virt` machine (hw/riscv/virt.c,
 * `virt_memmap`), which hvm guests see unchanged so that images built for
 * `qemu-system-riscv32 -machine virt -bios none` run here as they run there.
 */

/** SiFive test finisher ("sifive,test0"): write 0x5555 pass, 0x3333|code<<16 fail, 0x7777 reset. */
export const VIRT_TEST_BASE = 0x0010_0000;
export const VIRT_TEST_SIZE = 0x1000;

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

/** virtio-mmio transports: 8 slots of 0x1000 from 0x10001000, interrupts 1..8. */
export const VIRT_VIRTIO_BASE = 0x1000_1000;
export const VIRT_VIRTIO_SIZE = 0x1000;
export const VIRT_VIRTIO_COUNT = 8;
export const VIRT_VIRTIO_IRQ = 1;

/** DRAM starts at 2 GiB. QEMU's default size is 128 MiB. */
export const VIRT_DRAM_BASE = 0x8000_0000;
export const VIRT_DRAM_DEFAULT_SIZE = 128 * 1024 * 1024;

/** The CLINT's mtime runs at 10 MHz on `virt` (RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ). */
export const VIRT_TIMEBASE_FREQ = 10_000_000;
