/**
 * The hypervisor with real vCPU workers (node:worker_threads): hvm domains boot the
 * shipped guest images side by side under the credit scheduler.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { assemble } from '../core/cpu/asm';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { parseXlConfig } from '../core/tools/xlConfig';
import { FREE } from '../core/xen/common/machineMemory';
import { ensureBundleSync } from './testBundle';
import { guestImage } from './paths';
import { nodeVcpuHost } from './vcpuHost';
import { sleep, until } from '../testing/support';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

function host(opts: { pcpus?: number; icountShift?: number; memoryMiB?: number } = {}): Hypervisor {
  hv = new Hypervisor({
    memoryMiB: opts.memoryMiB ?? 64,
    pcpus: opts.pcpus ?? 2,
    host: nodeVcpuHost(ensureBundleSync()),
    ...(opts.icountShift !== undefined ? { icountShift: opts.icountShift } : {}),
  });
  hv.start();
  return hv;
}

function config(name: string, image: string, extra = ''): ReturnType<typeof parseXlConfig> {
  return parseXlConfig(`name = "${name}"\ntype = "hvm"\nmemory = 16\nkernel = "${image}"\non_poweroff = "preserve"\n${extra}`);
}

const text = (bytes: number[]): string => String.fromCharCode(...bytes);

/** A flat image that spins forever: `j .` */
const SPIN = new Uint8Array(Int32Array.of(assemble('jal', { imm: 0 })).buffer);

describe('hypervisor with vCPU workers', () => {
  it('runs two hvm domains at once; each prints its own console and powers off', async () => {
    const h = host();
    const a = h.createDomain(config('hello', 'hello.elf'), { kernel: readFileSync(guestImage('hello')) });
    const b = h.createDomain(config('selftest', 'isa-selftest.elf'), { kernel: readFileSync(guestImage('isa-selftest')) });
    await until(() => a.shutdownReason !== null && b.shutdownReason !== null);
    expect(text(a.console)).toContain('Hello from hyperlab');
    expect(text(b.console)).toContain('isa-selftest: PASS');
    expect(text(a.console)).not.toContain('isa-selftest');
    expect([a.shutdownDetail, b.shutdownDetail]).toEqual(['PASS', 'PASS']);
    expect(a.exits.get('mmio:uart0')).toBeGreaterThan(100); // every UART access is an exit
  });

  it('gives the frames back on destroy and never shares a frame between domains', async () => {
    const h = host();
    const free0 = h.memory.nrFree;
    const a = h.createDomain(config('a', 'hello.elf'), { kernel: readFileSync(guestImage('hello')) });
    const b = h.createDomain(config('b', 'hello.elf'), { kernel: readFileSync(guestImage('hello')) });
    const framesA = new Set(Array.from(a.p2m.table).filter((m) => m >= 0));
    const framesB = Array.from(b.p2m.table).filter((m) => m >= 0);
    expect(framesA.size).toBe((16 << 20) / 4096);
    expect(framesB.some((m) => framesA.has(m))).toBe(false);
    for (const m of framesA) expect(h.memory.owner[m]).toBe(a.domid);
    h.destroyDomain(a.domid);
    h.destroyDomain(b.domid);
    expect(h.memory.nrFree).toBe(free0);
    expect(h.memory.owner.every((o) => o === FREE)).toBe(true);
  });

  it('refuses a domain that does not fit in free memory, and loses nothing', () => {
    const h = host({ memoryMiB: 24 });
    const free0 = h.memory.nrFree;
    expect(() =>
      h.createDomain(
        config('big', 'hello.elf').constructor === Object ? { ...config('big', 'hello.elf'), memory: 32, maxmem: 32 } : config('big', 'hello.elf'),
        { kernel: readFileSync(guestImage('hello')) },
      ),
    ).toThrow(/not enough free memory/);
    expect(h.memory.nrFree).toBe(free0);
  });

  it('a malformed kernel is refused with the loader message and frees its frames', () => {
    const h = host();
    const free0 = h.memory.nrFree;
    const bad = new Uint8Array(64);
    bad.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    expect(() => h.createDomain(config('bad', 'bad.elf'), { kernel: bad })).toThrow(/64-bit/);
    expect(h.memory.nrFree).toBe(free0);
  });

  it('pause freezes a spinning domain and unpause resumes it', async () => {
    const h = host();
    const d = h.createDomain(config('bench', 'cpubench.elf'), { kernel: readFileSync(guestImage('cpubench')) });
    await until(() => d.vcpus[0]!.instret > 0);
    h.pauseDomain(d.domid);
    await until(() => d.state === 'paused' && d.vcpus[0]!.pcpu === -1);
    const frozen = d.vcpus[0]!.instret;
    await sleep(200);
    expect(d.vcpus[0]!.instret).toBe(frozen);
    h.unpauseDomain(d.domid);
    await until(() => d.vcpus[0]!.instret > frozen);
  });

  it('the credit scheduler shares one pCPU 2:1 between weights 512 and 256 (deterministic time)', async () => {
    const h = host({ pcpus: 1, icountShift: 3 });
    const img = { kernel: SPIN };
    const a = h.createDomain(config('heavy', 'spin', 'cpu_weight = 512'), img);
    const b = h.createDomain(config('light', 'spin', 'cpu_weight = 256'), img);
    // Measure after a warm-up second: both start BOOSTed and the credit takes a while to settle.
    await until(() => a.cpuNs + b.cpuNs > 1e9);
    const [a0, b0] = [a.cpuNs, b.cpuNs];
    await until(() => a.cpuNs + b.cpuNs > 3e9);
    const ratio = (a.cpuNs - a0) / (b.cpuNs - b0);
    expect(ratio).toBeGreaterThan(2 * 0.95);
    expect(ratio).toBeLessThan(2 * 1.05);
  });

  it('a vCPU worker that fails crashes only its domain; on_crash runs and the others keep going', async () => {
    // A host whose first worker reports a failure after a moment, as a thrown exception in
    // the emulator would (VcpuHost's onError); the others are ordinary.
    const inner = nodeVcpuHost(ensureBundleSync());
    let first = true;
    hv = new Hypervisor({
      memoryMiB: 64,
      pcpus: 2,
      host: {
        start(boot, onError) {
          const w = inner.start(boot, onError);
          if (first) {
            first = false;
            setTimeout(() => onError(`vCPU 0 of domain ${boot.domid} crashed: injected failure`), 300);
          }
          return w;
        },
      },
    });
    hv.start();
    const victim = hv.createDomain(config('victim', 'spin', 'on_crash = "preserve"'), { kernel: SPIN });
    const other = hv.createDomain(config('other', 'spin'), { kernel: SPIN });
    await until(() => victim.shutdownReason !== null);
    expect(victim.state).toBe('crashed');
    expect(victim.shutdownDetail).toMatch(/injected failure/);
    expect(hv.domains.has(victim.domid)).toBe(true); // preserved for inspection
    const before = other.vcpus[0]!.instret;
    await until(() => other.vcpus[0]!.instret > before + 1_000_000);
    expect(other.shutdownReason).toBeNull();
    // on_crash = "destroy" (the default) removes the domain.
    const doomed = hv.createDomain(config('doomed', 'spin'), { kernel: SPIN });
    (hv as unknown as { vcpuCrashed(v: unknown, m: string): void }).vcpuCrashed(doomed.vcpus[0], 'injected');
    await until(() => !hv!.domains.has(doomed.domid));
  });
});
