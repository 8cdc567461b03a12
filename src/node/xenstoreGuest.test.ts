/**
 * xenstore from inside a guest: the teaching OS's `xs` command talks to xenstored over its
 * xenstore ring, with Domain-0 (the test) as the other writer. Watches fire in the guest,
 * a transaction whose node Domain-0 changes meanwhile ends in EAGAIN and is started
 * again, and a guest cannot write another domain's nodes (Xen's default permissions).
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Domain } from '../core/xen/common/domain';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { Toolstack } from '../core/tools/toolstack';
import { ensureBundleSync } from './testBundle';
import { guestImage } from './paths';
import { nodeVcpuHost } from './vcpuHost';
import { consoleText, waitForConsole } from '../testing/support';

let hv: Hypervisor | undefined;
afterEach(() => hv?.shutdownHost());

const out = (d: Domain): string => consoleText(d, { lf: true });
const waitFor = (d: Domain, re: RegExp, from: number): Promise<RegExpMatchArray> => waitForConsole(d, re, { from, lf: true });

describe('xenstore from a pv guest (teaching OS `xs`)', () => {
  it("reads and writes its nodes, sees watches fire, retries a conflicting transaction, and is refused other domains' nodes", async () => {
    hv = new Hypervisor({ memoryMiB: 64, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
    hv.start();
    const ts = new Toolstack(hv, { readFile: () => readFileSync(guestImage('teaching-os-pv')) });
    const cfg = (name: string): string => `name = "${name}"\ntype = "pv"\nmemory = 16\nkernel = "tos"`;
    const d = ts.create(cfg('xsguest'));
    const other = ts.create(cfg('neighbour'));
    const h = hv;
    const dom0 = h.xsDom0();
    const home = `/local/domain/${d.domid}`;
    let mark = 0;
    const run = async (line: string, expect: RegExp): Promise<RegExpMatchArray> => {
      mark = out(d).length;
      h.consoleInput(d.domid, new TextEncoder().encode(`${line}\n`));
      return waitFor(d, expect, mark);
    };
    await waitFor(d, /xsguest\$ $/, 0);

    // Its own subtree, relative paths: Domain-0 sees what it wrote.
    await run('xs write data/colour green', /xsguest\$ $/);
    expect(await dom0.read(`${home}/data/colour`)).toBe('green');
    await dom0.write(`${home}/data/size`, '42');
    await run('xs ls data', /size = "42"\n/);
    expect(out(d).slice(mark)).toContain('colour = "green"');

    // A watch fires in the guest when Domain-0 writes below it.
    // Registering fires the watch once at once (docs/misc/xenstore.txt: "WATCH ... the watch
    // event is sent immediately"), with the path as the guest gave it.
    await run('xs watch data', /xs: watch fired: data\n/);
    mark = out(d).length;
    await dom0.write(`${home}/data/news`, 'hello');
    // A watch set on a relative path reports relative paths (xenstored, as Xen's).
    await waitFor(d, /xs: watch fired: data\/news\n/, mark);

    // A transaction that read data/counter conflicts with Domain-0's write and starts again.
    await dom0.write(`${home}/data/counter`, '5');
    const first = run('xs incr data/counter 400', /xs: read data\/counter = 5 in transaction/);
    await first;
    await dom0.write(`${home}/data/counter`, '10');
    await waitFor(d, /xs: transaction conflict \(EAGAIN\)/, mark);
    await waitFor(d, /xs: data\/counter = 11, committed after 1 conflict\n/, mark);
    expect(await dom0.read(`${home}/data/counter`)).toBe('11');

    // Another domain's nodes are not this guest's to write (or read).
    await run(`xs write /local/domain/${other.domid}/data/x evil`, /xs: write \/local\/domain\/\d+\/data\/x: EACCES/);
    await run(`xs read /local/domain/${other.domid}/name`, /xs: read \/local\/domain\/\d+\/name: EACCES/);
    await expect(dom0.read(`/local/domain/${other.domid}/data/x`)).rejects.toThrow();
  });
});
