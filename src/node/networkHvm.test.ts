/**
 * The hvm network: virtio-net on a virtio-mmio slot, a port on xenbr0 beside pv vifs and
 * Domain-0. The slot order (disks first, then vifs, from the last slot down, as QEMU places
 * -device in command-line order), hot-plug refused in one line, and the hvm teaching OS's
 * virtio-net driver pinging a pv teaching OS and Domain-0 (and back), with DHCP and
 * static addresses.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeFdt } from '../core/board/fdtReader';
import type { FdtNode } from '../core/board/fdt';
import { buildVirtFdtTree } from '../core/board/virtFdt';
import { MemoryStore, RawImage } from '../core/block';
import { afterEach, describe, expect, it } from 'vitest';
import type { Domain } from '../core/xen/common/domain';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { Toolstack } from '../core/tools/toolstack';
import { runXl } from '../core/tools/xl';
import { VirtioMmioDevice } from '../core/devices/virtio/mmioDevice';
import { ensureBundleSync } from './testBundle';
import { guestImage } from './paths';
import { nodeVcpuHost } from './vcpuHost';
import { consoleText, waitForConsole } from '../testing/support';

let hv: Hypervisor | undefined;
afterEach(() => {
  hv?.shutdownHost();
  hv = undefined;
});

function host(): { h: Hypervisor; ts: Toolstack; xl: (...argv: string[]) => Promise<{ out: string; status: number }> } {
  const h = new Hypervisor({ memoryMiB: 64, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
  hv = h;
  h.start();
  const ts = new Toolstack(h, { readFile: (p) => readFileSync(guestImage(p.includes('hvm') ? 'teaching-os-hvm' : 'teaching-os-pv')) });
  const lines: string[] = [];
  const io = { out: (t: string) => lines.push(t), readFile: () => '', writeBytes: () => {} };
  const xl = async (...argv: string[]): Promise<{ out: string; status: number }> => {
    lines.length = 0;
    try {
      const r = runXl(ts, argv, io);
      const status = r.pending ? await r.pending : r.status;
      return { out: lines.join('\n'), status };
    } catch (e) {
      return { out: (e as Error).message, status: 1 };
    }
  };
  return { h, ts, xl };
}

const out = (d: Domain): string => consoleText(d, { lf: true });
/** The shell's prompt: the domain's name on pv (from xenstore), `tos` on hvm. */
const prompt = (d: Domain): RegExp => new RegExp(`${d.kind === 'hvm' ? 'tos' : d.name}\\$ $`);

async function run(h: Hypervisor, d: Domain, line: string, expect: RegExp | string, ms = 60_000): Promise<string> {
  const mark = out(d).length;
  h.consoleInput(d.domid, new TextEncoder().encode(`${line}\n`));
  await waitForConsole(d, expect, { from: mark, lf: true, ms });
  await waitForConsole(d, prompt(d), { from: mark, lf: true, ms });
  return out(d).slice(mark);
}

