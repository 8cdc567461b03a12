/**
 * Helpers for the tests that give the teaching OS disks (blkfront.test.ts over pv blkback,
 * virtioBlk.test.ts over hvm virtio-blk): a started host with one teaching OS domain whose
 * xl.cfg `disk` list is given, and typing a command on its console.
 */
import { readFileSync } from 'node:fs';
import type { Domain } from '../core/xen/common/domain';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { Toolstack } from '../core/tools/toolstack';
import { runXl } from '../core/tools/xl';
import { openImageFile } from './blockFile';
import { ensureBundleSync } from './testBundle';
import { guestImage } from './paths';
import { nodeVcpuHost } from './vcpuHost';
import { consoleText, waitForConsole } from '../testing/support';

export interface DiskDomain {
  h: Hypervisor;
  ts: Toolstack;
  d: Domain;
  /** Run an xl command at Domain-0's prompt; its output. */
  xl: (...argv: string[]) => string;
}

/** A started host (64 MiB, 2 pCPUs) and the teaching OS as `type` named `name`, with these disk specs. */
export function teachingOsWithDisks(
  type: 'pv' | 'hvm',
  name: string,
  disks: readonly string[],
  opts: { icountShift?: number; vcpus?: number } = {},
): DiskDomain {
  const { vcpus, ...hvOpts } = opts;
  const h = new Hypervisor({ memoryMiB: 64, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()), ...hvOpts });
  h.start();
  const ts = new Toolstack(h, {
    readFile: () => readFileSync(guestImage(`teaching-os-${type}`)),
    openDisk: (spec) => openImageFile(spec.target, { format: spec.format, readOnly: spec.access === 'ro' }),
  });
  const list = disks.map((s) => `'${s}'`).join(', ');
  const d = ts.create(`name = "${name}"\ntype = "${type}"\nmemory = 16\nkernel = "tos"\ndisk = [ ${list} ]${vcpus ? `\nvcpus = ${vcpus}` : ''}`);
  const xl = (...argv: string[]): string => {
    const lines: string[] = [];
    runXl(ts, argv, { out: (t) => lines.push(t), readFile: () => '' });
    return lines.join('\n');
  };
  return { h, ts, d, xl };
}

/** Type a line; wait for `expect` after it, then the prompt; return what was printed since. */
export async function typeOn(h: Hypervisor, d: Domain, prompt: RegExp, line: string, expect: RegExp | string, ms = 30_000): Promise<string> {
  const out = (): string => consoleText(d, { lf: true });
  const mark = out().length;
  h.consoleInput(d.domid, new TextEncoder().encode(`${line}\n`));
  await waitForConsole(d, expect, { from: mark, lf: true, ms });
  await waitForConsole(d, prompt, { from: mark, lf: true, ms });
  return out().slice(mark);
}
