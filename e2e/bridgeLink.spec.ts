/**
 * Links between bridges in the browser (docs/network.md, "Links between hosts"), and two
 * Linux guests talking TCP and HTTP:
 * - two tabs of one origin, xenbr0 linked over BroadcastChannel (the Network tab's switch in
 *   one, window.hyperlab.net.link() in the other): a pv teaching OS in each pings the other,
 *   the second tab's Domain-0 moved to 10.0.0.2, Domain-0 of the first pings the guest of the
 *   second, the link ports count;
 * - a page linked to a Node host (`hyperlab host --listen-ws`) over WebSocket: the page's pv
 *   teaching OS and Domain-0 reach the Node host's Domain-0, which pings them back;
 * - two hvm Linux 6.12 guests (virtio-net, ip=dhcp) in one page: a file over TCP with `nc`
 *   whose cksum matches, and `wget` of the other's httpd page.
 */
import { spawn } from 'node:child_process';
import { expect, test, type Page } from '@playwright/test';
import { labTest, openLab, typeLine } from './lab';

async function netGuest(page: Page, preset: string, ip: string): Promise<number> {
  const id = await page.evaluate((p) => window.hyperlab!.create(p), preset);
  await page.evaluate((id) => window.hyperlab!.waitForText(id, '$ ', 60_000), id);
  await typeLine(page, id, 'ifconfig dhcp');
  await page.evaluate(([id, ip]) => window.hyperlab!.waitForText(id, `dhcp: eth0 leased ${ip}/24`, 30_000), [id, ip] as const);
  return id;
}

test('two tabs with xenbr0 linked over BroadcastChannel: a pv teaching OS in each pings the other', async ({ browser }) => {
  test.setTimeout(240_000); // two pages (four vCPU workers and two hypervisor workers) on a loaded machine
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  try {
    const a = await context.newPage();
    const b = await context.newPage();
    await openLab(a, '?boot=');
    await openLab(b, '?boot=');

    // Tab A: the switch in the Network tab; alone on the channel, its link waits.
    await a.getByTestId('insights-tab-network').click();
    // A controlled switch: it shows the link once the worker made it.
    await a.getByTestId('net-link-tabs').click();
    await expect(a.getByTestId('net-link-tabs')).toBeChecked();
    await expect(a.getByTestId('net-link-link0')).toHaveAttribute('data-state', 'connecting');
    // Tab B joins with window.hyperlab.net.link(): slot 1 is taken, its Domain-0 moves to 10.0.0.2.
    const row = await b.evaluate(() => window.hyperlab!.net.link());
    expect(row).toMatchObject({ name: 'link0', bridge: 'xenbr0', remote: 'BroadcastChannel hyperlab-link-xenbr0' });
    await expect(a.getByTestId('net-link-link0')).toHaveAttribute('data-state', 'up');
    await expect.poll(() => b.evaluate(async () => (await window.hyperlab!.net.view()).dom0.ip)).toBe('10.0.0.2');
    expect((await a.evaluate(() => window.hyperlab!.net.view())).dom0.ip).toBe('10.0.0.1');
    const lb = await b.evaluate(() => window.hyperlab!.net.links());
    expect(lb.slot).toBe(2);
    expect(lb.links[0]!.peers.map((p) => p.slot)).toEqual([1]);

    // A guest in each tab, each leased by its own tab's Domain-0 (the vifs' ip= reservations).
    const ga = await netGuest(a, 'teaching-os-pv-net1', '10.0.0.11');
    const gb = await netGuest(b, 'teaching-os-pv-net2', '10.0.0.12');
    await typeLine(a, ga, 'ping 10.0.0.12 3');
    await a.evaluate((id) => window.hyperlab!.waitForText(id, '3 packets transmitted, 3 received', 60_000), ga);
    await typeLine(b, gb, 'ping 10.0.0.11 2');
    await b.evaluate((id) => window.hyperlab!.waitForText(id, '2 packets transmitted, 2 received', 60_000), gb);
    // Domain-0 of tab A pings the guest of tab B, and tab B's Domain-0.
    expect(await a.evaluate(() => window.hyperlab!.xl('ping -c 2 -i 0.2 10.0.0.12'))).toContain('2 packets transmitted, 2 received, 0% packet loss');
    expect(await a.evaluate(() => window.hyperlab!.xl('ping -c 1 10.0.0.2'))).toContain('1 packets transmitted, 1 received');

    // The link ports count what crossed; the bridge learned tab B's guest behind link0.
    const la = (await a.evaluate(() => window.hyperlab!.net.links())).links[0]!;
    expect(la.counters.txFrames).toBeGreaterThanOrEqual(6);
    expect(la.counters.rxFrames).toBeGreaterThanOrEqual(6);
    expect(la.bad).toBe(0);
    const mac = await b.evaluate(async (v) => (await window.hyperlab!.net.view()).bridges[0]!.ports.find((p) => p.name === v)!.mac!, `vif${gb}.0`);
    const fdb = (await a.evaluate(() => window.hyperlab!.net.view())).bridges[0]!.fdb;
    expect(fdb.find((e) => e.mac === mac)?.port).toBe('link0');
    await expect(a.getByTestId('net-iface-link0')).toBeVisible();
    await a.getByTestId('net-links').screenshot({ path: test.info().outputPath('bridge-link-tabs.png') });

    // Unlinked from tab A's switch: the pings stop crossing.
    await a.getByTestId('net-link-tabs').click();
    await expect(a.getByTestId('net-link-tabs')).not.toBeChecked();
    await expect(a.getByTestId('net-link-rows')).toHaveCount(0);
    await typeLine(a, ga, 'ping 10.0.0.12 1');
    await a.evaluate((id) => window.hyperlab!.waitForText(id, '1 packets transmitted, 0 received', 60_000), ga);
  } finally {
    await context.close();
  }
});

