/**
 * The pv network end to end: two teaching OS domains with `vif = [ ... ]` on xenbr0 with
 * Domain-0 (netfront in the guest, netback and the bridge in Domain-0). DHCP from
 * Domain-0's server (one address reserved through `ip=`), pings between the guests and to
 * and from Domain-0, UDP send/listen, `xl network-list`, xentop's NET columns, a capture
 * read back with `tcpdump -r` (where installed), `xl network-detach`, and `xl network-attach`
 * of a new vif to the running guest with a static address.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Domain } from '../core/xen/common/domain';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { Toolstack } from '../core/tools/toolstack';
import { runXl } from '../core/tools/xl';
import { readPcap } from '../core/net/pcap';
import { ensureBundleSync } from './testBundle';
import { guestImage } from './paths';
import { nodeVcpuHost } from './vcpuHost';
import { consoleText, until, waitForConsole } from '../testing/support';

let hv: Hypervisor | undefined;
let dir: string | undefined;
afterEach(() => {
  hv?.shutdownHost();
  hv = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const tcpdumpMissing = ((): boolean => {
  const r = spawnSync('tcpdump', ['--version'], { stdio: 'ignore' });
  return r.error !== undefined || r.status !== 0;
})();

const out = (d: Domain): string => consoleText(d, { lf: true });

async function run(h: Hypervisor, d: Domain, line: string, expect: RegExp | string, ms = 30_000): Promise<string> {
  const mark = out(d).length;
  h.consoleInput(d.domid, new TextEncoder().encode(`${line}\n`));
  await waitForConsole(d, expect, { from: mark, lf: true, ms });
  await waitForConsole(d, new RegExp(`${d.name}\\$ $`), { from: mark, lf: true, ms });
  return out(d).slice(mark);
}

describe('pv networking: netfront, netback, xenbr0 and Domain-0', () => {
  it('DHCP, ping both ways and to Domain-0, UDP, capture, detach', async () => {
    const h = new Hypervisor({ memoryMiB: 64, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
    hv = h;
    h.start();
    const ts = new Toolstack(h, { readFile: () => readFileSync(guestImage('teaching-os-pv')) });
    const a = ts.create(`name = "alpha"\ntype = "pv"\nmemory = 16\nkernel = "tos"\nvif = [ 'mac=00:16:3e:00:00:0a' ]`);
    const b = ts.create(`name = "beta"\ntype = "pv"\nmemory = 16\nkernel = "tos"\nvif = [ 'mac=00:16:3e:00:00:0b,ip=10.0.0.50' ]`);
    const lines: string[] = [];
    const io = { out: (t: string) => lines.push(t), readFile: () => '', writeBytes: (p: string, bytes: Uint8Array) => writeFileSync(p, bytes) };
    const xl = async (...argv: string[]): Promise<string> => {
      lines.length = 0;
      const r = runXl(ts, argv, io);
      if (r.pending) await r.pending;
      return lines.join('\n');
    };
    for (const d of [a, b]) await waitForConsole(d, /net: eth0 \(vif 0\): mac 00:16:3e:00:00:0[ab], connected to domain 0/, { lf: true });
    for (const d of [a, b]) await waitForConsole(d, new RegExp(`${d.name}\\$ $`), { lf: true });

    // a capture of the whole bridge while it all happens
    dir = mkdtempSync(join(tmpdir(), 'hyperlab-net-'));
    const pcap = join(dir, 'xenbr0.pcap');
    lines.length = 0;
    const cap = runXl(ts, ['network-capture', '-t', '600', '-c', '20', 'xenbr0', pcap], io);

    expect(await run(h, a, 'ifconfig dhcp', 'dhcp:')).toMatch(/dhcp: eth0 leased 10\.0\.0\.100\/24 from 10\.0\.0\.1 for 3600 s/);
    expect(await run(h, b, 'ifconfig dhcp', 'dhcp:')).toMatch(/dhcp: eth0 leased 10\.0\.0\.50\/24 from 10\.0\.0\.1/);

    const p1 = await run(h, a, 'ping 10.0.0.50 3', 'ping statistics');
    expect(p1).toMatch(/64 bytes from 10\.0\.0\.50: icmp_seq=1 ttl=64 time=\d+\.\d{3} ms/);
    expect(p1).toContain('3 packets transmitted, 3 received, 0% packet loss');
    expect(await run(h, b, 'ping 10.0.0.1 2', 'ping statistics')).toContain('2 packets transmitted, 2 received, 0% packet loss');
    expect(await run(h, a, 'arp', 'HWaddress')).toContain('00:16:3e:00:00:0b');

    // Domain-0 pings the guests
    const d0 = await xl('ping', '-c', '2', '-i', '0.2', '10.0.0.100');
    expect(d0).toMatch(/64 bytes from 10\.0\.0\.100: icmp_seq=1 ttl=64 time=/);
    expect(d0).toContain('2 packets transmitted, 2 received, 0% packet loss');

    // the packet view on alpha's vif while Domain-0 pings it once more
    const seen: string[] = [];
    const dump = runXl(ts, ['tcpdump', '-i', `vif${a.domid}.0`, '-c', '2', '-t', '20'], { out: (t) => seen.push(t), readFile: () => '' });
    await xl('ping', '-c', '1', '10.0.0.100');
    await dump.pending;
    expect(seen[0]).toBe(`listening on vif${a.domid}.0, link-type EN10MB (Ethernet), snapshot length 262144 bytes`);
    expect(seen[1]).toMatch(/^\d\d:\d\d:\d\d\.\d{6} IP 10\.0\.0\.1 > 10\.0\.0\.100: ICMP echo request, id \d+, seq \d+, length 64$/);
    expect(seen[2]).toMatch(/^\d\d:\d\d:\d\d\.\d{6} IP 10\.0\.0\.100 > 10\.0\.0\.1: ICMP echo reply, id \d+, seq \d+, length 64$/);
    expect(seen[3]).toBe('2 packets captured');

    // UDP: beta listens, alpha sends
    const mark = out(b).length;
    h.consoleInput(b.domid, new TextEncoder().encode('udp listen 7000 1\n'));
    await waitForConsole(b, 'listening on port 7000', { from: mark, lf: true });
    expect(await run(h, a, 'udp send 10.0.0.50 7000 hello over xenbr0', 'udp: sent')).toContain('udp: sent 17 bytes to 10.0.0.50:7000');
    await waitForConsole(b, 'udp: 17 bytes from 10.0.0.100:5000: hello over xenbr0', { from: mark, lf: true });
    await waitForConsole(b, 'udp: 1 received', { from: mark, lf: true });

    // the toolstack's view
    const list = await xl('network-list', 'alpha');
    expect(list).toMatch(/^0\s+0\s+00:16:3e:00:00:0a\s+0\s+4\s+\d+\s+\d+\/\d+\s+\/local\/domain\/0\/backend\/vif\/\d+\/0$/m);
    expect(list).toMatch(/vif\d+\.0\s+xenbr0/);
    const vif = ts.nets.of(a.domid)[0]!.device;
    expect(vif.stats.txPackets).toBeGreaterThan(5);
    expect(vif.stats.rxPackets).toBeGreaterThan(5);
    expect(Object.values(vif.stats.txRefused).reduce((x, y) => x + y, 0)).toBe(0);
    expect((await xl('top')).split('\n')[0]).toMatch(/VCPUS {2}NETS NETTX\(k\) NETRX\(k\) {2}VBDS/);
    expect(await xl('brctl', 'show')).toMatch(/xenbr0\s+8000\.feffffffffff\s+no\s+vif\d+\.0/);

    // the capture: stop it and read it back
    await cap.pending;
    const file = readPcap(readFileSync(pcap));
    expect(file.linktype).toBe(1);
    expect(file.packets.length).toBe(20);
    if (!tcpdumpMissing) {
      const r = spawnSync('tcpdump', ['-r', pcap, '-n'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/IP 0\.0\.0\.0\.68 > 255\.255\.255\.255\.67: BOOTP\/DHCP, Request from 00:16:3e:00:00:0a/);
      expect(r.stdout).toMatch(/IP 10\.0\.0\.100 > 10\.0\.0\.50: ICMP echo request, id \d+, seq 1, length 64/);
      expect(r.stdout).toMatch(/IP 10\.0\.0\.50 > 10\.0\.0\.100: ICMP echo reply/);
    }

    // detach: the guest closes its end, the vif leaves the bridge
    await xl('network-detach', 'beta', '0');
    await waitForConsole(b, 'net: eth0 (device/vif/0) detached', { lf: true });
    await until(() => ts.nets.of(b.domid).length === 0, 10_000);
    expect(ts.nets.bridges.get('xenbr0')!.port(`vif${b.domid}.0`)).toBeUndefined();
    expect(await run(h, a, 'ping 10.0.0.50 1', 'ping statistics')).toContain('1 packets transmitted, 0 received');

    // hotplug: a new vif (the guest's device/vif watch picks it up), a static address this time
    await xl('network-attach', 'beta', 'mac=00:16:3e:00:00:0c');
    await waitForConsole(b, 'net: eth0 (vif 0): mac 00:16:3e:00:00:0c, connected to domain 0', { lf: true });
    expect(await run(h, b, 'ifconfig 10.0.0.60/24', 'eth0:')).toContain('inet 10.0.0.60  netmask 255.255.255.0');
    expect(await run(h, a, 'ping 10.0.0.60 1', 'ping statistics')).toContain('1 packets transmitted, 1 received, 0% packet loss');
  }, 120_000);
});