describe('hvm networking: virtio-net on xenbr0', () => {
  it('plugs one virtio-net per vif after the disks, as QEMU places them; refuses hot-plug in one line', async () => {
    const { ts, xl } = host();
    const d = ts.create(`name = "h"\ntype = "hvm"\nmemory = 16\nkernel = "hvm"\nvif = [ 'mac=00:16:3e:00:01:01', 'bridge=xenbr1' ]`);
    const a = d.kind === 'hvm' ? d.virtio[7] : undefined;
    const b = d.kind === 'hvm' ? d.virtio[6] : undefined;
    expect(a).toBeInstanceOf(VirtioMmioDevice);
    expect(b).toBeInstanceOf(VirtioMmioDevice);
    expect((a as VirtioMmioDevice).model.deviceId).toBe(1);
    expect(ts.nets.bridges.get('xenbr0')!.port(`vif${d.domid}.0-emu`)).toBeDefined();
    expect(ts.nets.bridges.get('xenbr1')!.port(`vif${d.domid}.1-emu`)).toBeDefined();
    const list = await xl('network-list', 'h');
    expect(list.out).toContain('virtio-mmio slot 7 (0x10008000)');
    expect(list.out).toContain(`vif${d.domid}.0-emu`);
    const att = await xl('network-attach', 'h');
    expect(att.out).toMatch(/hvm guest: its interfaces are virtio-net devices, plugged at create time/);
    expect(att.out.split('\n')).toHaveLength(1);
    await xl('destroy', 'h');
    expect(ts.nets.bridges.get('xenbr0')!.port(`vif${d.domid}.0-emu`)).toBeUndefined();
  });

  it('an hvm and a pv teaching OS ping each other and Domain-0 pings both (DHCP and static)', async () => {
    const { h, ts, xl } = host();
    const v = ts.create(`name = "vhvm"\ntype = "hvm"\nmemory = 16\nkernel = "hvm"\nvif = [ 'mac=00:16:3e:00:02:01' ]`);
    const p = ts.create(`name = "vpv"\ntype = "pv"\nmemory = 16\nkernel = "pv"\nvif = [ 'mac=00:16:3e:00:02:02,ip=10.0.0.70' ]`);
    await waitForConsole(v, /net: eth0 \(virtio-net on virtio-mmio@0x10008000, PLIC source 8\): mac 00:16:3e:00:02:01, link up/, { lf: true, ms: 60_000 });
    await waitForConsole(p, /net: eth0 \(vif 0\): mac 00:16:3e:00:02:02, connected to domain 0/, { lf: true, ms: 60_000 });
    for (const d of [v, p]) await waitForConsole(d, prompt(d), { lf: true, ms: 60_000 });

    expect(await run(h, v, 'ifconfig dhcp', 'dhcp:')).toMatch(/dhcp: eth0 leased 10\.0\.0\.1\d\d\/24 from 10\.0\.0\.1/);
    expect(await run(h, p, 'ifconfig 10.0.0.70/24', 'eth0:')).toContain('inet 10.0.0.70');
    const vip = /leased (10\.0\.0\.\d+)/.exec(out(v))![1]!;

    const a = await run(h, v, 'ping 10.0.0.70 3', 'ping statistics');
    expect(a).toMatch(/64 bytes from 10\.0\.0\.70: icmp_seq=1 ttl=64 time=\d+\.\d{3} ms/);
    expect(a).toContain('3 packets transmitted, 3 received, 0% packet loss');
    expect(await run(h, p, `ping ${vip} 3`, 'ping statistics')).toContain('3 packets transmitted, 3 received, 0% packet loss');
    expect(await run(h, v, 'ping 10.0.0.1 2', 'ping statistics')).toContain('2 packets transmitted, 2 received, 0% packet loss');
    for (const ip of [vip, '10.0.0.70'])
      expect((await xl('ping', '-c', '2', '-i', '0.2', ip)).out).toContain('2 packets transmitted, 2 received, 0% packet loss');

    // Domain-0's packet view on the hvm guest's port while it pings the guest once
    const seen: string[] = [];
    const dump = runXl(ts, ['tcpdump', '-i', `vif${v.domid}.0-emu`, '-c', '2', '-t', '30'], { out: (t) => seen.push(t), readFile: () => '' });
    await xl('ping', '-c', '1', vip);
    await dump.pending;
    expect(seen[0]).toBe(`listening on vif${v.domid}.0-emu, link-type EN10MB (Ethernet), snapshot length 262144 bytes`);
    expect(seen[1]).toMatch(new RegExp(`IP 10\\.0\\.0\\.1 > ${vip.replace(/\./g, '\\.')}: ICMP echo request`));
    expect(seen[2]).toMatch(new RegExp(`IP ${vip.replace(/\./g, '\\.')} > 10\\.0\\.0\\.1: ICMP echo reply`));

    // a static address on the hvm side too
    expect(await run(h, v, 'ifconfig 10.0.0.71/24', 'eth0:')).toContain('inet 10.0.0.71');
    expect(await run(h, p, 'ping 10.0.0.71 2', 'ping statistics')).toContain('2 packets transmitted, 2 received, 0% packet loss');

    const rtts = [...(a + out(p)).matchAll(/time=(\d+\.\d+) ms/g)].map((m) => Number(m[1])).sort((x, y) => x - y);
    console.log(`networkHvm: hvm <-> pv teaching OS ping round trips (ms, busy machine): ${rtts.join(' ')}`);

    // every notification an exit, counted by reason; the device's counters in the toolstack
    expect(v.exits.get('mmio:virtio-net-notify') ?? 0).toBeGreaterThan(5);
    const nic = ts.nets.virtioOf(v.domid)[0]!;
    expect(nic.net.stats.txPackets).toBeGreaterThan(5);
    expect(nic.net.stats.rxPackets).toBeGreaterThan(5);
    expect(nic.transport.counts.needsReset).toBe(0);
    const ifc = await run(h, v, 'ifconfig', 'notifies');
    expect(ifc).toMatch(/tx \d+ packets \d+ bytes 0 errors {2}rx \d+ packets \d+ bytes 0 errors {2}notifies \d+ events \d+/);
  }, 240_000);
});

