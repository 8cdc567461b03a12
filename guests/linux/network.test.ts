/**
 * Linux on the network (docs/linux.md "The network", docs/network.md "Linux guests"): two
 * hvm Linux domains, Linux 6.1 with the MMU and Linux 6.12 without, each with a virtio-net
 * vif on xenbr0, one configured by the kernel from a static `ip=`, the other by DHCP from
 * Domain-0, and a pv teaching OS beside them, under one hypervisor in Node (booted once,
 * shared by every case). They ping each other and Domain-0 (and Domain-0 them), move a
 * 256 KiB file over TCP with nc and compare its cksum, fetch a page from httpd with wget,
 * exchange UDP with nc -u, and show their addresses, routes and /proc/net/dev.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBundleSync } from '../../src/node/testBundle';
import { parseNcStats, parseRtts, parseUdpperf, percentile } from '../../bench/net';
import { NetLab, linuxNetConfig, staticIp, teachingOsNetConfig } from './netSession';

const MMU = 'lin1'; // Linux 6.1, 10.0.0.11 by ip=, static
const NOMMU = 'lin2'; // Linux 6.12, 10.0.0.12 by ip=dhcp (the vif's ip= reserves it)
const TOS = 'tos'; // the pv teaching OS, 10.0.0.50 by its own DHCP

const text = (lines: string[]): string => lines.join('\n');

describe('Linux guests on xenbr0', () => {
  let lab: NetLab;

  beforeAll(async () => {
    lab = new NetLab(ensureBundleSync());
    lab.create(linuxNetConfig(MMU, 'mmu', 'mac=00:16:3e:00:02:11', staticIp('10.0.0.11')));
    lab.create(linuxNetConfig(NOMMU, 'nommu', 'mac=00:16:3e:00:02:12, ip=10.0.0.12', 'ip=dhcp'));
    lab.create(teachingOsNetConfig(TOS, 'mac=00:16:3e:00:02:50, ip=10.0.0.50'));
    lab.setPrompt(TOS, `${TOS}$ `);
    await Promise.all([lab.nextPrompt(MMU, 400_000), lab.nextPrompt(NOMMU, 400_000), lab.nextPrompt(TOS, 400_000)]);
  }, 420_000);
  afterAll(() => lab?.close());

  it('the kernel configured eth0 from ip= (static and DHCP); ip, ifconfig and /proc/net/dev show it', async () => {
    expect(lab.console(MMU)).toContain('IP-Config: Complete:');
    expect(lab.console(NOMMU)).toMatch(/IP-Config: Got DHCP answer from 10\.0\.0\.1, my address is 10\.0\.0\.12/);
    // the link's operstate (IFF_RUNNING, LOWER_UP) follows the carrier a moment later (linkwatch)
    for (const n of [MMU, NOMMU]) await lab.run(n, 'while ! grep up /sys/class/net/eth0/operstate > /dev/null; do sleep 0.1; done');
    const addr = text(await lab.run(MMU, 'ip addr'));
    expect(addr).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 state UP$/m);
    expect(addr).toMatch(/^2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP$/m);
    expect(addr).toContain('    link/ether 00:16:3e:00:02:11 brd ff:ff:ff:ff:ff:ff');
    expect(addr).toContain('    inet 10.0.0.11/24 brd 10.0.0.255 scope global eth0');
    expect(addr).toContain('    inet 127.0.0.1/8 scope host lo');
    expect(await lab.run(NOMMU, 'ip route')).toEqual(['default via 10.0.0.1 dev eth0', '10.0.0.0/24 dev eth0 scope link']);
    const ifc = text(await lab.run(NOMMU, 'ifconfig eth0'));
    expect(ifc).toMatch(/^eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST> {2}mtu 1500$/m);
    expect(ifc).toContain('        inet 10.0.0.12  netmask 255.255.255.0  broadcast 10.0.0.255');
    expect(ifc).toContain('        ether 00:16:3e:00:02:12  (Ethernet)');
    const dev = await lab.run(MMU, 'cat /proc/net/dev');
    expect(dev[0]).toMatch(/^Inter-\|\s+Receive/);
    expect(dev.find((l) => /^\s*eth0:/.test(l))).toMatch(/^\s*eth0:\s+\d+\s+\d+/);
    // bad input: one line, no crash
    expect(await lab.run(MMU, 'ip addr add 10.0.0.300/24 dev eth0; echo $?')).toEqual(['ip: addr: bad address', '1']);
    expect(await lab.run(MMU, 'ifconfig nosuch 10.0.0.9; echo $?')).toEqual(['ifconfig: nosuch: No such device', '1']);
  }, 240_000);

  it('the two Linux domains ping each other and Domain-0, and Domain-0 pings both', async () => {
    const a = text(await lab.run(MMU, 'ping -c 3 -i 0.2 10.0.0.12'));
    expect(a).toContain('PING 10.0.0.12 (10.0.0.12) 56(84) bytes of data.');
    expect(a).toMatch(/^64 bytes from 10\.0\.0\.12: icmp_seq=1 ttl=64 time=\d+\.\d{3} ms$/m);
    expect(a).toContain('3 packets transmitted, 3 received, 0% packet loss');
    expect(a).toMatch(/^rtt min\/avg\/max\/mdev = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms$/m);
    expect(text(await lab.run(NOMMU, 'ping -c 2 -i 0.2 10.0.0.11'))).toContain('2 packets transmitted, 2 received, 0% packet loss');
    expect(text(await lab.run(NOMMU, 'ping -c 2 -i 0.2 10.0.0.1'))).toContain('2 packets transmitted, 2 received, 0% packet loss');
    for (const ip of ['10.0.0.11', '10.0.0.12']) {
      const r = await lab.xl('ping', '-c', '2', '-i', '0.2', ip);
      expect(r.out).toContain('2 packets transmitted, 2 received, 0% packet loss');
    }
    // ^C ends a ping without -c, with the statistics
    const mark = lab.type(NOMMU, 'ping -i 0.2 10.0.0.1');
    await lab.waitText(NOMMU, 'icmp_seq=2 ', mark);
    lab.hv.consoleInput(lab.domain(NOMMU)!.domid, Uint8Array.of(3));
    await lab.nextPrompt(NOMMU);
    expect(lab.console(NOMMU).slice(mark)).toMatch(/\n--- 10\.0\.0\.1 ping statistics ---\r?\n\d+ packets transmitted, \d+ received, /);
    // nobody at .99: every request lost, status 1
    expect(await lab.run(MMU, 'ping -c 1 -W 1 10.0.0.99 > /dev/null; echo $?')).toEqual(['1']);
  }, 240_000);

  it('nc moves a 256 KiB file over TCP from one Linux to the other, and the cksums agree', async () => {
    const sent = await lab.run(MMU, 'dd if=/dev/urandom of=/tmp/f bs=1k count=256 2>/dev/null; cksum /tmp/f');
    expect(sent[0]).toMatch(/^\d+ 262144 \/tmp\/f$/);
    // the listener in the foreground on lin2; the client retries until it listens
    await lab.runBoth(NOMMU, 'nc -l 5000 < /dev/null > /tmp/g', MMU, 'while true; do nc 10.0.0.12 5000 < /tmp/f 2>/dev/null && break; sleep 0.2; done');
    const got = await lab.run(NOMMU, 'cksum /tmp/g');
    expect(got[0]).toBe((sent[0] ?? '').replace('/tmp/f', '/tmp/g'));
  }, 300_000);

  it('wget fetches pages from httpd on the other Linux; a missing page is a 404', async () => {
    await lab.run(MMU, 'httpd -p 8080 &');
    const w = await lab.run(NOMMU, 'while true; do wget -q -O /tmp/i.html http://10.0.0.11:8080/ 2>/dev/null && break; sleep 0.2; done; cat /tmp/i.html');
    expect(text(w)).toContain('<h1>It works</h1>');
    expect(await lab.run(NOMMU, 'cksum < /tmp/i.html')).toEqual(await lab.run(MMU, 'cksum < /www/index.html'));
    expect(await lab.run(NOMMU, 'wget -O - http://10.0.0.11:8080/nope; echo $?')).toEqual(['wget: server returned error: HTTP/1.0 404 Not Found', '1']);
    expect(await lab.run(NOMMU, 'wget -O - http://10.0.0.11:8080/../etc/motd; echo $?')).toEqual(['wget: server returned error: HTTP/1.0 403 Forbidden', '1']);
    // requests that are not HTTP get one status line each, and httpd serves on
    expect((await lab.run(NOMMU, 'echo garbage | nc 10.0.0.11 8080'))[0]).toBe('HTTP/1.0 400 Bad Request\r');
    expect((await lab.run(NOMMU, "echo -e 'DELETE / HTTP/1.0\\n' | nc 10.0.0.11 8080"))[0]).toBe('HTTP/1.0 501 Not Implemented\r');
    expect((await lab.run(NOMMU, "echo -e 'HEAD /index.html HTTP/1.0\\r\\n\\r' | nc 10.0.0.11 8080")).slice(0, 4)).toEqual([
      'HTTP/1.0 200 OK\r',
      'Server: hyperlab-httpd\r',
      'Content-Type: text/html\r',
      'Content-Length: 146\r',
    ]);
    expect(await lab.run(NOMMU, 'while ! wget -q -O - http://10.0.0.11:8080/ > /dev/null; do sleep 1; done; echo again')).toEqual(['again']);
  }, 240_000);

  it('nc -u carries datagrams both ways', async () => {
    const [listener, client] = await lab.runBoth(
      NOMMU,
      'echo pong | nc -l -u -w 2 6000',
      MMU,
      'i=0; while [ $i -lt 30 ]; do echo ping$i | nc -u -w 1 10.0.0.12 6000 && break; sleep 0.2; i=$((i + 1)); done',
    );
    expect(listener[0]).toMatch(/^ping\d+$/);
    expect(client).toContain('pong');
  }, 240_000);

  it('a Linux domain and a pv teaching OS ping each other', async () => {
    expect(text(await lab.run(TOS, 'ifconfig dhcp'))).toMatch(/dhcp: eth0 leased 10\.0\.0\.50\/24/);
    expect(text(await lab.run(TOS, 'ping 10.0.0.12 2'))).toContain('2 packets transmitted, 2 received, 0% packet loss');
    expect(text(await lab.run(MMU, 'ping -c 2 -i 0.2 10.0.0.50'))).toContain('2 packets transmitted, 2 received, 0% packet loss');
  }, 240_000);
  it('ip and ifconfig set routes and addresses by hand (last: it renumbers lin1 and back)', async () => {
    expect(await lab.run(MMU, 'ip route del default; ip route')).toEqual(['10.0.0.0/24 dev eth0 scope link']);
    expect(await lab.run(MMU, 'ip route add default via 10.0.0.1 dev eth0; ip route')).toEqual([
      'default via 10.0.0.1 dev eth0',
      '10.0.0.0/24 dev eth0 scope link',
    ]);
    expect(await lab.run(MMU, 'ip route add default via 10.0.0.1; echo $?')).toEqual(['ip: route: File exists', '1']);
    expect(await lab.run(MMU, 'ip route add 10.0.0.0/33 dev eth0; echo $?')).toEqual(['ip: route: bad destination', '1']);
    await lab.run(MMU, 'ifconfig eth0 10.0.0.21/24');
    expect(text(await lab.run(MMU, 'ifconfig eth0'))).toContain('inet 10.0.0.21  netmask 255.255.255.0  broadcast 10.0.0.255');
    expect(text(await lab.run(NOMMU, 'ping -c 1 10.0.0.21'))).toContain('1 packets transmitted, 1 received, 0% packet loss');
    await lab.run(MMU, 'ip addr add 10.0.0.11/24 dev eth0; ip route add default via 10.0.0.1 2>/dev/null');
    expect(text(await lab.run(MMU, 'ip addr show eth0'))).toContain('    inet 10.0.0.11/24 brd 10.0.0.255 scope global eth0');
    expect(await lab.run(MMU, 'ip route')).toEqual(['default via 10.0.0.1 dev eth0', '10.0.0.0/24 dev eth0 scope link']);
    expect(text(await lab.run(NOMMU, 'ping -c 1 10.0.0.11'))).toContain('1 packets transmitted, 1 received, 0% packet loss');
  }, 240_000);
});

describe("the network bench's parsers (bench/net.ts)", () => {
  it('read ping, nc -v and udpperf lines as the guests print them', () => {
    expect(
      parseRtts([
        '64 bytes from 10.0.0.12: icmp_seq=1 ttl=64 time=1.904 ms',
        'Request timeout for icmp_seq 2',
        '64 bytes from 10.0.0.1: icmp_seq=3 ttl=64 time=12.5 ms\r',
      ]),
    ).toEqual([1.904, 12.5]);
    expect(parseNcStats(['nc: 67108864 bytes received, 0 sent in 5230 ms, 102 Mbit/s'])).toEqual({ bytes: 67108864, ms: 5230 });
    expect(parseNcStats(['nc: listening on 5001'])).toBeUndefined();
    expect(parseUdpperf(['udpperf: listening on 6001', 'received 19876 datagrams (1272064 bytes) in 3.412 s, 5825/s'])).toEqual({ n: 19876, seconds: 3.412 });
    expect(parseUdpperf(['sent 20000 datagrams in 1.020 s, 19607/s'])).toEqual({ n: 20000, seconds: 1.02 });
    expect(percentile([5, 1, 4, 2, 3], 99)).toBe(5);
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
  });
});
