/**
 * The device models an hvm domain's vCPUs reach through exits (Xen's ioreq servers; QEMU in
 * Domain-0 for Xen's hvm guests): the 16550A UART at 0x10000000 and the virtio-mmio slots
 * with a device plugged in (virtio-blk, src/core/devices/virtio), whose every register
 * access is a synchronous request from the vCPU worker. Hypervisor thread.
 */
import type { AccessWidth } from '../../bus/mmio';
import { VIRTIO_MMIO_QUEUE_NOTIFY } from '../../devices/virtioMmio';
import type { Domain } from '../common/domain';
import { sbiConsoleReaders } from '../common/vcpuRequests';

/**
 * One MMIO access of a vCPU to the device in virtio-mmio slot `slot`; returns the value read.
 * Counted as `mmio:virtio-blk` (registers) or `mmio:virtio-blk-notify` (QueueNotify, the
 * exit that moves requests), so exits per request can be read off the domain's exits.
 */
export function serveVirtioAccess(d: Domain, slot: number, write: boolean, offset: number, width: number, value: number): number {
  const dev = d.kind === 'hvm' ? d.virtio[slot] : undefined;
  const off = offset >>> 0;
  if (!dev || off >= dev.size) {
    d.countExit('mmio:virtio-none');
    return 0;
  }
  const w: AccessWidth = width === 1 || width === 2 || width === 4 ? width : 4;
  d.countExit(write && off === VIRTIO_MMIO_QUEUE_NOTIFY ? `mmio:${dev.name}-notify` : `mmio:${dev.name}`);
  if (!write) return dev.read(off, w);
  dev.write(off, w, value);
  return 0;
}

/** One MMIO access of a vCPU to the domain's UART; returns the value read (0 for a write). */
export function serveUartAccess(d: Domain, write: boolean, offset: number, width: number, value: number): number {
  let ret = 0;
  const uart = d.uart;
  if (uart && offset >>> 0 < uart.size) {
    const w = width === 1 || width === 2 || width === 4 ? width : 1;
    if (write) uart.write(offset >>> 0, w, value);
    else ret = uart.read(offset >>> 0, w);
    feedUart(d);
  }
  d.countExit('mmio:uart0');
  return ret;
}

/**
 * Hand queued console input to the UART as its receive buffer empties (a guest that runs
 * the 16550A without FIFOs takes one byte at a time).
 */
export function feedUart(d: Domain): void {
  if (sbiConsoleReaders.has(d)) return; // the guest reads the SBI console (hvc0) instead
  while (d.consoleIn.length > 0 && d.uart?.receive(d.consoleIn[0]!)) d.consoleIn.shift();
  // The device model has no clock: a character timeout (bytes left below the FIFO's
  // trigger level, e.g. Linux's 8250 with FCR trigger 8) fires now rather than never.
  d.uart?.update();
}
