/**
 * Lab 9: networking. A pv guest (netfront) pings an hvm guest (virtio-net) over Domain-0's
 * bridge xenbr0; Domain-0's tcpdump shows what crossed the bridge, ARP first.
 */
import { command, sleep, teachingOs } from './guest';
import type { LabDefinition } from './types';

const PV_IP = '10.0.0.11';
const HVM_IP = '10.0.0.12';

export const networking: LabDefinition = {
  id: 'networking',
  number: '9',
  title: 'Networking: a ping between a pv and an hvm guest',
  topic: 'networking',
  minutes: 10,
  goal: 'Before the first IP packet, the sender must learn the receiver’s MAC address with ARP; the bridge forwards frames, not IP packets.',
  context: `Both guests have a network interface on Domain-0's bridge **xenbr0**, a learning Ethernet switch (Xen's default network setup, \`xl-network-configuration(5)\`). The pv guest's interface is **netfront**, a split driver with rings and grants like a pv disk (\`xen/include/public/io/netif.h\`); the hvm guest's is an emulated **virtio-net** device (virtio spec 1.x, section 5.1). Both end up as ports of the same bridge.

The pv guest gets address ${PV_IP}, the hvm guest ${HVM_IP} (\`ifconfig A.B.C.D/24\`). Then the pv guest runs \`ping ${HVM_IP} 2\`: two ICMP echo requests (RFC 792). Meanwhile Domain-0 runs \`tcpdump -i xenbr0\` and prints one line per frame that crosses the bridge.`,
  prediction: {
    kind: 'choice',
    question: 'What is the first frame that crosses the bridge?',
    options: [
      { id: 'icmp', label: 'The first ICMP echo request, addressed to the hvm guest' },
      { id: 'arp', label: 'An ARP request, broadcast: who has the hvm guest’s address?' },
      { id: 'dhcp', label: 'A DHCP request for an address' },
    ],
  },
  params: [{ id: 'count', label: 'Echo requests', kind: 'number', default: 2, min: 1, max: 5, step: 1 }],
  instrument: 'graphs',
  async run(api, params, report) {
    const count = Number(params['count']);
    report.step('creating a pv and an hvm domain of the teaching OS, each with a vif on xenbr0');
    const pv = await teachingOs(api, 'pv', 'net-pv', [`vif = [ 'bridge=xenbr0' ]`]);
    const hvm = await teachingOs(api, 'hvm', 'net-hvm', [`vif = [ 'bridge=xenbr0' ]`]);
    report.domains([pv, hvm]);
    report.show('graphs');
    report.step(`ifconfig ${PV_IP}/24 in the pv guest, ${HVM_IP}/24 in the hvm guest`);
    await command(api, pv, `ifconfig ${PV_IP}/24`);
    await command(api, hvm, `ifconfig ${HVM_IP}/24`);
    report.step(`Domain-0: tcpdump -i xenbr0; the pv guest: ping ${HVM_IP} ${count}`);
    const frames = 2 + 2 * count;
    const dump = api.xl(`tcpdump -i xenbr0 -c ${frames + 4} -t ${count + 3}`);
    await sleep(200); // the capture is set up by the time the ping's line arrives
    const out = await command(api, pv, `ping ${HVM_IP} ${count}`, /packet loss[^]*\$ /, 60_000);
    const lines = (await dump)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /ARP|ICMP|IP /.test(l));
    report.measure('frames', lines.length);
    const received = Number(/(\d+) received/.exec(out)?.[1] ?? 0);
    const first = lines[0] ?? '';
    return {
      first,
      firstKind: /ARP, Request/.test(first) ? 'arp' : /ICMP echo request/.test(first) ? 'icmp' : /bootp|DHCP/i.test(first) ? 'dhcp' : 'other',
      arpRequests: lines.filter((l) => l.includes(`ARP, Request who-has ${HVM_IP}`)).length,
      arpReplies: lines.filter((l) => l.includes(`ARP, Reply ${HVM_IP} is-at`)).length,
      echoRequests: lines.filter((l) => l.includes('ICMP echo request')).length,
      echoReplies: lines.filter((l) => l.includes('ICMP echo reply')).length,
      received,
      count,
      capture: lines.slice(0, 8).join('\n'),
    };
  },
  observe: [
    { key: 'first', label: 'first frame on xenbr0' },
    { key: 'arpRequests', label: `ARP requests for ${HVM_IP}` },
    { key: 'arpReplies', label: 'ARP replies' },
    { key: 'echoRequests', label: 'ICMP echo requests' },
    { key: 'echoReplies', label: 'ICMP echo replies' },
    { key: 'received', label: 'replies the ping counted' },
    { key: 'capture', label: 'tcpdump (first lines)' },
  ],
  answer: (obs) => String(obs['firstKind']),
  checks: (obs) => [
    { label: 'the first frame is an ARP request for the hvm guest’s address', ok: obs['firstKind'] === 'arp' && Number(obs['arpRequests']) >= 1 },
    { label: 'the hvm guest answers it (ARP reply)', ok: Number(obs['arpReplies']) >= 1 },
    {
      label: 'then every echo request is answered',
      ok: Number(obs['received']) === Number(obs['count']) && Number(obs['echoReplies']) >= Number(obs['count']),
    },
  ],
  explain: `IP addresses mean nothing to an Ethernet bridge: it forwards frames by MAC address. So the pv guest's stack, with ${HVM_IP} on its own subnet and nothing in its ARP cache, first **broadcasts an ARP request** (RFC 826: "who has ${HVM_IP}? tell ${PV_IP}"). The bridge floods the broadcast to every port; the hvm guest's virtio-net driver receives it and its stack answers with an **ARP reply** carrying its MAC. The bridge has learned both MACs by now, and the echo requests and replies go port to port.

Neither guest knows the other's kind: one driver is a Xen split driver, the other an emulated PCI-less virtio device, and both are just ports of xenbr0.`,
  tryNext: `Send more echo requests: ARP happens once, then the cache answers (the guest's \`arp\` command lists it).`,
};
