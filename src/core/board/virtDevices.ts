/**
 * The devices of QEMU's riscv32 `virt` board around one hart, wired onto its bus: the test
 * finisher, the Goldfish RTC, the CLINT, the PLIC, the UART (passed in: a local 16550A for
 * the standalone board, a proxy to the device model in the hypervisor for an hvm domain),
 * eight empty virtio-mmio slots and the MROM. Shared by VirtMachine (virt.ts) and the hvm
 * vCPU (xen/vcpu/vcpuRunner.ts), so both guests see the same board.
 */
import type { Bus } from '../bus/bus';
import type { Clock, MmioDevice } from '../bus/mmio';
import type { Hart } from '../cpu/hart';
import { Clint } from '../devices/clint';
import { GoldfishRtc, type NanosecondSource } from '../devices/goldfishRtc';
import { Mrom, MROM_FW_DYNAMIC_INFO_OFFSET, virtMromContents } from '../devices/mrom';
import { Plic } from '../devices/plic';
import { SifiveTest, type FinishEvent } from '../devices/sifiveTest';
import { VirtioMmioTransport } from '../devices/virtioMmio';
import * as M from './memoryMap';

export interface VirtDevices {
  clint: Clint;
  plic: Plic;
  finisher: SifiveTest;
  rtc: GoldfishRtc;
  /** The eight slots: empty transports, or the devices `VirtDeviceOptions.virtio` plugged in. */
  virtio: MmioDevice[];
  mrom: Mrom;
}

export interface VirtDeviceOptions {
  clock: Clock;
  /** The UART at 0x10000000 (its interrupt goes to PLIC source 10: see `plic`). */
  uart: MmioDevice;
  onFinish: (e: FinishEvent) => void;
  rtcSource: NanosecondSource;
  /** What the MROM holds: QEMU's reset vector for this boot. */
  boot: { startAddr: number; fdtAddr: number; nextAddr: number };
  /** mtime follows `clock` from its zero (the vCPUs of a domain share one time), not from now. */
  mtimeFromClock?: boolean;
  /** Called between blocks besides the CLINT and RTC updates (e.g. the local UART's). */
  tick?: () => void;
  /** The device in virtio-mmio slot `slot`, if one is plugged (e.g. a proxy to a device model in the hypervisor); otherwise an empty slot. */
  virtio?: (slot: number) => MmioDevice | undefined;
}

export function attachVirtDevices(bus: Bus, hart: Hart, o: VirtDeviceOptions, plic = new Plic({ harts: [hart] })): VirtDevices {
  const clint = new Clint({ harts: [hart], clock: o.clock, mtimeFromClock: o.mtimeFromClock ?? false });
  const finisher = new SifiveTest({ onFinish: o.onFinish });
  const rtc = new GoldfishRtc({ irq: plic.irqLine(M.VIRT_RTC_IRQ), source: o.rtcSource });
  const virtio = Array.from(
    { length: M.VIRT_VIRTIO_COUNT },
    (_, i): MmioDevice =>
      o.virtio?.(i) ??
      new VirtioMmioTransport({
        name: `virtio${i}`,
        irq: plic.irqLine(M.VIRT_VIRTIO_IRQ + i),
      }),
  );
  const mrom = new Mrom({ contents: virtMromContents(o.boot) });
  bus.attach(M.VIRT_MROM_BASE, mrom);
  bus.attach(M.VIRT_TEST_BASE, finisher);
  bus.attach(M.VIRT_RTC_BASE, rtc);
  bus.attach(M.VIRT_CLINT_BASE, clint);
  bus.attach(M.VIRT_PLIC_BASE, plic);
  bus.attach(M.VIRT_UART0_BASE, o.uart);
  virtio.forEach((v, i) => bus.attach(M.VIRT_VIRTIO_BASE + i * M.VIRT_VIRTIO_SIZE, v));
  const tick = o.tick;
  hart.hooks = {
    tick: () => {
      clint.update();
      rtc.update();
      tick?.();
    },
    readTimeLo: () => clint.mtimeLo(),
    readTimeHi: () => clint.mtimeHi(),
  };
  return { clint, plic, finisher, rtc, virtio, mrom };
}

/** The registers QEMU's reset vector leaves when it jumps to the kernel. */
export function virtBootRegisters(hart: Hart, startAddr: number, fdtAddr: number): void {
  hart.reset(startAddr);
  hart.x[5] = startAddr; // t0: lw t0, 24(t0); jr t0
  hart.x[10] = hart.hartid; // a0: csrr a0, mhartid
  hart.x[11] = fdtAddr; // a1: lw a1, 32(t0)
  hart.x[12] = M.VIRT_MROM_BASE + MROM_FW_DYNAMIC_INFO_OFFSET; // a2: addi a2, t0, 40
}
