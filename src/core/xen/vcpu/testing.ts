/**
 * Test support: a VcpuRunner in the test's own thread for an hvm domain with
 * firmware = "sbi" (S-mode at RAM_BASE, hyperlab's SBI), over 1 MiB of machine memory,
 * with `program` (instruction words) loaded at the entry. Requests to the hypervisor
 * would block on the control block: tests use only what the vCPU serves itself.
 */
import { newEvtchnDirectory } from '../common/evtchnDirect';
import { MachineMemory } from '../common/machineMemory';
import { P2m } from '../common/p2m';
import * as C from './vcpuControl';
import { hostNowMs, VcpuRunner } from './vcpuRunner';

export const TEST_RAM_BASE = 0x8000_0000;

export function sbiTestVcpu(program: readonly number[], o: { domainAgeMs?: number; consoleIn?: SharedArrayBuffer } = {}): { r: VcpuRunner; cb: Int32Array } {
  const mem = new MachineMemory(4 << 20);
  const p2m = new P2m(256);
  for (let gfn = 0; gfn < 256; gfn++) p2m.populate(mem, gfn, 1);
  const cb = C.newControlBlock();
  const boot: C.VcpuBoot = {
    domid: 1,
    vcpuId: 0,
    type: 'hvm',
    firmware: 'sbi',
    machineMemory: mem.buffer,
    p2m: p2m.table.buffer as SharedArrayBuffer,
    p2mGeneration: p2m.generation.buffer as SharedArrayBuffer,
    control: cb.buffer as SharedArrayBuffer,
    ramBase: TEST_RAM_BASE,
    ramSize: 256 * 4096,
    evtchnDir: newEvtchnDirectory(),
    vcpuSlot: 0,
    entry: TEST_RAM_BASE,
    args: [0, TEST_RAM_BASE + 0x8_0000, 0],
    clock: { kind: 'real', epochMs: hostNowMs() - (o.domainAgeMs ?? 0) },
    ...(o.consoleIn ? { consoleIn: o.consoleIn } : {}),
  };
  const r = new VcpuRunner(boot);
  r.bus.writePhys(TEST_RAM_BASE, new Uint8Array(Int32Array.from(program).buffer));
  return { r, cb };
}
