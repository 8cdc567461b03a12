/**
 * Linux to the init's prompt (docs/bench.md, "linux"): each guest of
 * guests/linux/domainSession.ts boots as an hvm domain under an in-process hypervisor
 * (one pCPU, a vCPU worker), `runs` times: wall time from domain creation to the prompt,
 * instructions to the prompt, and the exits it took, by reason, with the console bytes.
 * Kernel 1 (6.12, no MMU, M-mode) also boots as processes: `hyperlab run` and QEMU's
 * `-bios none` reference, from spawn to the prompt; kernel 2 (6.1, S-mode) on QEMU with
 * the M-mode SBI shim (guests/linux/qemu-sbi-shim), Debian's QEMU having no rv32 OpenSBI.
 */
import { bootLinuxDomain, LINUX_GUESTS, type LinuxGuest } from '../guests/linux/domainSession';
import { hyperlabSession, qemuSbiSession, qemuSession } from '../guests/linux/session';
import { qemuAvailable } from '../src/node/qemu';
import { ensureWorkerScript } from '../src/node/workerScript';

export interface LinuxGuestBench {
  promptMs: number[];
  promptMillionInsns: number[];
  /** CPU time of the vCPU (guest code only) up to the prompt, ms. */
  promptCpuMs: number[];
  /** Console bytes up to the prompt, and exits by reason (the same in every run but for timing noise). */
  bytes: number[];
  exits: Record<string, number>[];
}

export interface LinuxBench {
  domains: Record<LinuxGuest, LinuxGuestBench>;
  /** As processes, spawn to prompt (ms): kernel 1 under hyperlab run and QEMU, kernel 2 under QEMU with the shim (null: no QEMU). */
  process: { hyperlabRunMs: number[]; qemuMs: number[] | null; qemuSbiMs: number[] | null };
}

export async function measureLinux(runs: number, log: (line: string) => void = () => {}): Promise<LinuxBench> {
  const workerScript = await ensureWorkerScript();
  const domains = {} as Record<LinuxGuest, LinuxGuestBench>;
  for (const guest of Object.keys(LINUX_GUESTS) as LinuxGuest[]) {
    const b: LinuxGuestBench = { promptMs: [], promptMillionInsns: [], promptCpuMs: [], bytes: [], exits: [] };
    for (let i = 0; i < runs; i++) {
      const r = await bootLinuxDomain({ guest, workerScript, timeoutMs: 120_000 });
      b.promptMs.push(r.promptMs);
      b.promptMillionInsns.push(r.promptInsns / 1e6);
      b.promptCpuMs.push(r.promptCpuMs);
      b.bytes.push(r.promptBytes);
      b.exits.push(r.promptExits);
    }
    log(
      `linux ${guest}: prompt in ${b.promptMs.map((x) => (x / 1000).toFixed(2)).join(', ')} s; ` +
        `${b.promptMillionInsns.map((x) => x.toFixed(2)).join(', ')} M insns; vCPU ${b.promptCpuMs.map((x) => (x / 1000).toFixed(2)).join(', ')} s; exits ${JSON.stringify(b.exits[0])} for ${b.bytes[0]} bytes`,
    );
    domains[guest] = b;
  }
  const hyperlabRunMs: number[] = [];
  const qemuMs: number[] = [];
  const qemuSbiMs: number[] = [];
  const haveQemu = qemuAvailable();
  for (let i = 0; i < runs; i++) {
    hyperlabRunMs.push(await processPromptMs(() => hyperlabSession({ commands: ['poweroff'], timeoutMs: 120_000 })));
    if (haveQemu) qemuMs.push(await processPromptMs(() => qemuSession({ commands: ['poweroff'], timeoutMs: 120_000 })));
    if (haveQemu) qemuSbiMs.push(await processPromptMs(() => qemuSbiSession({ commands: ['poweroff'], timeoutMs: 120_000 })));
  }
  log(
    `linux nommu as a process, spawn to prompt: hyperlab run ${hyperlabRunMs.map((x) => (x / 1000).toFixed(2)).join(', ')} s` +
      (haveQemu
        ? `; QEMU ${qemuMs.map((x) => (x / 1000).toFixed(2)).join(', ')} s; kernel 2 on QEMU with the SBI shim ` +
          `${qemuSbiMs.map((x) => (x / 1000).toFixed(2)).join(', ')} s`
        : '; QEMU not installed'),
  );
  return { domains, process: { hyperlabRunMs, qemuMs: haveQemu ? qemuMs : null, qemuSbiMs: haveQemu ? qemuSbiMs : null } };
}

async function processPromptMs(session: () => Promise<{ promptMs: number; stdout: string }>): Promise<number> {
  const r = await session();
  if (Number.isNaN(r.promptMs)) throw new Error(`Linux did not reach its prompt:\n${r.stdout.slice(-2000)}`);
  return r.promptMs;
}
