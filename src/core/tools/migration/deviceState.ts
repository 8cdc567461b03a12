/**
 * Device state, in the two places Xen keeps it for an HVM guest:
 *
 * - HVM_CONTEXT (libxc record 0x09): the state of what the hypervisor itself emulates
 *   (on x86: the local APIC, IO-APIC, PIT, HPET, RTC; here: the CLINT and the PLIC);
 * - EMULATOR_CONTEXT (libxl record 0x03, emulator id 0x48590001): the state of the device
 *   models (on x86: QEMU's; here: the UART, the Goldfish RTC and the virtio-mmio devices
 *   with their queues and in-flight descriptors).
 *
 * Both bodies are a list of entries in the framing of Xen's HVM save records
 * (public/arch-x86/hvm/save.h: a descriptor {u16 typecode, u16 instance, u32 length}, then
 * `length` bytes), closed by an END entry (typecode 0, length 0). The typecodes below are
 * hyperlab's; each device's body layout is written by that device's save function, with a
 * round-trip test, as it lands (issue 15). A typecode a reader does not know is refused: an
 * hvm guest whose device state cannot be restored would run on with a device reset behind
 * its back.
 */
import { ByteReader, type ByteWriter } from './bytes';

export const HVM_SAVE = {
  END: 0,
  /** {u32 magic 0x48594c42 "HYLB", u32 version 1, u32 nr_vcpus, u32 reserved}. */
  HEADER: 1,
  CLINT: 0x10,
  PLIC: 0x11,
  /** What the MROM's reset vector names (deviceCodec.ts). */
  BOARD: 0x12,
  UART_16550: 0x20,
  GOLDFISH_RTC: 0x21,
  SIFIVE_TEST: 0x22,
  VIRTIO_MMIO: 0x23,
} as const;

export interface DeviceStateEntry {
  typecode: number;
  /** Which device of that kind (virtio-mmio slot, hart for per-hart state...). */
  instance: number;
  data: Uint8Array;
}

const KNOWN = new Set<number>(Object.values(HVM_SAVE));

export function writeDeviceState(w: ByteWriter, entries: readonly DeviceStateEntry[]): void {
  for (const e of entries) {
    w.u16(e.typecode).u16(e.instance).u32(e.data.length).bytes(e.data);
  }
  w.u16(HVM_SAVE.END).u16(0).u32(0);
}

export function readDeviceState(body: Uint8Array, base: number, what: string, littleEndian = true): DeviceStateEntry[] {
  const r = new ByteReader(body, base, littleEndian, what);
  const out: DeviceStateEntry[] = [];
  for (;;) {
    const at = r.offset;
    const typecode = r.u16('typecode'),
      instance = r.u16('instance'),
      length = r.u32('length');
    if (typecode === HVM_SAVE.END) {
      if (instance !== 0 || length !== 0) r.fail('END entry with a body', at);
      r.end();
      return out;
    }
    if (!KNOWN.has(typecode)) r.fail(`unknown device typecode ${typecode}`, at);
    out.push({ typecode, instance, data: r.bytesOf(length, `device ${typecode} state`) });
  }
}