test('a page linked to a Node host over WebSocket: the guest and Domain-0 of each side reach the other', async ({ page }) => {
  test.setTimeout(120_000);
  const host = spawn(process.execPath, ['bin/hyperlab.js', 'host', '--mem', '64M', '--pcpus', '1', '--listen-ws', '127.0.0.1:0'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '',
    err = '';
  host.stdout.on('data', (b: Buffer) => (out += b.toString()));
  host.stderr.on('data', (b: Buffer) => (err += b.toString()));
  try {
    await expect.poll(() => /on (ws:\/\/\S+)/.exec(err)?.[1], { timeout: 90_000 }).toBeTruthy();
    const url = /on (ws:\/\/\S+)/.exec(err)![1]!;
    await openLab(page, '?boot=');
    await page.getByTestId('insights-tab-network').click();
    await page.getByLabel("Node host's --listen-ws address").fill(url);
    await page.getByTestId('net-link-ws').click();
    await expect(page.getByTestId('net-link-link0')).toHaveAttribute('data-state', 'up');
    await expect.poll(() => out).toMatch(/a bridge link from 127\.0\.0\.1:\d+/);
    // The page joined: its Domain-0 is 10.0.0.2, the host's stays 10.0.0.1.
    expect((await page.evaluate(() => window.hyperlab!.net.view())).dom0.ip).toBe('10.0.0.2');
    const g = await netGuest(page, 'teaching-os-pv-net1', '10.0.0.11');
    await typeLine(page, g, 'ping 10.0.0.1 2');
    await page.evaluate((id) => window.hyperlab!.waitForText(id, '2 packets transmitted, 2 received', 30_000), g);
    expect(await page.evaluate(() => window.hyperlab!.xl('ping -c 1 10.0.0.1'))).toContain('1 packets transmitted, 1 received');
    // The Node host's Domain-0 pings the page's guest and Domain-0.
    host.stdin.write('ping -c 2 -i 0.2 10.0.0.11\nping -c 1 10.0.0.2\n');
    await expect.poll(() => out, { timeout: 30_000 }).toMatch(/--- 10\.0\.0\.2 ping statistics ---\n1 packets transmitted, 1 received/);
    expect(out).toContain('2 packets transmitted, 2 received, 0% packet loss');
  } finally {
    host.kill('SIGKILL');
  }
});

labTest('two hvm Linux 6.12 guests in one page: a file over TCP with nc (cksums agree) and wget of the other’s httpd page', async ({ lab }) => {
  test.setTimeout(240_000);
  const t0 = Date.now();
  const one = await lab.evaluate(() => window.hyperlab!.create('linux-6.12-net'));
  // The second: the same preset's config with its own name and address.
  const cfg = await lab.evaluate(() => window.hyperlab!.xl('cat /etc/xen/linux-6.12-net.cfg'));
  expect(cfg).toMatch(/^vif = /m);
  const config = cfg.replace(/^name = .*$/m, 'name = "lin2"').replace(/^vif = .*$/m, "vif = [ 'bridge=xenbr0, ip=10.0.0.33' ]");
  const two = await lab.evaluate((config) => window.hyperlab!.create({ config }), config);
  for (const [id, ip] of [
    [one, '10.0.0.32'],
    [two, '10.0.0.33'],
  ] as const) {
    const boot = await lab.evaluate((id) => window.hyperlab!.waitForText(id, 'hyperlab# ', 120_000), id);
    expect(boot).toMatch(new RegExp(`IP-Config: Complete:[\\s\\S]*addr=${ip.replace(/\./g, '\\.')}`));
  }
  const booted = Date.now() - t0;

  /** Run a shell line in a guest; resolves with what it printed up to the next prompt. */
  const sh = async (id: number, line: string, ms = 60_000): Promise<string> => {
    const mark = await lab.evaluate((id) => window.hyperlab!.consoleText(id).length, id);
    // The marker as printed (@@2done) is not the marker as typed, which the console echoes.
    await typeLine(lab, id, `${line}; echo @@$((1+1))done`);
    await lab.waitForFunction(([id, m]) => /@@2done\r?\n/.test(window.hyperlab!.consoleText(id).slice(m)), [id, mark] as const, { timeout: ms });
    const t = await lab.evaluate(([id, m]) => window.hyperlab!.consoleText(id).slice(m), [id, mark] as const);
    return t.replace(/\r/g, '').split('\n').slice(1).join('\n').split('@@2done')[0]!;
  };

  // nc: 64 KiB from the first to the second, and the cksums compared.
  const sent = (await sh(one, 'dd if=/dev/urandom of=/tmp/f bs=1k count=64 2>/dev/null; cksum /tmp/f')).trim();
  expect(sent).toMatch(/^\d+ 65536 \/tmp\/f$/m);
  await typeLine(lab, two, 'nc -l 5000 < /dev/null > /tmp/g; echo @@$((2+2))recv');
  await sh(one, 'while true; do nc 10.0.0.33 5000 < /tmp/f 2>/dev/null && break; sleep 0.2; done', 60_000);
  await lab.evaluate((id) => window.hyperlab!.waitForText(id, '@@4recv', 30_000), two);
  const got = (await sh(two, 'cksum /tmp/g')).trim();
  expect(got.split(' ').slice(0, 2)).toEqual(/^(\d+ \d+)/m.exec(sent)![1]!.split(' '));

  // httpd on the second, wget from the first: the page arrives whole.
  await sh(two, 'httpd -p 8080 &');
  const page = await sh(one, 'while true; do wget -q -O /tmp/i.html http://10.0.0.33:8080/ 2>/dev/null && break; sleep 0.2; done; cksum < /tmp/i.html');
  const served = await sh(two, 'cksum < /www/index.html');
  expect(page.trim()).toBe(served.trim());
  expect(page.trim()).toMatch(/^\d+ \d+$/);
  console.log(`two Linux 6.12 guests: booted in ${(booted / 1000).toFixed(1)} s, nc and wget done at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});
