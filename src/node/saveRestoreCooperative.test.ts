/**
 * Xen's cooperative suspend of pv guests, end to end on real vCPU workers (docs/migration.md
 * "Cooperative suspend"): before xl save and xl migrate stop a pv domain, the toolstack
 * writes control/shutdown = "suspend"; the teaching OS acknowledges and calls
 * SCHEDOP_shutdown(SHUTDOWN_suspend), which returns 0 in the restored domain (it reconnects
 * its console, xenstore, disk and network and sends a gratuitous ARP) and 1 in the domain
 * resumed in place (xl save -c, a migration the target refused). A guest that does not
 * answer (busy in `burn`, whose shell loop is what reads xenstore) is paused without its
 * knowledge after SUSPEND_ACK_TIMEOUT_MS, with one line, and saves and restores as before.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Domain } from '../core/xen/common/domain';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { Toolstack } from '../core/tools/toolstack';
import { runXl, type XlIo } from '../core/tools/xl';
import { SUSPEND_ACK_TIMEOUT_MS } from '../core/tools/migration/guestSuspend';
import { openImageFile } from './blockFile';
import { ensureBundleSync } from './testBundle';
import { guestImage } from './paths';
import { nodeVcpuHost } from './vcpuHost';
import { typeOn } from './diskTestSupport';
import { consoleText, typeInto, waitForConsole } from '../testing/support';

let hv: Hypervisor | undefined;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hyperlab-coop-'));
  lines.length = 0;
});
afterEach(() => {
  hv?.shutdownHost();
  hv = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const files = new Map<string, Uint8Array>();
const lines: string[] = [];
const io: XlIo = {
  out: (t) => lines.push(t),
  readFile: (p) => new TextDecoder().decode(files.get(p)),
  readBytes: (p) => {
    const b = files.get(p);
    if (!b) throw new Error(`${p}: no such file`);
    return b;
  },
  writeBytes: (p, b) => files.set(p, b),
};

function setup(): { h: Hypervisor; ts: Toolstack } {
  const h = new Hypervisor({ memoryMiB: 96, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
  hv = h;
  h.start();
  const ts = new Toolstack(h, {
    readFile: (p) => readFileSync(guestImage(p)),
    openDisk: (spec) => openImageFile(spec.target, { format: spec.format, readOnly: spec.access === 'ro' }),
  });
  return { h, ts };
}

async function xl(ts: Toolstack, ...argv: string[]): Promise<number> {
  try {
    const r = runXl(ts, argv, io);
    return r.pending ? await r.pending : r.status;
  } catch (e) {
    lines.push(`xl: ${(e as Error).message}`);
    return 1;
  }
}

const byName = (h: Hypervisor, name: string): Domain => {
  const d = [...h.domains.values()].find((x) => x.name === name);
  if (!d) throw new Error(`no domain ${name}`);
  return d;
};

const run = (h: Hypervisor, d: Domain, line: string, expect: RegExp | string, ms = 60_000): Promise<string> => typeOn(h, d, /[a-z0-9]+\$ $/, line, expect, ms);

const COOPERATIVE = /the guest acknowledged the suspend request and suspended itself in \d+ ms \(cooperative\)/;

describe('cooperative suspend of pv guests (SHUTDOWN_suspend)', () => {
  it('xl save: the guest suspends itself; the restored domain returns 0, reconnects disk and network, reads its disk and answers a ping', async () => {
    const { h, ts } = setup();
    const img = join(dir, 'disk.raw');
    writeFileSync(img, new Uint8Array(1 << 20));
    const ip = '10.0.0.91';
    const a = ts.create(
      `name = "coop"\ntype = "pv"\nmemory = 16\nkernel = "teaching-os-pv"\ndisk = [ '${img},raw,xvda,rw' ]\nvif = [ 'mac=00:16:3e:00:09:01,ip=${ip}' ]`,
    );
    await waitForConsole(a, 'connected to domain 0', { lf: true, ms: 60_000 });
    await waitForConsole(a, /net: eth0 .*connected to domain 0/, { ms: 60_000 });
    await waitForConsole(a, /[a-z0-9]+\$ $/, { ms: 60_000 });
    expect(await run(h, a, `ifconfig ${ip}/24`, 'eth0:')).toContain(`inet ${ip}`);
    expect(await run(h, a, 'disk write 10 before the suspend', 'disk: wrote')).toContain('at sector 10');

    const from = consoleText(a).length;
    expect(await xl(ts, 'save', 'coop', 'coop.save')).toBe(0);
    expect(lines.some((l) => COOPERATIVE.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^Saved domain \d+ \(coop\) to coop.save/);
    expect(consoleText(a).slice(from)).toContain('control: the toolstack asked for suspend');
    expect(h.log.some((l) => /suspended \(SCHEDOP_shutdown\(SHUTDOWN_suspend\) from vCPU 0\)/.test(l))).toBe(true);

    expect(await xl(ts, 'restore', 'coop.save')).toBe(0);
    const b = byName(h, 'coop');
    await waitForConsole(b, 'control: resumed in a new domain', { ms: 60_000 });
    await waitForConsole(b, /control: xenstore reconnected: \d+ watch(es)? registered again, \d+ kept by the restore/, { ms: 60_000 });
    await waitForConsole(b, /control: disk xvda reconnected: ring-ref \d+ \(was \d+\), event channel \d+, 0 requests in flight/, { ms: 60_000 });
    await waitForConsole(b, /control: net eth0 reconnected/, { ms: 60_000 });
    await waitForConsole(b, `net: gratuitous ARP for ${ip} sent`, { ms: 60_000 });
    const text = consoleText(b);
    expect(text).not.toContain('suspend cancelled');
    expect(text).toMatch(/control: event channels: timer VIRQ port \d+ \(kept\), console port 1 \(interdomain\), xenstore port 2 \(interdomain\)/);

    expect(await run(h, b, 'disk read 10', '|')).toContain('|before the suspe|');
    expect(await run(h, b, 'disk write 11 after the resume', 'disk: wrote')).toContain('at sector 11');
    expect(await run(h, b, 'disk read 11', '|after')).toContain('|after the resume');
    lines.length = 0;
    expect(await xl(ts, 'ping', '-c', '2', '-i', '0.2', ip)).toBe(0);
    expect(lines.join('\n')).toContain('2 packets transmitted, 2 received, 0% packet loss');
    expect(await xl(ts, 'destroy', 'coop')).toBe(0);
    expect(Buffer.from(readFileSync(img).subarray(11 * 512, 11 * 512 + 16)).toString()).toBe('after the resume');
  }, 180_000);

  it('xl save -c: the original is resumed in place, its call returns 1 ("suspend cancelled") and it answers', async () => {
    const { h, ts } = setup();
    const a = ts.create(`name = "ckpt"\ntype = "pv"\nmemory = 16\nkernel = "teaching-os-pv"`);
    await waitForConsole(a, /[a-z0-9]+\$ $/, { ms: 60_000 });
    const from = consoleText(a).length;
    expect(await xl(ts, 'save', '-c', 'ckpt', 'ckpt.save')).toBe(0);
    expect(lines.some((l) => COOPERATIVE.test(l))).toBe(true);
    await waitForConsole(a, 'control: suspend cancelled (checkpoint): carrying on', { from, ms: 60_000 });
    expect(consoleText(a).slice(from)).not.toContain('resumed in a new domain');
    expect(h.log.some((l) => /resumed in place \(the suspend returns 1\)/.test(l))).toBe(true);
    expect(a.suspended).toBe(false);
    expect(await run(h, a, 'uptime', /timing: up/)).toMatch(/timing: up/);
    // The checkpoint itself restores as a new domain (under another name beside the original), where the call returned 0.
    files.set('copy.cfg', new TextEncoder().encode(`name = "ckpt2"\ntype = "pv"\nmemory = 16\nkernel = "teaching-os-pv"`));
    expect(await xl(ts, 'restore', 'copy.cfg', 'ckpt.save')).toBe(0);
    const c = byName(h, 'ckpt2');
    await waitForConsole(c, 'control: resumed in a new domain', { ms: 60_000 });
    await waitForConsole(c, 'control: now domain', { ms: 60_000 });
    expect(await run(h, c, 'uptime', /timing: up/)).toMatch(/timing: up/);
  }, 120_000);

  it('xl migrate localhost: cooperative; the incoming copy returns 0 and answers', async () => {
    const { h, ts } = setup();
    const a = ts.create(`name = "mover"\ntype = "pv"\nmemory = 16\nkernel = "teaching-os-pv"`);
    await waitForConsole(a, /[a-z0-9]+\$ $/, { ms: 60_000 });
    expect(await xl(ts, 'migrate', 'mover', 'localhost')).toBe(0);
    expect(lines.some((l) => COOPERATIVE.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^Migrated domain \d+ \(mover\) to localhost/);
    const m = byName(h, 'mover');
    expect(m).not.toBe(a);
    await waitForConsole(m, 'control: resumed in a new domain', { ms: 60_000 });
    await waitForConsole(m, `control: now domain ${m.domid}`, { ms: 60_000 });
    expect(await run(h, m, 'uptime', /timing: up/)).toMatch(/timing: up/);
  }, 120_000);

  it('a guest that does not answer (busy in burn) is paused after the bound, with one line, and goes on after the restore', async () => {
    const { h, ts } = setup();
    const a = ts.create(`name = "busy"\ntype = "pv"\nmemory = 16\nkernel = "teaching-os-pv"`);
    await waitForConsole(a, /[a-z0-9]+\$ $/, { ms: 60_000 });
    const echoAt = consoleText(a).length;
    typeInto(h, a, 'burn 1500\n'); // some seconds: still running when the bound runs out
    await waitForConsole(a, 'burn 1500', { from: echoAt });
    const t0 = performance.now();
    expect(await xl(ts, 'save', 'busy', 'busy.save')).toBe(0);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(SUSPEND_ACK_TIMEOUT_MS);
    const fallback = lines.filter((l) => l.includes('non-cooperative'));
    expect(fallback).toEqual([
      `domain ${a.domid} (busy): guest did not acknowledge the suspend request within ${SUSPEND_ACK_TIMEOUT_MS} ms: pausing it (non-cooperative)`,
    ]);
    expect(consoleText(a)).not.toContain('asked for suspend');
    expect(await xl(ts, 'restore', 'busy.save')).toBe(0);
    const b = byName(h, 'busy');
    // The request was withdrawn (control/shutdown = ""): the restored guest finishes its burn and does not suspend.
    expect(await h.xsDom0().read(`/local/domain/${b.domid}/control/shutdown`)).toBe('');
    await waitForConsole(b, /burn: 1500 million iterations/, { ms: 120_000 });
    expect(await run(h, b, 'uptime', /timing: up/)).toMatch(/timing: up/);
    expect(consoleText(b)).not.toContain('control: ');
  }, 180_000);
});
