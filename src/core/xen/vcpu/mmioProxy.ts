/**
 * The vCPU's side of the devices whose registers live in the hypervisor (the hvm UART and
 * virtio-mmio slots): every access is an exit (C_ARG0 + 3 names the device), synchronous
 * but for two virtio paths that do not wait for the hypervisor (vcpuControl.ts):
 * - a QueueNotify in real time is posted (C_POSTED, KVM's ioeventfd): the guest's driver
 *   waits for the used ring anyway, and the device model works on the queue meanwhile;
 * - with one vCPU in real time (sharesVirtioIsr), InterruptStatus and InterruptACK are
 *   served here from the shared word (C_VIRTIO_ISR), counted as `mmio:virtio-isr-local`.
 */
import type { AccessWidth, MmioDevice } from '../../bus/mmio';
import { VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_QUEUE_NOTIFY } from '../../devices/virtioMmio';
import * as C from './vcpuControl';

/** What a proxy needs of its vCPU runner. */
export interface ProxyHost {
  readonly cb: Int32Array;
  readonly boot: C.VcpuBoot;
  /** A synchronous exit (VcpuRunner.request). */
  request(kind: C.VcpuRequest, a0: number, a1: number, a2: number, a3?: number): number;
  /** Copy the control block's interrupt lines into the PLIC. */
  applyIrqs(): void;
}

export function mmioProxy(host: ProxyHost, name: string, size: number, dev: number): MmioDevice {
  const { cb, boot } = host;
  const slot = dev - C.mmioDevVirtio(0);
  const virtio = slot >= 0 && slot < 8;
  const deterministic = boot.clock.kind === 'icount';
  const posted = virtio && !deterministic;
  const isr = virtio && C.sharesVirtioIsr(boot.nrVcpus ?? 1, deterministic);
  return {
    name,
    size,
    read: (offset: number, width: AccessWidth) =>
      isr && offset === VIRTIO_MMIO_INTERRUPT_STATUS && width === 4 ? isrRead(cb, slot) : host.request(C.VcpuRequest.MMIO_READ, offset, width, 0, dev),
    write: (offset: number, width: AccessWidth, value: number) => {
      if (posted && offset === VIRTIO_MMIO_QUEUE_NOTIFY && width === 4 && value >>> 0 < 4) post(cb, slot * 4 + value);
      else if (isr && offset === VIRTIO_MMIO_INTERRUPT_ACK && width === 4) {
        isrAck(cb, slot, value);
        host.applyIrqs();
      } else host.request(C.VcpuRequest.MMIO_WRITE, offset, width, value, dev);
    },
  };
}

/** Post a QueueNotify (C_POSTED): ring the doorbell without an event and do not wait. */
function post(cb: Int32Array, bit: number): void {
  Atomics.or(cb, C.C_POSTED, 1 << bit);
  Atomics.add(cb, C.C_DOORBELL, 1);
  Atomics.notify(cb, C.C_DOORBELL);
}

/** InterruptStatus of a virtio slot, from the shared word. */
function isrRead(cb: Int32Array, slot: number): number {
  countIsrLocal(cb);
  return Atomics.load(cb, C.C_VIRTIO_ISR + slot) & 3;
}

/**
 * InterruptACK: clear the bits; with none left lower the slot's line, then read the word
 * again: the device sets its bit before it raises the line, so a bit set meanwhile either
 * shows here (the line goes up again) or its line comes after this.
 */
function isrAck(cb: Int32Array, slot: number, value: number): void {
  countIsrLocal(cb);
  const cell = C.C_VIRTIO_ISR + slot;
  if ((Atomics.and(cb, cell, ~value) & ~value & 3) === 0) {
    Atomics.and(cb, C.C_IRQ, ~C.irqVirtio(slot));
    if ((Atomics.load(cb, cell) & 3) !== 0) Atomics.or(cb, C.C_IRQ, C.irqVirtio(slot));
  }
}

const ISR_LOCAL = C.C_LOCAL_HC + C.LOCAL_HC.indexOf('mmio:virtio-isr-local');

function countIsrLocal(cb: Int32Array): void {
  cb[ISR_LOCAL] = (cb[ISR_LOCAL]! + 1) | 0;
}
