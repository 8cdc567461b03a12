/**
 * The hvm board: QEMU's riscv32 `virt` machine as hyperlab emulates it. Wiring only
 * (TinyEMU's riscv_machine_init is the model): RAM, the MROM, the CLINT, the PLIC, a 16550A
 * UART on PLIC source 10, the Goldfish RTC on source 11, eight empty virtio-mmio slots on
 * sources 1..8, the SiFive test finisher, a generated device tree, and the boot protocol
 * of `qemu-system-riscv32 -machine virt -bios none -kernel IMAGE`:
 *
 * - an ELF image is loaded at its physical addresses, a raw image at the start of RAM;
 * - the device tree goes at the highest 2 MiB-aligned address below the end of RAM that
 *   leaves room for it (QEMU riscv_load_fdt), the initrd at kernel start + min(RAM/2,
 *   128 MiB) (QEMU riscv_load_initrd);
 * - the MROM at 0x1000 holds QEMU's reset vector and fw_dynamic_info (devices/mrom.ts).
 *   QEMU starts the hart at 0x1000 and the vector jumps to the start of RAM. Here the
 *   hart cannot execute from the MROM (instruction fetch only works from RAM), so it
 *   starts in M-mode at the start of RAM with the registers as the vector leaves them:
 *   a0 = hartid, a1 = the device tree, a2 = 0x1028 (fw_dynamic_info, which OpenSBI
 *   reads), t0 = the start address (0x80000000); every other register is 0.
 */
import { defaultJitMode, setJit, type JitMode } from '../cpu/jit/engine';
import { Bus } from '../bus/bus';
import type { Clock } from '../bus/mmio';
import { Hart, type StopReason } from '../cpu/hart';
import { InstructionCountClock, RealTimeClock } from '../devices/clocks';
import { GoldfishRtc, hostNanosecondSource, type NanosecondSource } from '../devices/goldfishRtc';
import { Plic } from '../devices/plic';
import type { Clint } from '../devices/clint';
import type { Mrom } from '../devices/mrom';
import type { FinishEvent, SifiveTest } from '../devices/sifiveTest';
import type { MmioDevice } from '../bus/mmio';
import { Uart16550 } from '../devices/uart16550';
import { loadKernel, type LoadedImage } from '../loader/kernel';
import { buildVirtFdt } from './virtFdt';
import { attachVirtDevices, virtBootRegisters } from './virtDevices';
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
  /**
   * The Goldfish RTC's time source, ns since the Unix epoch. Default: the host's time
   * (QEMU's `-rtc clock=host`), or with `icountShift`, the host's time at boot advanced
   * by the instruction-count clock (QEMU's `-rtc clock=vm`), so that alarms follow guest
   * time and a sleeping guest's alarm can be warped to.
   */
  rtcSource?: NanosecondSource;
  /**
   * The device tree's /chosen rng-seed (32 bytes in QEMU). Default: fresh random bytes, as
   * QEMU; with `icountShift`, a fixed seed (ICOUNT_RNG_SEED), so that a deterministic run
   * stays reproducible. null leaves the property out.
   */
  rngSeed?: Uint8Array | null;
  /** The translation tier (docs/jit.md): off, on, or always (translate on first execution); default HYPERLAB_JIT, else on. */
  jit?: JitMode;
}

/** The rng-seed of a deterministic (icount) board: bytes 0..31. */
export const ICOUNT_RNG_SEED: Uint8Array = Uint8Array.from({ length: 32 }, (_, i) => i);

