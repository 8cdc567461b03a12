/**
 * pv vs hvm console throughput: the same teaching OS, once as a pv domain (console ring +
 * event channel) and once as an hvm domain (every byte an access to the emulated 16550A,
 * an exit to the device model in the hypervisor thread), runs `write N`. Throughput is
 * bytes over the wall time from the command until the last byte reached Domain-0's
 * console; exits are counted by the hypervisor for the same interval.
 */
import { readFileSync } from 'node:fs';
import { Hypervisor } from '../src/core/xen/common/hypervisor';
import type { Domain } from '../src/core/xen/common/domain';
import { parseXlConfig } from '../src/core/tools/xlConfig';
import { guestImage } from '../src/node/paths';
import { nodeVcpuHost } from '../src/node/vcpuHost';
import { ensureWorkerScript } from '../src/node/workerScript';

export interface ConsoleRun {
  bytesPerSecond: number;
  exitsPerKiB: number;
  seconds: number;
}

const text = (d: Domain): string => String.fromCharCode(...d.console);
const exits = (d: Domain): number => [...d.exits.values()].reduce((a, b) => a + b, 0);

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

export async function measureConsole(type: 'pv' | 'hvm', bytes = 1 << 20): Promise<ConsoleRun> {
  const hv = new Hypervisor({ memoryMiB: 64, pcpus: 1, host: nodeVcpuHost(await ensureWorkerScript()) });
  hv.start();
  try {
    const cfg = parseXlConfig(`name = "tos"\ntype = "${type}"\nmemory = 16\nkernel = "k"\non_poweroff = "preserve"`);
    const d = hv.createDomain(cfg, { kernel: readFileSync(guestImage(`teaching-os-${type}`)) });
    await until(() => text(d).includes('$ '), 30_000);
    // Count what arrives from here on (the console history keeps only the last 64 KiB),
    // and stop the clock at the byte that completes N.
    let received = 0;
    let doneAt = 0;
    const off = hv.on('console', (domid, b) => {
      if (domid !== d.domid) return;
      received += b.length;
      if (doneAt === 0 && received >= bytes) doneAt = performance.now();
    });
    const e0 = exits(d);
    const t0 = performance.now();
    hv.consoleInput(d.domid, new TextEncoder().encode(`write ${bytes}\n`));
    await until(() => doneAt !== 0, 600_000);
    const seconds = (doneAt - t0) / 1000;
    off();
    return { bytesPerSecond: bytes / seconds, exitsPerKiB: (exits(d) - e0) / (bytes / 1024), seconds };
  } finally {
    hv.shutdownHost();
  }
}