describe("virtio-net in QEMU's device tree", () => {
  /** The virtio_mmio nodes of a tree, in order, with their properties as hex. */
  const virtioNodes = (root: FdtNode): string[] =>
    (root.children.find((c) => c.name === 'soc')?.children ?? [])
      .filter((c) => c.name.startsWith('virtio_mmio@'))
      .map((c) => `${c.name} ${c.props.map((p) => `${p.name}=${Buffer.from(p.value).toString('hex')}`).join(' ')}`);

  it('-device virtio-net-device (after a virtio-blk-device) changes nothing in the tree: the same eight virtio_mmio nodes as without, and as ours', () => {
    if (spawnSync('qemu-system-riscv32', ['--version']).error !== undefined) {
      console.warn('qemu-system-riscv32 not found: skipping the QEMU comparison');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'hyperlab-vnet-'));
    try {
      const dump = (extra: string[]): FdtNode => {
        const dtb = join(dir, 'virt.dtb');
        execFileSync('qemu-system-riscv32', ['-machine', `virt,dumpdtb=${dtb}`, '-bios', 'none', '-display', 'none', '-nic', 'none', ...extra], {
          stdio: 'ignore',
        });
        return decodeFdt(new Uint8Array(readFileSync(dtb))).root;
      };
      const plain = virtioNodes(dump([]));
      // A hub port: a netdev with no host networking behind it.
      const net = ['-netdev', 'hubport,id=n0,hubid=0', '-device', 'virtio-net-device,netdev=n0,mac=00:16:3e:00:01:01'];
      const withNet = virtioNodes(dump(net));
      const withBoth = virtioNodes(dump(['-drive', 'if=none,id=d,file=null-co://,format=raw', '-device', 'virtio-blk-device,drive=d', ...net]));
      expect(plain).toHaveLength(8);
      expect(withNet).toEqual(plain);
      expect(withBoth).toEqual(plain);
      expect(virtioNodes(buildVirtFdtTree({ memBase: 0x8000_0000, memSize: 128 << 20, harts: 1 }))).toEqual(plain);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("places a disk and a vif where QEMU puts -device virtio-blk-device and -device virtio-net-device (its 'info qtree')", async () => {
    if (spawnSync('qemu-system-riscv32', ['--version']).error !== undefined) {
      console.warn('qemu-system-riscv32 not found: skipping the QEMU comparison');
      return;
    }
    const qtree = spawnSync(
      'qemu-system-riscv32',
      [
        ...['-M', 'virt', '-bios', 'none', '-display', 'none', '-nic', 'none', '-serial', 'none', '-S', '-monitor', 'stdio'],
        ...['-drive', 'if=none,id=d,file=null-co://,format=raw', '-device', 'virtio-blk-device,drive=d'],
        ...['-netdev', 'hubport,id=n0,hubid=0', '-device', 'virtio-net-device,netdev=n0'],
      ],
      { input: 'info qtree\nquit\n', encoding: 'utf8', timeout: 30_000 },
    ).stdout;
    // "mmio 0000000010008000/..." then, a few lines on, "dev: virtio-blk-device" on that transport's bus.
    const where = (dev: string): number => {
      const at = qtree.indexOf(`dev: ${dev}`);
      const mmio = [...qtree.slice(0, at).matchAll(/mmio ([0-9a-f]{16})\//g)].at(-1);
      return parseInt(mmio![1]!, 16);
    };
    expect(where('virtio-blk-device')).toBe(0x1000_8000);
    expect(where('virtio-net-device')).toBe(0x1000_7000);
    const h = new Hypervisor({ memoryMiB: 32, pcpus: 1, host: nodeVcpuHost(ensureBundleSync()) });
    hv = h;
    h.start();
    const ts = new Toolstack(h, { readFile: () => readFileSync(guestImage('teaching-os-hvm')), openDisk: () => new RawImage(new MemoryStore(1 << 20), 'd') });
    const d = ts.create(`name = "q"\ntype = "hvm"\nmemory = 16\nkernel = "hvm"\ndisk = [ 'd.raw,raw,xvda,rw' ]\nvif = [ '' ]`);
    const slots = d.kind === 'hvm' ? d.virtio.map((x, i) => (x instanceof VirtioMmioDevice ? `${i}:${x.name}` : '')).filter(Boolean) : [];
    expect(slots).toEqual(['6:virtio-net', '7:virtio-blk']); // slot i is at 0x10001000 + i * 0x1000
  });
});
