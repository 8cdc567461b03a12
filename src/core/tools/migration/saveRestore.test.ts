/**
 * xl save / xl restore of running teaching-OS domains (pv and hvm) on real vCPU workers:
 * the guest is stopped mid-computation and goes on in the restored domain where it was
 * (the computation's result appears on the new domain's console), its xenstore home,
 * watches and event channels still work, `-c` leaves the original running, and a damaged
 * file is refused with one line and builds nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Hypervisor } from '../../xen/common/hypervisor';
import { Runstate, type Domain } from '../../xen/common/domain';
import { Toolstack } from '../toolstack';
import { runXl, type XlIo } from '../xl';
import { ensureBundleSync } from '../../../node/testBundle';
import { guestImage, projectRoot } from '../../../node/paths';
import { INIT_PROMPT } from '../../../../guests/linux/session';
import { nodeVcpuHost } from '../../../node/vcpuHost';
import { consoleText, typeInto, until, waitForConsole } from '../../../testing/support';
import { readSaveFile, writeSaveFile } from './saveFile';
import { restoreDomain } from './restore';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());
// HYPERLAB_SAVE_LOG=1 prints xl's messages (sizes and times of the saves and restores).
afterEach(() => void (process.env.HYPERLAB_SAVE_LOG && console.log([...lines.splice(0), ...(hv?.log.filter((l) => l.includes('save')) ?? [])].join('\n'))));

const files = new Map<string, Uint8Array>();
const lines: string[] = [];
const io: XlIo = {
  out: (t) => lines.push(t),
  readFile: (p) => new TextDecoder().decode(files.get(p)),
  readBytes: (p) => files.get(p) ?? new Uint8Array(0),
  writeBytes: (p, b) => files.set(p, b),
};

function setup(): { hv: Hypervisor; ts: Toolstack } {
  hv = new Hypervisor({ memoryMiB: 96, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
  hv.start();
  const ts = new Toolstack(hv, { readFile: (p) => readFileSync(guestImage(p)) });
  return { hv, ts };
}

/** An xl command as the host runs it: a failure is one line, `xl: ...`, and status 1. */
async function xl(ts: Toolstack, ...argv: string[]): Promise<number> {
  try {
    const r = runXl(ts, argv, io);
    return r.pending ? await r.pending : r.status;
  } catch (e) {
    lines.push(`xl: ${(e as Error).message}`);
    return 1;
  }
}

function only(h: Hypervisor): Domain {
  expect(h.domains.size).toBe(1);
  return [...h.domains.values()][0]!;
}

const cfg = (type: 'pv' | 'hvm', name: string): string =>
  `name = "${name}"\ntype = "${type}"\nmemory = 16\nmaxmem = 16\nkernel = "teaching-os-${type}"\non_poweroff = "preserve"`;

