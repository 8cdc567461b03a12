/**
 * The inspectors' data over a real hypervisor: two pv teaching-OS domains (real vCPU
 * workers) and what inspect.ts reports of their event channels, grants, xenstore nodes
 * and machine frames, checked against the hypervisor's own structures.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureBundleSync } from '../../node/testBundle';
import { guestImage } from '../../node/paths';
import { nodeVcpuHost } from '../../node/vcpuHost';
import type { Domain } from '../xen/common/domain';
import { Hypervisor } from '../xen/common/hypervisor';
import { inspectDomain, memoryMap } from './inspect';
import { Toolstack } from './toolstack';
import type { XsTreeNode } from './xenstore/store';
import * as X from '../xen/public/xen';
import { consoleText as out, waitForConsole as waitFor } from '../../testing/support';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

function setup(): { h: Hypervisor; a: Domain; b: Domain } {
  const h = new Hypervisor({ memoryMiB: 96, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
  hv = h;
  h.start();
  const ts = new Toolstack(h, { readFile: () => readFileSync(guestImage('teaching-os-pv')) });
  const cfg = (name: string, mem: number): string => `name = "${name}"\ntype = "pv"\nmemory = ${mem}\nmaxmem = 32\nkernel = "tos"\non_poweroff = "preserve"`;
  return { h, a: ts.create(cfg('alpha', 16)), b: ts.create(cfg('beta', 12)) };
}

function find(node: XsTreeNode | null, path: string): XsTreeNode | undefined {
  if (!node) return undefined;
  if (node.path === path) return node;
  for (const c of node.children) {
    const hit = find(c, path);
    if (hit) return hit;
  }
  return undefined;
}

describe('inspect', () => {
  it("lists a pv domain's console and xenstore channels as interdomain to Domain-0, and the timer VIRQ", async () => {
    const { h, a } = setup();
    await waitFor(a, 'alpha$ ');
    const info = inspectDomain(h, a.domid);
    const byPort = new Map(info.evtchn.map((e) => [e.port, e]));
    const con = byPort.get(a.pv!.consolePort)!;
    const xs = byPort.get(a.pv!.xenstorePort)!;
    expect([con.state, con.remoteDomid, con.role]).toEqual(['interdomain', 0, 'console']);
    expect([xs.state, xs.remoteDomid, xs.role]).toEqual(['interdomain', 0, 'xenstore']);
    expect(info.evtchn.some((e) => e.state === 'virq' && e.virqName === 'TIMER')).toBe(true);
    // Domain-0's ends point back at the same ports.
    const dom0 = inspectDomain(h, 0);
    const back = dom0.evtchn.find((e) => e.port === con.remotePort)!;
    expect([back.state, back.remoteDomid, back.remotePort, back.pending]).toEqual(['interdomain', a.domid, con.port, null]);
    expect(info.vcpuInfo).toHaveLength(1);
  });

  it("reads pending and mask bits from the domain's shared_info", async () => {
    const { h, a } = setup();
    await waitFor(a, 'alpha$ ');
    h.pauseDomain(a.domid);
    const port = a.pv!.xenstorePort;
    const maskWord = a.sharedInfo + X.SI_EVTCHN_MASK + 4 * (port >>> 5);
    const pendWord = a.sharedInfo + X.SI_EVTCHN_PENDING + 4 * (port >>> 5);
    const before = a.mem!.u32(maskWord);
    a.mem!.orU32(maskWord, 1 << port);
    a.mem!.orU32(pendWord, 1 << port);
    let e = inspectDomain(h, a.domid).evtchn.find((x) => x.port === port)!;
    expect([e.masked, e.pending]).toEqual([true, true]);
    a.mem!.andU32(maskWord, ~(1 << port));
    a.mem!.andU32(pendWord, ~(1 << port));
    e = inspectDomain(h, a.domid).evtchn.find((x) => x.port === port)!;
    expect([e.masked, e.pending]).toEqual([false, false]);
    a.mem!.setU32(maskWord, before);
  });

  it('shows a grant the guest made, who maps it, and the frame in the memory map', async () => {
    const { h, a, b } = setup();
    await waitFor(a, 'alpha$ ');
    await waitFor(b, 'beta$ ');
    h.consoleInput(a.domid, new TextEncoder().encode(`share ${b.domid}\n`));
    await waitFor(a, 'granted read-only');
    const ref = Number(/as ref (\d+)/.exec(out(a))![1]);
    const g = inspectDomain(h, a.domid).grants.find((x) => x.ref === ref)!;
    expect(g.domid).toBe(b.domid);
    expect(g.flagNames).toEqual(['permit_access', 'readonly']);
    expect(g.mappedBy).toEqual([]);
    const mfn = a.p2m.get(g.frame - a.ramBase / 4096) & 0x3fff_ffff;
    expect(memoryMap(h).granted).toContainEqual({ mfn, owner: a.domid, ref, to: b.domid });

    // Domain b maps it (as its peek would), into its grant window above maxmem.
    h.pauseDomain(b.domid);
    const hostAddr = b.ramBase + b.maxPages * 4096;
    const [st] = h.gnttab.map(b, hostAddr, X.GNTMAP_host_map | X.GNTMAP_readonly, ref, a.domid);
    expect(st).toBe(X.GNTST_okay);
    const mapped = inspectDomain(h, a.domid).grants.find((x) => x.ref === ref)!;
    expect(mapped.mappedBy).toEqual([b.domid]);
    expect(mapped.flagNames).toContain('reading');
    expect(inspectDomain(h, b.domid).mapped).toEqual([expect.objectContaining({ granter: a.domid, ref, mfn, readonly: true })]);
    expect(memoryMap(h).mapped).toEqual([{ mfn, owner: a.domid, by: b.domid }]);
  });

  it("gives the domain's xenstore subtree, and the whole store to Domain-0", async () => {
    const { h, a } = setup();
    await waitFor(a, 'alpha$ ');
    const tree = inspectDomain(h, a.domid).xenstore;
    expect(tree?.path).toBe(`/local/domain/${a.domid}`);
    expect(find(tree, `/local/domain/${a.domid}/name`)?.value).toBe('alpha');
    expect(find(inspectDomain(h, 0).xenstore, `/local/domain/${a.domid}/name`)?.value).toBe('alpha');
  });

  it('counts every machine frame once: per domain as much as it is accounted, the rest free', async () => {
    const { h, a, b } = setup();
    await waitFor(a, 'alpha$ ');
    let map = memoryMap(h);
    const frames = new Map(map.domains.map((d) => [d.domid, d.frames]));
    expect(frames.get(a.domid)).toBe(16 * 256);
    expect(frames.get(b.domid)).toBe(12 * 256);
    expect(map.domains.every((d) => d.frames === d.totPages)).toBe(true);
    expect(map.free + a.totPages + b.totPages).toBe(map.nrFrames);
    const specials = map.special.filter((s) => s.domid === a.domid);
    expect(specials.map((s) => s.what)).toEqual(expect.arrayContaining(['shared_info', 'console ring', 'xenstore ring']));
    for (const s of map.special) expect(map.owner[s.mfn]).toBe(s.domid);
    h.destroyDomain(b.domid);
    map = memoryMap(h);
    expect(map.domains.map((d) => d.domid)).toEqual([a.domid]);
    expect(Array.from(map.owner).filter((o) => o === b.domid)).toHaveLength(0);
  });
});
