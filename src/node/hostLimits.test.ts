/**
 * A guest or a config must not take the host down (issue 10, items 6, 7, 9-12): unknown
 * hypercalls keep no state, a failed restart leaves the other domains running, domain ids
 * are reused below the reserved ones, a create that fails leaves nothing behind, and
 * endless, huge or wrong images are refused before they are read or run. The vCPU host
 * here starts nothing: these are the hypervisor's and the toolstack's own paths.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Runstate } from '../core/xen/common/domain';
import { hypercall } from '../core/xen/common/hypercalls';
import { DOMID_FIRST_RESERVED, Hypervisor, MAX_LOG_LINES, type VcpuHost } from '../core/xen/common/hypervisor';
import { MAX_VCPU_SLOTS } from '../core/xen/common/evtchnDirect';
import * as X from '../core/xen/public/xen';
import { Toolstack } from '../core/tools/toolstack';
import { parseXlConfig } from '../core/tools/xlConfig';
import { guestImage } from './paths';
import { readFileOrThrow } from './run';

const idleHost: VcpuHost = { start: () => ({ terminate: () => {} }) };
let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

const pvKernel = readFileSync(guestImage('teaching-os-pv'));
const cfg = (name: string, extra = ''): ReturnType<typeof parseXlConfig> =>
  parseXlConfig(`name = "${name}"\ntype = "pv"\nmemory = 4\nkernel = "k"\non_poweroff = "preserve"\n${extra}`);

function newHv(memoryMiB = 64): Hypervisor {
  hv = new Hypervisor({ memoryMiB, pcpus: 1, host: idleHost });
  return hv;
}

describe('the host survives what a guest or a config does', () => {
  it('unknown hypercall numbers share one exit counter; the log keeps its last lines (item 6)', () => {
    const h = newHv();
    const d = h.createDomain(cfg('a'), { kernel: pvKernel });
    const keys = d.exits.size;
    for (let nr = 1000; nr < 3000; nr++) expect(hypercall(h, d.vcpus[0]!, nr, [0, 0, 0, 0, 0]).ret).toBe(-X.ENOSYS);
    expect(d.exits.size).toBe(keys + 1);
    expect(d.exits.get('hypercall:unknown')).toBe(2000);
    for (let i = 0; i < 5 * MAX_LOG_LINES; i++) h.dmesg(`line ${i}`);
    expect(h.log.length).toBeLessThanOrEqual(2 * MAX_LOG_LINES);
    expect(h.log.at(-1)).toBe(`line ${5 * MAX_LOG_LINES - 1}`);
  });

  it('a restart whose kernel is gone leaves the domain shut down with the reason, and the host running (item 7)', async () => {
    const h = newHv();
    let kernelThere = true;
    const ts = new Toolstack(h, {
      readFile: (p) => {
        if (!kernelThere) throw new Error(`cannot read image '${p}': no such file`);
        return pvKernel;
      },
    });
    const other = ts.createFrom(cfg('other'));
    const d = ts.createFrom(cfg('rebooter', 'on_reboot = "restart"'));
    kernelThere = false;
    h.guestShutdown(d, 'reboot', 'test');
    await new Promise((r) => setTimeout(r, 20));
    expect(h.domains.get(d.domid)).toBe(d);
    expect(d.state).toBe('shutdown');
    expect(d.shutdownDetail).toMatch(/restart failed: cannot read image 'k': no such file/);
    expect(h.log.some((l) => /rebooter.*restart failed/.test(l))).toBe(true);
    expect(h.domains.has(other.domid)).toBe(true);
    // With the kernel back, a restart builds the domain again under a new id.
    kernelThere = true;
    const e = ts.createFrom(cfg('rebooter2', 'on_reboot = "restart"'));
    h.guestShutdown(e, 'reboot', 'test');
    await new Promise((r) => setTimeout(r, 20));
    expect(h.domains.has(e.domid)).toBe(false);
    expect([...h.domains.values()].some((x) => x.name === 'rebooter2')).toBe(true);
  });

  it('domain ids go round below DOMID_FIRST_RESERVED and skip the ones in use (item 9)', () => {
    const h = newHv();
    const first = h.createDomain(cfg('first'), { kernel: pvKernel });
    (h as unknown as { nextDomid: number }).nextDomid = DOMID_FIRST_RESERVED - 2;
    const ids = ['a', 'b', 'c', 'd'].map((n) => h.createDomain(cfg(n), { kernel: pvKernel }).domid);
    expect(ids).toEqual([DOMID_FIRST_RESERVED - 2, DOMID_FIRST_RESERVED - 1, first.domid + 1, first.domid + 2]);
    h.destroyDomain(ids[0]!);
    (h as unknown as { nextDomid: number }).nextDomid = DOMID_FIRST_RESERVED - 2;
    expect(h.createDomain(cfg('e'), { kernel: pvKernel }).domid).toBe(DOMID_FIRST_RESERVED - 2);
  });

  it('a create past the host vCPU limit fails before anything is built (item 10)', () => {
    const h = newHv(256);
    const per = 8;
    for (let i = 0; i < MAX_VCPU_SLOTS / per; i++) h.createDomain(cfg(`d${i}`, `vcpus = ${per}`), { kernel: pvKernel });
    const n = h.domains.size,
      free = h.memory.nrFree;
    expect(() => h.createDomain(cfg('one-too-many'), { kernel: pvKernel })).toThrow(/too many vCPUs on this host: 1 asked, 0 of 256 free/);
    expect(h.domains.size).toBe(n);
    expect(h.memory.nrFree).toBe(free);
    expect([...h.domains.values()].some((d) => d.name === 'one-too-many')).toBe(false);
  });

  it('a create that fails half way leaves nothing behind (item 10)', () => {
    const h = newHv();
    let starts = 0;
    const failing: VcpuHost = {
      start: () => {
        if (++starts === 2) throw new Error('worker failed to start');
        return { terminate: () => {} };
      },
    };
    (h as unknown as { host: VcpuHost }).host = failing;
    const free = h.memory.nrFree;
    expect(() => h.createDomain(cfg('half', 'vcpus = 2'), { kernel: pvKernel })).toThrow(/worker failed to start/);
    expect(h.domains.size).toBe(0);
    expect(h.memory.nrFree).toBe(free);
    expect(h.memory.countOwned(1)).toBe(0);
    // and the host goes on creating domains
    (h as unknown as { host: VcpuHost }).host = idleHost;
    expect(h.createDomain(cfg('whole'), { kernel: pvKernel }).vcpus[0]!.runstate).not.toBe(Runstate.OFFLINE);
  });

  it('refuses a kernel that is not a regular file, or larger than the domain, before reading it (item 11)', () => {
    expect(() => readFileOrThrow('/dev/zero', 'image')).toThrow(/cannot read image '\/dev\/zero': not a regular file/);
    const dir = mkdtempSync(join(tmpdir(), 'hyperlab-'));
    try {
      const big = join(dir, 'big.elf');
      writeFileSync(big, new Uint8Array(5 << 20));
      expect(() => readFileOrThrow(big, 'image', 4 << 20)).toThrow(/image '.*big.elf' is too large: 5242880 bytes, at most 4194304/);
      const h = newHv();
      const ts = new Toolstack(h, { readFile: (p, max) => readFileOrThrow(p, 'image', max) });
      expect(() => ts.create(`name = "big"\nmemory = 4\nkernel = "${big}"`)).toThrow(/too large/);
      expect(h.domains.size).toBe(0);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('refuses a pv kernel that is not ELF (item 12)', () => {
    const h = newHv();
    const free = h.memory.nrFree;
    for (const bytes of [Uint8Array.of(0x4d, 0x5a, 0x90, 0), Uint8Array.of(0x1f, 0x8b, 8, 0), new Uint8Array(4096).fill(0x13)]) {
      const ts = new Toolstack(h, { readFile: () => bytes });
      expect(() => ts.create('name = "x"\ntype = "pv"\nmemory = 4\nkernel = "k"')).toThrow(/kernel 'k' is not an ELF file .*a pv kernel must be ELF/);
      expect(() => h.createDomain(cfg('y'), { kernel: bytes })).toThrow(/a pv kernel must be an ELF file/);
    }
    expect(h.domains.size).toBe(0);
    expect(h.memory.nrFree).toBe(free);
  });
});