describe('xl save and xl restore', () => {
  for (const type of ['hvm', 'pv'] as const) {
    it(`a ${type} teaching OS saved mid-computation goes on in the restored domain`, async () => {
      const { hv: h, ts } = setup();
      const a = ts.create(cfg(type, 'tos'));
      await waitForConsole(a, 'tos$ ');
      if (type === 'pv') {
        typeInto(h, a, 'xs write data/before-save kept\n');
        await waitForConsole(a, 'tos$ ', { from: consoleText(a).length - 1 });
        typeInto(h, a, 'xs watch data/w\n');
        await new Promise((r) => setTimeout(r, 100));
      }
      // Long enough to be still running at the pause with the translation tier on (about 300 million/s), after the cooperative suspend's 500 ms wait.
      const echoAt = consoleText(a).length;
      typeInto(h, a, 'burn 1000\n');
      await waitForConsole(a, 'burn 1000', { from: echoAt });
      await new Promise((r) => setTimeout(r, 20));
      expect(consoleText(a)).not.toContain('burn: 1000 million');
      const free0 = h.memory.nrFree;
      expect(await xl(ts, 'save', 'tos', 'tos.save')).toBe(0);
      expect(lines.at(-1)).toMatch(/^Saved domain \d+ \(tos\) to tos.save: \d+ bytes/);
      expect(h.domains.size).toBe(0); // xl save destroys it
      const bytes = files.get('tos.save')!;
      // The file is readable by the stream parser alone.
      const parsed = readSaveFile(bytes, { maxPfn: 4096, maxVcpus: 1 });
      expect(parsed.libxc.kind).toBe(type);
      expect(parsed.libxc.pages.size).toBe(4096);
      const nonZero = [...parsed.libxc.pages.values()].filter((p) => p !== 'zero').length;
      expect(bytes.length).toBeLessThan(nonZero * 4096 * 1.1 + 65536);

      expect(await xl(ts, 'restore', 'tos.save')).toBe(0);
      const b = only(h);
      expect(b.domid).not.toBe(a.domid);
      expect(h.memory.nrFree).toBe(free0); // as many frames as the saved domain had
      // The computation that was under way finishes on the restored domain, with its result.
      await waitForConsole(b, /burn: 1000 million iterations of xorshift32, result 0x[0-9a-f]{8}/, { ms: 60_000 });
      await waitForConsole(b, 'tos$ ');
      typeInto(h, b, 'uptime\n');
      await waitForConsole(b, /timing: up \d+\.\d s/);
      if (type === 'pv') {
        // xenstore: the home moved to the new id, with what the guest wrote before the save.
        expect(await h.xsDom0().read(`/local/domain/${b.domid}/data/before-save`)).toBe('kept');
        expect(await h.xsDom0().read(`/local/domain/${b.domid}/domid`)).toBe(String(b.domid));
        const from = consoleText(b).length;
        typeInto(h, b, 'xs read data/before-save\n');
        await waitForConsole(b, 'kept', { from });
        // The watch set before the save fires after it (xenstored re-registered it, the event channel carries it).
        await h.xsDom0().write(`/local/domain/${b.domid}/data/w`, 'x');
        await waitForConsole(b, /xs: watch fired: .*data\/w/, { from });
      }
    }, 90_000);
  }

  it('an SMP pv domain saved while its two vCPUs count together finishes the count exactly after the restore', async () => {
    const { hv: h, ts } = setup();
    const a = ts.create(cfg('pv', 'duo').replace('memory = 16', 'memory = 16\nvcpus = 2'));
    await waitForConsole(a, 'duo$ ');
    const n = 3_000_000;
    typeInto(h, a, `smp ${n}\n`);
    await until(() => a.vcpus[1]!.runstate !== Runstate.OFFLINE, 10_000, 'vCPU 1 up');
    await new Promise((r) => setTimeout(r, 50));
    expect(await xl(ts, 'save', 'duo', 'duo.save')).toBe(0);
    expect(consoleText(a)).not.toContain('counted at once'); // stopped in the middle of the count
    expect(readSaveFile(files.get('duo.save')!, { maxPfn: 4096, maxVcpus: 2 }).libxc.timers!.map((t) => t.online)).toEqual([true, true]);
    expect(await xl(ts, 'restore', 'duo.save')).toBe(0);
    const b = only(h);
    const m = await waitForConsole(b, /smp: (\d+) vCPUs counted at once: amoadd.w (\d+), lr.w\/sc.w (\d+)[^\n]*: (ok|LOST UPDATES)/, { ms: 60_000 });
    expect(m.slice(1)).toEqual(['2', String(2 * n), String(2 * n), 'ok']);
  }, 90_000);

  it('Linux 6.1 (Sv32 MMU, S-mode on the SBI firmware, 2 vCPUs) saved at its prompt answers commands after the restore', async () => {
    hv = new Hypervisor({ memoryMiB: 320, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
    hv.start();
    const h = hv;
    const ts = new Toolstack(h, { readFile: (p) => readFileSync(join(projectRoot(), p)) });
    const a = ts.create(readFileSync(join(projectRoot(), 'examples/linux-sbi.cfg'), 'utf8') + '\nvcpus = 2\n');
    await waitForConsole(a, INIT_PROMPT, { ms: 120_000 });
    typeInto(h, a, 'echo before > /tmp/f\n');
    await waitForConsole(a, INIT_PROMPT, { from: consoleText(a).length });
    expect(await xl(ts, 'save', 'linux-sbi', 'linux.save')).toBe(0);
    expect(await xl(ts, 'restore', 'linux.save')).toBe(0);
    const b = only(h);
    typeInto(h, b, 'cat /tmp/f; echo hello after restore\n');
    await waitForConsole(b, 'before\r\nhello after restore\r\n', { ms: 30_000 });
    typeInto(h, b, 'cat /proc/uptime\n');
    await waitForConsole(b, /\d+\.\d+ \d+\.\d+/, { ms: 30_000 });
    expect(consoleText(b)).not.toContain('rcu'); // no stall: both CPUs' timers and IPIs came back
  }, 180_000);

  // Linux 6.12 without an MMU (M-mode, examples/linux-nommu.cfg; about 6 s here).
  it('Linux 6.12 nommu saved at its prompt answers commands after the restore', async () => {
    hv = new Hypervisor({ memoryMiB: 200, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
    hv.start();
    const h = hv;
    const ts = new Toolstack(h, { readFile: (p) => readFileSync(join(projectRoot(), p)) });
    const a = ts.create(readFileSync(join(projectRoot(), 'examples/linux-nommu.cfg'), 'utf8'));
    await waitForConsole(a, INIT_PROMPT, { ms: 180_000 });
    typeInto(h, a, 'echo before > /tmp/f\n');
    await waitForConsole(a, INIT_PROMPT, { from: consoleText(a).length });
    expect(await xl(ts, 'save', 'linux-nommu', 'nommu.save')).toBe(0);
    await new Promise((r) => setTimeout(r, 1000)); // away for a second: its clock must not jump
    expect(await xl(ts, 'restore', 'nommu.save')).toBe(0);
    const b = only(h);
    typeInto(h, b, 'cat /tmp/f; echo hello after restore\n');
    await waitForConsole(b, 'before\r\nhello after restore\r\n', { ms: 60_000 });
    typeInto(h, b, 'cat /proc/uptime\n');
    await waitForConsole(b, /\d+\.\d+ \d+\.\d+/, { ms: 30_000 });
    expect(consoleText(b)).not.toMatch(/rcu|watchdog|BUG/);
  }, 300_000);

  it('xl save -p leaves the domain paused, -c running; the copy restores beside it under another name', async () => {
    const { hv: h, ts } = setup();
    const a = ts.create(cfg('hvm', 'orig'));
    await waitForConsole(a, 'tos$ '); // an hvm guest does not know its name
    expect(await xl(ts, 'save', '-p', 'orig', 'paused-snap')).toBe(0);
    expect(h.domains.get(a.domid)).toBe(a); // -p: left paused, not destroyed
    expect(a.paused).toBe(true);
    runXl(ts, ['unpause', 'orig'], io);
    expect(await xl(ts, 'save', '-c', 'orig', 'snap')).toBe(0);
    expect(h.domains.get(a.domid)).toBe(a);
    expect(a.paused).toBe(false);
    expect(await xl(ts, 'save', 'orig', 'snap', 'extra')).toBe(1);
    expect(lines.at(-1)).toBe('xl: usage: xl save [-c] [-p] [--copy-storage] DOM FILE');
    const from = consoleText(a).length;
    typeInto(h, a, 'uptime\n');
    await waitForConsole(a, /timing: up/, { from });
    // The same name twice is refused (as xl does); a config that renames it is taken.
    expect(await xl(ts, 'restore', 'snap')).toBe(1);
    expect(lines.at(-1)).toMatch(/^xl: restore from snap failed: a domain named "orig" exists already$/);
    expect(h.domains.size).toBe(1);
    files.set('copy.cfg', new TextEncoder().encode(cfg('hvm', 'copy')));
    expect(await xl(ts, 'restore', '-p', 'copy.cfg', 'snap')).toBe(0);
    const copy = [...h.domains.values()].find((d) => d.name === 'copy')!;
    expect(copy.paused).toBe(true);
    runXl(ts, ['unpause', 'copy'], io);
    typeInto(h, copy, 'uptime\n');
    await waitForConsole(copy, /timing: up/);
  }, 60_000);

  it('a damaged or truncated file is refused with one line and builds nothing; the host runs its other domains on', async () => {
    const { hv: h, ts } = setup();
    const bystander = ts.create(cfg('hvm', 'bystander'));
    const a = ts.create(cfg('pv', 'victim'));
    await waitForConsole(a, 'victim$ ');
    expect(await xl(ts, 'save', '-c', 'victim', 'v.save')).toBe(0);
    const good = files.get('v.save')!;
    runXl(ts, ['destroy', 'victim'], io);
    const free = h.memory.nrFree;
    let refused = 0;
    // Every 997th byte flipped (all of the headers and a sample of the rest), and truncations.
    const positions = [...Array.from({ length: 256 }, (_, i) => i), ...Array.from({ length: Math.floor(good.length / 997) }, (_, i) => 256 + i * 997)];
    const bad: Uint8Array[] = positions.map((p) => {
      const b = good.slice();
      b[p] = b[p]! ^ 0x5a;
      return b;
    });
    for (const n of [0, 10, 48, 100, good.length >> 1, good.length - 8, good.length - 1]) bad.push(good.slice(0, n));
    for (const b of bad) {
      await expect(restoreDomain(h, b)).rejects.toThrow(/./);
      try {
        await restoreDomain(h, b);
      } catch (e) {
        expect((e as Error).message).not.toContain('\n');
        refused++;
      }
      expect([...h.domains.values()]).toEqual([bystander]);
      expect(h.memory.nrFree).toBe(free);
    }
    expect(refused).toBe(bad.length);
    // The bystander ran through all of it and answers.
    const from = consoleText(bystander).length;
    typeInto(h, bystander, 'uptime\n');
    await waitForConsole(bystander, /timing: up/, { from });
    expect(bystander.shutdownReason).toBeFalsy();
    // A host without the memory refuses before it builds anything.
    const small = new Hypervisor({ memoryMiB: 8, pcpus: 1, host: nodeVcpuHost(ensureBundleSync()) });
    await expect(restoreDomain(small, good)).rejects.toThrow(/^not enough free memory: 4096 frames to restore, 2048 free$/);
    expect(small.domains.size).toBe(0);
    expect(small.memory.nrFree).toBe(2048);
    // Version tolerance: the same domain with an optional record from a "future version" in
    // the libxl layer (written again around it, so the checksums are right) restores; the
    // record is skipped.
    const r = readSaveFile(good, { maxPfn: 4096, maxVcpus: 1 });
    const future = writeSaveFile({ config: r.header.config, libxc: r.libxc, extra: [{ type: 0xc859_7777, body: Uint8Array.of(1, 2, 3, 4, 5) }] });
    expect(readSaveFile(future, { maxPfn: 4096, maxVcpus: 1 }).skipped.map((x) => x.type)).toEqual([0xc859_7777]);
    const f = await restoreDomain(h, future);
    typeInto(h, f, 'info\n');
    await waitForConsole(f, /domain: \d+ \(victim\)/);
    runXl(ts, ['destroy', 'victim'], io);
    // The good file still restores.
    const d = await restoreDomain(h, good);
    typeInto(h, d, 'info\n');
    await waitForConsole(d, /domain: \d+ \(victim\)/);
  }, 90_000);
});
