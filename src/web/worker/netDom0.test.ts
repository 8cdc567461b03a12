/**
 * The browser's Domain-0 prompt and the network, in the hypervisor service (Node, no
 * guests): ping's lines reach the page as they are printed, not only at the end;
 * `xl network-capture ... FILE` writes FILE into the capture directory (OPFS captures/ in
 * the browser), which `ls` lists and HypervisorApi.net reads back; a bad file name is
 * refused before the capture starts; the 10 Hz report carries every port's counters.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readPcap } from '../../core/net/pcap';
import { summarize } from '../../core/net/summary';
import { ensureBundleSync } from '../../node/testBundle';
import { nodeVcpuHost } from '../../node/vcpuHost';
import type { HvEvent } from '../protocol/hvProtocol';
import { HypervisorService } from './hypervisorService';
import { MemoryDirectory } from './opfsDir';

let svc: HypervisorService | undefined;
afterEach(() => svc?.close());

function service(): { s: HypervisorService; events: HvEvent[]; captures: MemoryDirectory } {
  const captures = new MemoryDirectory(1 << 20);
  const s = new HypervisorService({
    host: nodeVcpuHost(ensureBundleSync()),
    memoryMiB: 32,
    pcpus: 1,
    fetchGuest: () => Promise.reject(new Error('no guests here')),
    captureDirectory: () => Promise.resolve(captures),
  });
  svc = s;
  const events: HvEvent[] = [];
  s.attach({ guestBaseUrl: 'unused/', catalog: [] }, (batch) => events.push(...batch));
  return { s, events, captures };
}

const streamed = (events: readonly HvEvent[], id: number): string[] => events.flatMap((e) => (e.type === 'dom0-lines' && e.stream === id ? e.lines : []));

describe("the browser's Domain-0 prompt on the network", () => {
  it("streams ping's lines as they come; the answer still has them all", async () => {
    const { s, events } = service();
    const done = s.xl('ping -c 3 -i 0.05 -W 0.1 10.0.0.77', 7);
    // Before the command ends, its first lines are out (the batcher sends events at the next turn).
    await new Promise((r) => setTimeout(r, 200));
    const early = streamed(events, 7);
    expect(early[0]).toMatch(/^PING 10\.0\.0\.77/);
    expect(early.some((l) => l.includes('Destination Host Unreachable'))).toBe(true);
    expect(early.some((l) => l.includes('ping statistics'))).toBe(false);
    const r = await done;
    await new Promise((res) => setTimeout(res, 20));
    expect(r.status).toBe(1);
    expect(streamed(events, 7).join('\n')).toBe(r.output);
    // without a stream id, nothing is streamed
    const before = events.length;
    await s.xl('ping -c 1 -W 0.05 10.0.0.78');
    expect(events.slice(before).some((e) => e.type === 'dom0-lines')).toBe(false);
  });

  it('xl network-capture writes its file into captures/, listed by ls and read back through net', async () => {
    const { s, captures } = service();
    // Domain-0's ARP who-has for an address nobody has is broadcast on xenbr0: the capture sees it.
    const cap = s.xl('xl network-capture -t 2 -c 1 xenbr0 /tmp/arp.pcap');
    await s.xl('ping -c 2 -i 0.05 -W 0.1 10.0.0.99');
    const r = await cap;
    expect(r.status).toBe(0);
    expect(r.output).toMatch(/^1 frames captured on xenbr0 to \/tmp\/arp\.pcap \(\d+ bytes, pcap\)\nsaved as captures\/arp\.pcap$/);
    expect(await captures.names()).toEqual(['arp.pcap']);
    expect((await s.xl('ls')).output).toMatch(/^captures\/arp\.pcap\s+\d+$/m);
    const file = await s.net({ op: 'file', name: 'arp.pcap' });
    if (!file.ok) throw new Error(file.error);
    const pcap = readPcap(file.value);
    expect(pcap.linktype).toBe(1);
    expect(pcap.packets.map((p) => summarize(p.data).info)).toEqual(['ARP, Request who-has 10.0.0.99 tell 10.0.0.1, length 28']);
    expect(await s.net({ op: 'files' })).toMatchObject({ ok: true, value: [{ name: 'arp.pcap', size: file.value.length }] });
    expect(await s.net({ op: 'deleteFile', name: 'arp.pcap' })).toEqual({ ok: true, value: null });
    expect(await captures.names()).toEqual([]);
  });

  it('refuses a bad capture file name at once, and an unknown operation in one line', async () => {
    const { s } = service();
    const t0 = performance.now();
    const r = await s.xl('xl network-capture -t 5 xenbr0 ../../etc/pass:wd');
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(r).toMatchObject({ status: 1 });
    expect(r.output).toMatch(/^xl: "\.\.\/\.\.\/etc\/pass:wd": a capture file is named with letters/);
    expect(await s.net({ op: 'nonsense' } as never)).toEqual({ ok: false, error: 'no network operation "nonsense"' });
    expect(await s.net({ op: 'captureStop', id: 42 })).toEqual({ ok: false, error: 'no capture 42 is running' });
  });

  it("the statistics report carries every bridge port's counters", async () => {
    const { s } = service();
    await s.xl('ping -c 1 -W 0.05 10.0.0.50');
    const net = s.stats().net ?? [];
    expect(net).toEqual([{ name: 'xenbr0', bridge: 'xenbr0', domid: 0, counters: expect.objectContaining({ rxFrames: 1 }) as unknown }]);
  });
});
