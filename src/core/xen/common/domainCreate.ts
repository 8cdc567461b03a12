/**
 * Building a domain from what its builder made (pv/builder.ts, hvm/builder.ts): the
 * PvDomain or HvmDomain object with its memory view, special pages or device models, and
 * the boot record each of its vCPU workers starts from. Xen's domain_create and
 * vcpu_create, the parts that need no hypervisor state. Hypervisor thread.
 */
import type { JitMode } from '../../cpu/jit/engine';
import { Uart16550 } from '../../devices/uart16550';
import { plicSharedBytes } from '../../devices/plic';
import { P2M_MFN_MASK } from '../../bus/bus';
import type { BuiltPv } from '../pv/builder';
import type { VcpuBoot } from '../vcpu/vcpuControl';
import { HvmDomain, PvDomain, type BuiltDomain, type Domain, type Vcpu } from './domain';
import { GuestMemory } from './guestMemory';
import type { DomainConfig } from '../../tools/xlConfig';
import { virtioSlotForDevice } from '../../board/memoryMap';

export interface NewDomainHooks {
  /** The machine memory buffer the domain's frames are in. */
  readonly buffer: SharedArrayBuffer;
  /** The hypervisor's writes into the domain (GuestMemory): the write watch (log-dirty). */
  noteWrite?(at: number, length: number): void;
  now(): number;
  /** Bytes the hvm domain's UART sends. */
  uartTransmit(d: HvmDomain, byte: number): void;
  /** The UART's interrupt line, to every vCPU of the domain. */
  uartIrq(d: HvmDomain, level: boolean): void;
}

/** The domain object for what a builder made. */
export function newDomain(domid: number, cfg: DomainConfig, built: BuiltPv | BuiltDomain, h: NewDomainHooks): Domain {
  if ('startInfo' in built) {
    const si = built.sharedInfo;
    const siMachine = (built.p2m.get((si - built.ramBase) >>> 12) & P2M_MFN_MASK) * 4096 + (si & 0xfff);
    return new PvDomain(
      domid,
      cfg,
      built.p2m,
      built.ramBase,
      h.now(),
      new GuestMemory(h.buffer, built.p2m, built.ramBase, built.physSize, h.noteWrite?.bind(h)),
      {
        startInfo: built.startInfo,
        consoleGfn: built.consoleGfn,
        consolePort: 1,
        consoleBackPort: 0,
        xenstoreGfn: built.xenstoreGfn,
        xenstorePort: 2,
        xenstoreBackPort: 0,
        xenstoreMfn: -1,
        specialGfns: new Set(built.specialGfns),
      },
      si,
      siMachine,
      built.grantFrames,
    );
  }
  return new HvmDomain(
    domid,
    cfg,
    built.p2m,
    built.ramBase,
    h.now(),
    (d) => new Uart16550({ onTransmit: (b) => h.uartTransmit(d, b), irq: { set: (level) => h.uartIrq(d, level) } }),
    // firmware = "sbi": hyperlab's SBI serves the guest, which may hand it buffers (DBCN).
    cfg.firmware === 'sbi' ? new GuestMemory(h.buffer, built.p2m, built.ramBase, cfg.memory * 1024 * 1024, h.noteWrite?.bind(h)) : undefined,
    // One PLIC for the domain, its registers shared by the vCPU workers.
    cfg.vcpus > 1 ? new SharedArrayBuffer(plicSharedBytes(cfg.vcpus)) : undefined,
  );
}

/** What a vCPU worker needs to start (it crosses a postMessage once). */
export function vcpuBoot(
  d: Domain,
  v: Vcpu,
  built: BuiltDomain,
  host: { buffer: SharedArrayBuffer; evtchnDir: SharedArrayBuffer; icountShift: number | undefined; jit?: JitMode; writeWatch?: SharedArrayBuffer },
): VcpuBoot {
  return {
    domid: d.domid,
    vcpuId: v.vcpuId,
    type: d.kind,
    machineMemory: host.buffer,
    p2m: d.p2m.table.buffer as SharedArrayBuffer,
    p2mGeneration: d.p2m.generation.buffer as SharedArrayBuffer,
    control: v.cb.buffer as SharedArrayBuffer,
    saveArea: v.saveArea,
    ramBase: d.ramBase,
    ramSize: d.mem ? d.p2m.maxFrames * 4096 : d.ramSize,
    ...(d.pv ? { sharedInfoMachine: d.siMachine } : {}),
    ...(d.plicShared ? { plicShared: d.plicShared } : {}),
    nrVcpus: d.vcpus.length,
    evtchnDir: host.evtchnDir,
    consoleIn: d.sbiConsoleIn.buffer,
    vcpuSlot: v.slot,
    ...(d.evtchnSlot >= 0 ? { domainSlot: d.evtchnSlot } : {}),
    ...(built.mrom ? { mrom: built.mrom } : {}),
    ...(d.pv ? {} : { firmware: d.config.firmware, virtioPlugged: virtioPlugged(d.config) }),
    entry: built.entry,
    args: [v.vcpuId, built.args[1], built.args[2]],
    clock: host.icountShift === undefined ? { kind: 'real', epochMs: d.epochMs } : { kind: 'icount', shift: host.icountShift },
    ...(host.jit !== undefined && host.jit !== 'off' ? { jit: host.jit } : {}),
    ...(host.writeWatch ? { writeWatch: host.writeWatch } : {}), // log-dirty needs it with or without the tier
  };
}

/**
 * hvm: the virtio-mmio slots with a device (bit i = slot i): one virtio-blk per disk, then
 * one virtio-net per vif, placed as QEMU places `-device virtio-blk-device ... -device
 * virtio-net-device` in command-line order (tools/vif.ts).
 */
export function virtioPlugged(cfg: DomainConfig): number {
  let mask = 0;
  for (let n = 0; n < (cfg.disk?.length ?? 0) + (cfg.vif?.length ?? 0); n++) mask |= 1 << virtioSlotForDevice(n);
  return mask;
}