export class VirtMachine {
  readonly bus: Bus;
  readonly hart: Hart;
  readonly clint: Clint;
  readonly plic: Plic;
  readonly uart: Uart16550;
  readonly finisher: SifiveTest;
  readonly rtc: GoldfishRtc;
  readonly virtio: readonly MmioDevice[];
  readonly mrom: Mrom;
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
    setJit(this.hart, opts.jit ?? defaultJitMode());
    const hart = this.hart;
    this.clock = opts.icountShift === undefined ? new RealTimeClock() : new InstructionCountClock({ instret: () => hart.retired(), shift: opts.icountShift });
    this.plic = new Plic({ harts: [hart] });
    const onConsole = opts.onConsole;
    this.uart = new Uart16550({
      irq: this.plic.irqLine(M.VIRT_UART0_IRQ),
      clock: this.clock,
      ...(onConsole ? { onTransmit: onConsole } : {}),
    });
    this.image = loadKernel(opts.kernel, this.bus);
    this.initrdRange = this.loadInitrd(memSize);
    const fdt = buildVirtFdt({
      memBase: M.VIRT_DRAM_BASE,
      memSize,
      harts: 1,
      ...(opts.bootargs !== undefined ? { bootargs: opts.bootargs } : {}),
      ...(this.initrdRange ? { initrd: this.initrdRange } : {}),
      ...(opts.rngSeed !== undefined ? { rngSeed: opts.rngSeed } : opts.icountShift !== undefined ? { rngSeed: ICOUNT_RNG_SEED } : {}),
    });
    const top = M.VIRT_DRAM_BASE + memSize;
    this.fdtAddr = Math.floor((top - fdt.length) / 0x20_0000) * 0x20_0000;
    if (this.fdtAddr < M.VIRT_DRAM_BASE) throw new RangeError('RAM too small for the device tree');
    this.bus.writePhys(this.fdtAddr, fdt);

    // QEMU riscv_setup_rom_reset_vec: start_addr is the start of RAM with -bios none;
    // next_addr is what riscv_load_kernel returned, the image's lowest load address.
    const startAddr = M.VIRT_DRAM_BASE;
    const nextAddr = Math.min(...this.image.segments.map((s) => s.paddr));
    const devices = attachVirtDevices(
      this.bus,
      hart,
      {
        clock: this.clock,
        uart: this.uart,
        onFinish: (e) => {
          this.finished = e;
          hart.requestStop();
        },
        rtcSource: opts.rtcSource ?? (opts.icountShift === undefined ? hostNanosecondSource() : clockNanosecondSource(this.clock)),
        boot: { startAddr, fdtAddr: this.fdtAddr, nextAddr },
        tick: () => this.uart.update(),
      },
      this.plic,
    );
    this.clint = devices.clint;
    this.finisher = devices.finisher;
    this.rtc = devices.rtc;
    this.virtio = devices.virtio;
    this.mrom = devices.mrom;
    virtBootRegisters(hart, startAddr, this.fdtAddr);
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
   * timer, the UART's character timeout, the RTC alarm), or Infinity. The time is read
   * before the devices update, so a deadline at or before it has certainly raised its
   * line: if that wakes the hart the answer is `now`, and if not it never will.
   */
  nextDeadline(): number {
    const now = this.clock.now();
    this.clint.update();
    this.uart.update();
    if ((this.hart.mip & this.hart.mie) !== 0) return now;
    const future = (t: number): number => (t > now ? t : Infinity);
    return Math.min(future(this.clint.nextDeadline()), future(this.uart.nextDeadline()), this.rtcDeadline(now));
  }

  /**
   * The RTC alarm as a clock tick: at least one tick ahead, because an armed alarm has
   * not fired yet (the next `update()` fires one that is already due).
   */
  private rtcDeadline(now: number): number {
    const ns = this.rtc.nanosUntilAlarm();
    if (ns === Infinity) return Infinity;
    return now + Math.max(1, Math.ceil((ns * this.clock.frequency) / 1e9));
  }

  /** Offer one byte of console input; false if the UART cannot take it yet. */
  sendInput(byte: number): boolean {
    const ok = this.uart.receive(byte);
    if (ok) this.hart.endBlock = true;
    return ok;
  }
}

/**
 * RTC time that follows a Clock (QEMU `-rtc clock=vm`): the host's time when created,
 * plus the clock's ticks since then.
 */
function clockNanosecondSource(clock: Clock): NanosecondSource {
  const start = hostNanosecondSource()();
  const t0 = BigInt(Math.floor(clock.now()));
  const hz = BigInt(clock.frequency);
  return () => start + ((BigInt(Math.floor(clock.now())) - t0) * 1_000_000_000n) / hz;
}
