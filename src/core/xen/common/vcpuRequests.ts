/**
 * What a pv vCPU's firmware (sbi.ts, in the vCPU worker) asks of the hypervisor thread:
 * Xen hypercalls, and the SBI calls that reach outside the vCPU (console, reset, IPIs,
 * HSM). Runs in the hypervisor thread; guest memory is read through GuestMemory, so a bad
 * address is -EFAULT, never a crash.
 */
import { Runstate, type Vcpu } from './domain';
import { GuestFault } from './guestMemory';
import type { Hypervisor } from './hypervisor';
import { hypercall, HcAction, type HypercallContext } from './hypercalls';
import * as C from '../vcpu/vcpuControl';
import * as X from '../public/xen';

/**
 * Domains whose guest has read the SBI console: typed input goes there rather than to the
 * UART (an hvm domain with firmware = "sbi" has both; Linux polls the SBI console only
 * when hvc0 is open, so this is the guest's choice of console).
 */
export const sbiConsoleReaders = new WeakSet<object>();

/** What serving a vCPU's requests uses of the hypervisor. */
export type VcpuRequestHost = HypercallContext & Pick<Hypervisor, 'consoleOut' | 'guestShutdown' | 'setIrq' | 'vcpuUp'>;

export function serveFirmware(hv: VcpuRequestHost, v: Vcpu, kind: number, a: number[]): number {
  const d = v.domain;
  const m = d.mem;
  if (m === undefined) return -X.ENOSYS; // no firmware behind this vCPU (hvm, firmware = "none")
  try {
    switch (kind) {
      case C.VcpuRequest.HYPERCALL: {
        const r = hypercall(hv, v, a[5]!, a.slice(0, 5));
        v.cb[C.C_RET1] = r.action;
        return r.ret;
      }
      case C.VcpuRequest.VIRQ:
        hv.evtchn.sendVirq(d, a[0]!, v.vcpuId);
        return 0;
      case C.VcpuRequest.SBI_CONSOLE_WRITE: {
        const len = Math.min(a[1]! >>> 0, 4096);
        hv.consoleOut(d, m.read(a[0]!, len));
        d.countExit('sbi:console');
        return len;
      }
      case C.VcpuRequest.SBI_CONSOLE_PUTS: {
        const n = Math.min(a[0]! >>> 0, 28);
        const bytes = new Uint8Array(n);
        for (let i = 0; i < n; i++) bytes[i] = (a[1 + (i >> 2)]! >>> (8 * (i & 3))) & 0xff;
        hv.consoleOut(d, bytes);
        d.countExit('sbi:console');
        return 0;
      }
      case C.VcpuRequest.SBI_CONSOLE_WRITE_BYTE:
        hv.consoleOut(d, Uint8Array.of(a[0]! & 0xff));
        d.countExit('sbi:console');
        return 0;
      case C.VcpuRequest.SBI_CONSOLE_READ: {
        // From the guest's first read of the SBI console on, typed input waits in the ring
        // the vCPUs read without an exit (vcpu/consoleIn.ts); they come here only for the
        // first read and when bytes wait behind a full ring. The ring's bytes come first.
        sbiConsoleReaders.add(d);
        d.countExit('sbi:console-read');
        const ring = d.sbiConsoleIn;
        ring.setReader();
        ring.fill(d.consoleIn);
        const want = a[0] === 0 ? 1 : Math.min(a[1]! >>> 0, 4096);
        const got: number[] = [];
        // Each round takes a byte or refills the ring (or finds nothing left): bounded.
        for (let i = 0; i < 2 * want + 2 && got.length < want; i++) {
          const b = ring.take();
          if (b >= 0) got.push(b);
          else if (d.consoleIn.length === 0) break;
          else ring.fill(d.consoleIn);
        }
        ring.fill(d.consoleIn);
        if (a[0] === 0) return got.length > 0 ? got[0]! : -1;
        m.write(a[0]!, Uint8Array.from(got));
        return got.length;
      }
      case C.VcpuRequest.SBI_RESET:
        hv.guestShutdown(d, a[0] === 0 ? 'poweroff' : 'reboot', `SBI system_reset(${a[0]}, ${a[1]})`);
        v.cb[C.C_RET1] = HcAction.STOP;
        return 0;
      case C.VcpuRequest.SBI_IPI: {
        const mask = a[0]! >>> 0,
          base = a[1]! | 0;
        for (let i = 0; i < 32; i++) {
          if (((mask >>> i) & 1) === 0) continue;
          const t = base === -1 ? d.vcpus[i] : d.vcpus[base + i];
          if (t) hv.setIrq(t, C.IRQ_IPI, true);
        }
        return 0;
      }
      case C.VcpuRequest.SBI_HART_START:
        return hv.vcpuUp(d, a[0]!, a[1]!, a[2]!) === 0 ? 0 : -6; // SBI_ERR_ALREADY_AVAILABLE
      case C.VcpuRequest.SBI_HART_STATUS: {
        const t = d.vcpus[a[0]!];
        return t === undefined ? -3 : t.runstate === Runstate.OFFLINE ? 1 : 0; // STOPPED 1, STARTED 0
      }
      default:
        d.countExit('unknown');
        return -X.ENOSYS;
    }
  } catch (e) {
    if (e instanceof GuestFault) return -X.EFAULT;
    throw e;
  }
}
