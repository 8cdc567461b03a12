/**
 * Event channel wake-up latency between two pv domains: "ping" sends on an interdomain
 * channel and blocks; "pong" blocks, wakes on the event, and sends back. Ping stamps each
 * round trip with the `time` CSR (10 MHz) into its RAM; one wake-up (send -> the blocked
 * peer running again) is half a round trip. The channel is set up by Domain-0 before the
 * guests start, as libxl sets up console channels: port 3 in both domains.
 */
import { assemble } from '../src/core/cpu/asm';
import { Hypervisor } from '../src/core/xen/common/hypervisor';
import { parseXlConfig } from '../src/core/tools/xlConfig';
import { nodeVcpuHost } from '../src/node/vcpuHost';
import { ensureWorkerScript } from '../src/node/workerScript';
import { elf32Executable } from '../src/core/loader/elfWrite';

const PORT = 3;
const SAMPLES = 0x8001_0000; // where ping stores its round-trip times (ticks)

function li(rd: number, v: number): number[] {
  const lo = (v << 20) >> 20;
  return [assemble('lui', { rd, imm: ((v - lo) >>> 12) & 0xfffff }), assemble('addi', { rd, rs1: rd, imm: lo })];
}

/** Block until an upcall is pending, then clear it (upcall, selector, pending word 0). s1 = shared_info. */
function waitEvent(): number[] {
  return [
    ...li(17, 0x0a00_0007),
    assemble('addi', { rd: 16, imm: 29 }),
    assemble('addi', { rd: 10, imm: 1 }),
    assemble('ecall'), // SCHEDOP_block
    assemble('lbu', { rd: 5, rs1: 9, imm: 0 }),
    assemble('beq', { rs1: 5, rs2: 0, imm: -24 }), // spurious: block again
    assemble('sb', { rs1: 9, rs2: 0, imm: 0 }),
    assemble('sw', { rs1: 9, rs2: 0, imm: 4 }),
    assemble('sw', { rs1: 22, rs2: 0, imm: 0 }), // s6 = &evtchn_pending[0]
  ];
}

/** EVTCHNOP_send(port 3): the argument struct at 0x80002000. */
function send(): number[] {
  return [
    ...li(11, 0x8000_2000),
    assemble('addi', { rd: 5, imm: PORT }),
    assemble('sw', { rs1: 11, rs2: 5 }),
    ...li(17, 0x0a00_0007),
    assemble('addi', { rd: 16, imm: 32 }),
    assemble('addi', { rd: 10, imm: 4 }),
    assemble('ecall'),
  ];
}

function prologue(): number[] {
  return [
    assemble('lw', { rd: 9, rs1: 11, imm: 36 }), // s1 = start_info->shared_info
    assemble('addi', { rd: 22, rs1: 9, imm: 1024 }),
    assemble('addi', { rd: 22, rs1: 22, imm: 1024 }), // s6 = s1 + 2048
  ];
}

function pongImage(): Uint8Array {
  const body = [...waitEvent(), ...send()];
  const words = [...prologue(), ...body, assemble('jal', { imm: -body.length * 4 })];
  return new Uint8Array(Int32Array.from(words).buffer);
}

function pingImage(n: number): Uint8Array {
  const w = [...prologue(), ...li(18, n), ...li(19, SAMPLES)];
  const top = w.length;
  w.push(assemble('csrrs', { rd: 20, csr: 0xc01 })); // t_send = time
  w.push(...send(), ...waitEvent());
  w.push(assemble('csrrs', { rd: 21, csr: 0xc01 }), assemble('sub', { rd: 21, rs1: 21, rs2: 20 }));
  w.push(assemble('sw', { rs1: 19, rs2: 21 }), assemble('addi', { rd: 19, rs1: 19, imm: 4 }));
  w.push(assemble('addi', { rd: 18, rs1: 18, imm: -1 }));
  w.push(assemble('bne', { rs1: 18, rs2: 0, imm: (top - w.length) * 4 }));
  // SCHEDOP_shutdown(poweroff): reason 0 at 0x80002004
  w.push(...li(11, 0x8000_2004), assemble('sw', { rs1: 11, rs2: 0 }), ...li(17, 0x0a00_0007));
  w.push(assemble('addi', { rd: 16, imm: 29 }), assemble('addi', { rd: 10, imm: 2 }), assemble('ecall'), assemble('jal', { imm: 0 }));
  return new Uint8Array(Int32Array.from(w).buffer);
}

export interface WakeupResult {
  samples: number;
  medianMicros: number;
  p99Micros: number;
}

export async function measureEvtchnWakeup(n = 2000, pcpus = 2, parkUs?: number): Promise<WakeupResult> {
  const hv = new Hypervisor({ memoryMiB: 64, pcpus, host: nodeVcpuHost(await ensureWorkerScript()), ...(parkUs !== undefined ? { parkUs } : {}) });
  hv.start();
  try {
    const cfg = (name: string): ReturnType<typeof parseXlConfig> =>
      parseXlConfig(`name = "${name}"\ntype = "pv"\nmemory = 8\nkernel = "x"\non_poweroff = "preserve"`);
    const pong = hv.createDomain(cfg('pong'), { kernel: elf32Executable(pongImage()) });
    hv.pauseDomain(pong.domid);
    const ping = hv.createDomain(cfg('ping'), { kernel: elf32Executable(pingImage(n)) });
    hv.pauseDomain(ping.domid);
    const a = hv.evtchn.allocUnbound(ping, pong.domid);
    const b = hv.evtchn.bindInterdomain(pong, ping.domid, a);
    if (a !== PORT || b !== PORT) throw new Error(`expected port ${PORT} on both sides, got ${a} and ${b}`);
    ping.mem!.write(ping.sharedInfo, new Uint8Array(4096)); // no stale pending bits from the bind
    pong.mem!.write(pong.sharedInfo, new Uint8Array(4096));
    hv.unpauseDomain(pong.domid);
    hv.unpauseDomain(ping.domid);
    const end = Date.now() + 60_000;
    while (ping.shutdownReason === null && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    if (ping.shutdownReason === null) throw new Error('ping did not finish');
    const rtt = Array.from({ length: n }, (_, i) => ping.mem!.u32(SAMPLES + 4 * i) / 10).sort((x, y) => x - y); // us
    const at = (q: number): number => rtt[Math.min(n - 1, Math.floor(q * n))]! / 2;
    return { samples: n, medianMicros: at(0.5), p99Micros: at(0.99) };
  } finally {
    hv.shutdownHost();
  }
}
