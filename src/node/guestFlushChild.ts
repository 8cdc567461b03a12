/**
 * Child process of the crash test in guestFlush.test.ts: a whole host (hypervisor, vCPU
 * workers, Domain-0's blkback) running the pv teaching OS with IMAGE as its disk. The
 * guest writes ROUNDS sectors (`disk write`), flushes (`disk flush`: BLKIF_OP_FLUSH_DISKCACHE),
 * and once the guest has printed the flush's completion this prints "flushed"; then the
 * guest keeps writing other sectors without a flush until the process is killed.
 * Usage: node --import tsx guestFlushChild.ts IMAGE ROUNDS
 */
import { readFileSync } from 'node:fs';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { Toolstack } from '../core/tools/toolstack';
import { openImageFile } from './blockFile';
import { guestImage } from './paths';
import { ensureBundleSync } from './testBundle';
import { nodeVcpuHost } from './vcpuHost';
import { consoleText, waitForConsole } from '../testing/support';

/** What round R writes, and where: sectors 100.. for the flushed rounds, 1000.. after. */
export const flushText = (round: number): string => `flushed-round-${round}-of-the-guest`;

async function main(argv: string[]): Promise<void> {
  const [image, roundsArg] = argv;
  if (image === undefined || roundsArg === undefined) throw new Error('usage: IMAGE ROUNDS');
  const h = new Hypervisor({ memoryMiB: 48, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
  h.start();
  const ts = new Toolstack(h, {
    readFile: () => readFileSync(guestImage('teaching-os-pv')),
    openDisk: (spec) => openImageFile(spec.target, { format: spec.format }),
  });
  const d = ts.create(`name = "flusher"\ntype = "pv"\nmemory = 16\nkernel = "tos"\ndisk = [ '${image},qcow2,xvda,rw' ]`);
  const say = async (line: string, expect: RegExp): Promise<void> => {
    const mark = consoleText(d, { lf: true }).length;
    h.consoleInput(d.domid, new TextEncoder().encode(`${line}\n`));
    await waitForConsole(d, expect, { from: mark, lf: true, ms: 60_000 });
    await waitForConsole(d, /flusher\$ $/, { from: mark, lf: true, ms: 60_000 });
  };
  await waitForConsole(d, /flusher\$ $/, { lf: true, ms: 60_000 });
  for (let r = 0; r < Number(roundsArg); r++) await say(`disk write ${100 + r} ${flushText(r)}`, /wrote/);
  await say('disk flush', /flushed: the backend's image is on stable storage/);
  process.stdout.write('flushed\n');
  for (let r = 0; ; r++) await say(`disk write ${1000 + (r % 500)} unflushed-${r}`, /wrote/);
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1])
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
