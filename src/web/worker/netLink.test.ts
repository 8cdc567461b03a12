/**
 * The tabs' hub (netLink.ts linkTabs) over a BroadcastChannel stand-in that delivers each
 * message to every other subscriber on a later task, as the real one does: three hosts join
 * one after the other and take slots 1, 2, 3 (Domain-0 at 10.0.0.1, .2, .3); their Domain-0s
 * ping each other; what another page posts that is not a PDU is counted; a second hub link
 * on one bridge is refused; a tab that leaves says BYE and the others forget it.
 */
import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../core/xen/common/hypervisor';
import { Toolstack } from '../../core/tools/toolstack';
import { linksOfNets } from '../../core/tools/netLinks';
import { formatIp } from '../../core/net/ipv4';
import { linkTabs, linksView, type LinkBus } from './netLink';
import { ensureBundleSync } from '../../node/testBundle';
import { nodeVcpuHost } from '../../node/vcpuHost';

/** Channels by name; each post reaches the other members on a macrotask. */
function busWorld(): (name: string) => LinkBus {
  const members = new Map<string, Set<LinkBus>>();
  return (name) => {
    const set = members.get(name) ?? new Set<LinkBus>();
    members.set(name, set);
    const me: LinkBus = {
      onmessage: null,
      postMessage(msg) {
        const copy = msg instanceof Uint8Array ? msg.slice() : msg; // structured clone
        for (const m of set) if (m !== me) setTimeout(() => m.onmessage?.({ data: copy }), 0);
      },
      close: () => void set.delete(me),
    };
    set.add(me);
    return me;
  };
}

const settle = async (n = 10): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 1));
};

describe('links between tabs (BroadcastChannel hub)', () => {
  it('three tabs join one after the other: slots 1, 2, 3, and their Domain-0s ping each other', async () => {
    const hvs = [0, 1, 2].map(() => new Hypervisor({ memoryMiB: 16, pcpus: 1, host: nodeVcpuHost(ensureBundleSync()) }));
    try {
      const nets = hvs.map((hv) => new Toolstack(hv, { readFile: () => new Uint8Array(0) }).nets);
      const open = busWorld();
      const links = [];
      for (const n of nets) {
        links.push(linkTabs(linksOfNets(n), 'xenbr0', open));
        await settle();
      }
      expect(nets.map((n) => formatIp(n.dom0.ip))).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
      expect(links.map((l) => l.state)).toEqual(['up', 'up', 'up']);
      expect(
        linksView(linksOfNets(nets[0]!))
          .links[0]!.peers.map((p) => p.slot)
          .sort(),
      ).toEqual([2, 3]);
      expect((await nets[2]!.dom0.ping(nets[0]!.dom0.ip, 56, 2000)).rttMs).toBeDefined();
      expect((await nets[0]!.dom0.ping(nets[1]!.dom0.ip, 56, 2000)).rttMs).toBeDefined();
      // Only the tab the echo was for answered it: the third saw the request flooded (unknown MAC at first) or nothing.
      expect(nets[1]!.dom0.counters.echoReplies).toBe(1);

      // Something another page posts on the channel that is not a PDU: counted, nothing else.
      const stray = open('hyperlab-link-xenbr0');
      stray.postMessage('hello?');
      stray.postMessage(new Uint8Array([1, 2, 3]));
      await settle();
      expect(links[0]!.counters.bad.short).toBe(2);
      expect(() => linkTabs(linksOfNets(nets[0]!), 'xenbr0', open)).toThrow(/linked to the other tabs already/);

      // A tab leaves: its BYE makes the others forget it.
      links[2]!.close('unlinked');
      await settle();
      expect([...links[0]!.peers.values()].map((p) => p.slot)).toEqual([2]);
      expect((await nets[0]!.dom0.ping(nets[2]!.dom0.ip, 56, 200)).rttMs).toBeUndefined();
    } finally {
      for (const hv of hvs) hv.shutdownHost();
    }
  });
});
