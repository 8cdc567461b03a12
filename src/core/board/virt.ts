/**
 * The hvm board: QEMU's riscv32 `virt` machine as hyperlab emulates it. Wiring only
 * (TinyEMU's riscv_machine_init is the model): RAM, the CLINT, the PLIC, a 16550A UART on
 * PLIC source 10 and the SiFive test finisher, a generated device tree, and the boot
 * protocol of `qemu-system-riscv32 -machine virt -bios none -kernel IMAGE`:
 *
 * - an ELF image is loaded at its physical addresses, a raw image at the start of RAM;
 * - the device tree goes at the highest 2 MiB-aligned address below the end of RAM that
 *   leaves room for it (QEMU riscv_load_fdt), the initrd at kernel start + min(RAM/2,
 *   128 MiB) (QEMU riscv_load_initrd);
 * - the hart starts in M-mode at the start of RAM with a0 = hartid and a1 = the device
 *   tree's address, as QEMU's reset vector leaves it (QEMU also points a2 at its
 *   fw_dynamic_info for OpenSBI; with -bios none nothing reads it, and here a2 = 0).
 */
import { Bus } from '../bus/bus';
import type { Clock } from '../bus/mmio';
import { Hart, type StopReason } from '../cpu/hart';
import { Clint } from '../devices/clint';
import { InstructionCountClock, RealTimeClock } from '../devices/clocks';
import { Plic } from '../devices/plic';
import { SifiveTest, type FinishEvent } from '../devices/sifiveTest';
import { Uart16550 } from '../devices/uart16550';
import { loadKernel, type LoadedImage } from '../loader/kernel';
import { buildVirtFdt } from './virtFdt';
import * as M from './memoryMap';

export interface VirtOptions {
  /** Kernel image: ELF32 RISC-V or a flat binary. */
  kernel: Uint8Array;
  /** RAM size in bytes (default 128 MiB, as QEMU). */
  memSize?: number;
  initrd?: Uint8Array;
  /** Kernel command line (/chosen/bootargs). */
  bootargs?: string;
  /**
   * Deterministic time: mtime advances with instructions retired (2^shift ns each,
   * like QEMU -icount shift=N) instead of with the host clock.
   */
  icountShift?: number;
  /** Every byte the UART transmits. */
  onConsole?: (byte: number) => void;
  /** Backing store for RAM (a SharedArrayBuffer slice when memory is shared). */
  ramBuffer?: ArrayBufferLike;
}

export class VirtMachine {
  readonly bus: Bus;
  readonly hart: Hart;
  readonly clint: Clint;
  readonly plic: Plic;
  readonly uart: Uart16550;
  readonly finisher: SifiveTest;
  readonly clock: Clock;
  readonly image: LoadedImage;
  readonly fdtAddr: number;
  readonly initrdRange: { start: number; end: number } | undefined;
  /** Set when the guest wrote the finisher; `run` then returns 'stop'. */
  finished: FinishEvent | null = null;

  constructor(readonly opts: VirtOptions) {
    const memSize = opts.memSize ?? M.VIRT_DRAM_DEFAULT_SIZE;
    const busOpts = { ramBase: M.VIRT_DRAM_BASE, ramSize: memSize };
    this.bus = new Bus(opts.ramBuffer ? { ...busOpts, buffer: opts.ramBuffer } : busOpts);
    this.hart = new Hart(this.bus, 0);
    const hart = this.hart;
    this.clock =
      opts.icountShift === undefined
        ? new RealTimeClock()
        : new InstructionCountClock({ instret: () => hart.retired(), shift: opts.icountShift });
    this.clint = new Clint({ harts: [hart], clock: this.clock });
    this.plic = new Plic({ harts: [hart] });
    const onConsole = opts.onConsole;
    this.uart = new Uart16550({
      irq: this.plic.irqLine(M.VIRT_UART0_IRQ),
      clock: this.clock,
      ...(onConsole ? { onTransmit: onConsole } : {}),
    });
    this.finisher = new SifiveTest({
      onFinish: (s) => {
        this.finished = s;
        hart.requestStop();
      },
    });
    this.bus.attach(M.VIRT_TEST_BASE, this.finisher);
    this.bus.attach(M.VIRT_CLINT_BASE, this.clint);
    this.bus.attach(M.VIRT_PLIC_BASE, this.plic);
    this.bus.attach(M.VIRT_UART0_BASE, this.uart);
    hart.hooks = {
      tick: () => {
        this.clint.update();
        this.uart.update();
      },
      readTime: () => this.clint.mtime(),
    };

    this.image = loadKernel(opts.kernel, this.bus);
    this.initrdRange = this.loadInitrd(memSize);
    const fdt = buildVirtFdt({
      memBase: M.VIRT_DRAM_BASE,
      memSize,
      harts: 1,
      ...(opts.bootargs !== undefined ? { bootargs: opts.bootargs } : {}),
      ...(this.initrdRange ? { initrd: this.initrdRange } : {}),
    });
    const top = M.VIRT_DRAM_BASE + memSize;
    this.fdtAddr = Math.floor((top - fdt.length) / 0x20_0000) * 0x20_0000;
    if (this.fdtAddr < M.VIRT_DRAM_BASE) throw new RangeError('RAM too small for the device tree');
    this.bus.writePhys(this.fdtAddr, fdt);

    hart.reset(M.VIRT_DRAM_BASE);
    hart.x[10] = hart.hartid;
    hart.x[11] = this.fdtAddr;
  }

  private loadInitrd(memSize: number): { start: number; end: number } | undefined {
    const initrd = this.opts.initrd;
    if (!initrd) return undefined;
    const start = this.image.entry + Math.min(memSize / 2, 128 * 1024 * 1024);
    const end = start + initrd.length;
    if (this.bus.ramOffset(start) < 0 || this.bus.ramOffset(end - 1) < 0) {
      throw new RangeError(`initrd (${initrd.length} bytes) does not fit in RAM at 0x${start.toString(16)}`);
    }
    this.bus.writePhys(start, initrd);
    return { start, end };
  }

  /** Run the hart for at most `budget` instructions. */
  run(budget: number): StopReason {
    return this.hart.run(budget);
  }

  /**
   * The clock tick at which something will next happen while the hart waits in WFI (its
   * timer or the UART's character timeout), or Infinity. A deadline already passed has
   * already raised its interrupt line, so it cannot wake the hart again and is ignored.
   */
  nextDeadline(): number {
    const now = this.clock.now();
    const future = (t: number): number => (t > now ? t : Infinity);
    return Math.min(future(this.clint.nextDeadline()), future(this.uart.nextDeadline()));
  }

  /** Offer one byte of console input; false if the UART cannot take it yet. */
  sendInput(byte: number): boolean {
    const ok = this.uart.receive(byte);
    if (ok) this.hart.endBlock = true;
    return ok;
  }
}
