/**
 * Helpers for tests that boot real domains under the hypervisor with vCPU workers, and
 * for the hostile-guest tests (src/node/isolation/): the hostile pv guest
 * (guests/hostile/, public/guests/hostile.elf) runs one command per line typed on its
 * console and answers each with one line "= ok NAME key=value..." (or "= fault ..." when
 * the command faulted, "= error ..." when it was not understood). The helpers any test
 * may use (until, sleep, console text, li) are in src/testing/support.ts.
 */
import { readFileSync } from 'node:fs';
import type { Domain } from '../core/xen/common/domain';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { parseXlConfig } from '../core/tools/xlConfig';
import { guestImage } from './paths';
import { ensureBundleSync } from './testBundle';
import { nodeVcpuHost } from './vcpuHost';
import { sleep } from '../testing/support';

export { sleep };

/** A started hypervisor on real vCPU workers. */
export function bootHypervisor(memoryMiB = 64, pcpus = 2): Hypervisor {
  const hv = new Hypervisor({ memoryMiB, pcpus, host: nodeVcpuHost(ensureBundleSync()) });
  hv.start();
  return hv;
}

/** Console output of every domain since it was created, gathered from the console events. */
export class Consoles {
  private readonly text = new Map<number, string>();
  constructor(hv: Hypervisor) {
    hv.on('console', (domid, bytes) => this.text.set(domid, (this.text.get(domid) ?? '') + String.fromCharCode(...bytes)));
  }

  of(domid: number): string {
    return this.text.get(domid) ?? '';
  }

  /** Wait until the output after `from` matches; returns the match and where it ends. */
  async waitFor(domid: number, re: RegExp, from = 0, ms = 30_000): Promise<{ m: RegExpExecArray; end: number }> {
    const until = Date.now() + ms;
    for (;;) {
      const out = this.of(domid);
      const m = re.exec(out.slice(from));
      if (m) return { m, end: from + m.index + m[0].length };
      if (Date.now() > until) throw new Error(`domain ${domid}: timed out waiting for ${String(re)}; output:\n${out.slice(-2000)}`);
      await sleep(5);
    }
  }
}

export interface HostileOptions {
  memory?: number;
  maxmem?: number;
  vcpus?: number;
  onPoweroff?: string;
  onCrash?: string;
}

/**
 * One answer of the hostile guest: `result` (ok, fault or error), the whole line, and its
 * key=value fields (numbers where they are numbers; `status` is a GNTST_* value).
 */
export interface Answer {
  result: 'ok' | 'fault' | 'error';
  line: string;
  [key: string]: string | number;
}

/** A domain running guests/hostile, driven through its console. */
export class HostileGuest {
  private cursor = 0;
  constructor(
    readonly hv: Hypervisor,
    readonly consoles: Consoles,
    readonly d: Domain,
  ) {}

  get domid(): number {
    return this.d.domid;
  }

  /** Guest frame number (the ABI's: address >> 12) of RAM page `i`. */
  gfn(i: number): number {
    return this.d.ramBase / 4096 + i;
  }

  async ready(): Promise<void> {
    const r = await this.consoles.waitFor(this.domid, /^> $/m, this.cursor);
    this.cursor = r.end;
  }

  /** Type one command; resolve with its answer line (and the prompt after it). */
  async cmd(line: string, ms = 30_000): Promise<Answer> {
    const from = this.cursor;
    this.hv.consoleInput(this.domid, new TextEncoder().encode(`${line}\n`));
    const r = await this.consoles.waitFor(this.domid, /^= (ok|fault|error)\b(.*)$/m, from, ms);
    this.cursor = r.end;
    const a: Answer = { result: r.m[1] as Answer['result'], line: r.m[0] };
    for (const kv of r.m[2]!.trim().split(/\s+/)) {
      const i = kv.indexOf('=');
      if (i < 0) continue;
      const v = kv.slice(i + 1);
      a[kv.slice(0, i)] = /^-?(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : v;
    }
    return a;
  }

  /** Send a command without waiting (a long loop); `answer()` waits for its line later. */
  start(line: string): Promise<Answer> {
    return this.cmd(line, 120_000);
  }
}

/** Create a domain running the hostile guest and wait for its prompt. */
export async function createHostile(hv: Hypervisor, consoles: Consoles, name: string, o: HostileOptions = {}): Promise<HostileGuest> {
  const memory = o.memory ?? 8;
  const cfg = parseXlConfig(
    [
      `name = "${name}"`,
      'type = "pv"',
      `memory = ${memory}`,
      `maxmem = ${o.maxmem ?? memory}`,
      `vcpus = ${o.vcpus ?? 1}`,
      'kernel = "hostile.elf"',
      `on_poweroff = "${o.onPoweroff ?? 'preserve'}"`,
      `on_crash = "${o.onCrash ?? 'preserve'}"`,
    ].join('\n'),
  );
  const d = hv.createDomain(cfg, { kernel: readFileSync(guestImage('hostile')) });
  const g = new HostileGuest(hv, consoles, d);
  await g.ready();
  return g;
}

/** Machine frame behind a domain's guest frame (ABI numbering), or -1. */
export function mfnOf(d: Domain, gfn: number): number {
  const e = d.p2m.get(gfn - d.ramBase / 4096);
  return e < 0 ? -1 : e & 0x3fff_ffff;
}

/** Pages of `d` from `gfn` (ABI numbering) whose bytes are not all `byte`, read from machine memory. */
export function changedPages(hv: Hypervisor, d: Domain, gfn: number, count: number, byte: number): number[] {
  const ram = new Uint8Array(hv.memory.buffer);
  const bad: number[] = [];
  for (let g = gfn; g < gfn + count; g++) {
    const mfn = mfnOf(d, g);
    if (mfn < 0) {
      bad.push(g);
      continue;
    }
    const page = ram.subarray(mfn * 4096, mfn * 4096 + 4096);
    if (page.some((b) => b !== byte)) bad.push(g);
  }
  return bad;
}

/** A 32-bit word of a domain's memory at guest-physical `gpa`, read from machine memory. */
export function peekU32(hv: Hypervisor, d: Domain, gpa: number): number {
  const mfn = mfnOf(d, Math.floor(gpa / 4096));
  if (mfn < 0) return -1;
  return new DataView(hv.memory.buffer).getUint32(mfn * 4096 + (gpa % 4096), true);
}
