/**
 * Networking in the browser: two pv teaching OS domains on xenbr0 (the networked presets)
 * get addresses from Domain-0's DHCP server and ping each other and Domain-0; Domain-0's
 * ping prints its lines as they come; the counters, the packet list and the graphs move;
 * captures (window.hyperlab.net, the Capture button, `xl network-capture` into OPFS
 * captures/) are pcap files with the ICMP frames in them, which `tcpdump -r` reads where
 * it is installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';
import { labTest as test, openInsights, typeLine } from './lab';

/** Create a networked preset, wait for its prompt and its DHCP lease; resolves with its domid. */
async function netGuest(page: Page, preset: string, ip: string): Promise<number> {
  const id = await page.evaluate((p) => window.hyperlab!.create(p), preset);
  await page.evaluate((id) => window.hyperlab!.waitForText(id, '$ ', 40_000), id);
  await typeLine(page, id, 'ifconfig dhcp');
  await page.evaluate(([id, ip]) => window.hyperlab!.waitForText(id, `dhcp: eth0 leased ${ip}/24`, 20_000), [id, ip] as const);
  return id;
}

/** The frames of a classic pcap file (little-endian, as the lab writes it), checked as a reader would. */
function pcapFrames(bytes: Uint8Array): Uint8Array[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(v.getUint32(0, true)).toBe(0xa1b2c3d4);
  expect([v.getUint16(4, true), v.getUint16(6, true)]).toEqual([2, 4]);
  expect(v.getUint32(20, true)).toBe(1); // LINKTYPE_ETHERNET
  const frames: Uint8Array[] = [];
  for (let o = 24; o < bytes.length;) {
    const cap = v.getUint32(o + 8, true);
    frames.push(bytes.subarray(o + 16, o + 16 + cap));
    o += 16 + cap;
  }
  return frames;
}

/** ICMP echo requests and replies among the frames (ethertype IPv4, protocol 1, type 8 or 0). */
function icmpEchoes(frames: readonly Uint8Array[]): { requests: number; replies: number } {
  let requests = 0;
  let replies = 0;
  for (const f of frames) {
    if (f.length < 42 || f[12] !== 0x08 || f[13] !== 0x00 || f[23] !== 1) continue;
    const type = f[14 + (f[14]! & 15) * 4];
    if (type === 8) requests++;
    if (type === 0) replies++;
  }
  return { requests, replies };
}

/** `tcpdump -r` of the bytes, where tcpdump is installed (CI installs it); null without it. */
function tcpdumpRead(bytes: Uint8Array): string | null {
  const probe = spawnSync('tcpdump', ['--version'], { stdio: 'ignore' });
  if (probe.error !== undefined || probe.status !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), 'hyperlab-e2e-net-'));
  try {
    writeFileSync(join(dir, 'c.pcap'), bytes);
    const r = spawnSync('tcpdump', ['-n', '-r', join(dir, 'c.pcap')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('two pv guests ping each other and Domain-0; counters, packet list and a capture of the vif', async ({ lab }) => {
  test.setTimeout(60_000);
  const a = await netGuest(lab, 'teaching-os-pv-net1', '10.0.0.11');
  const b = await netGuest(lab, 'teaching-os-pv-net2', '10.0.0.12');
  const vif = `vif${a}.0`;
  expect(await lab.evaluate(() => window.hyperlab!.net.interfaces())).toEqual(expect.arrayContaining(['xenbr0', vif, `vif${b}.0`]));

  const before = await lab.evaluate((v) => window.hyperlab!.net.counters(v), vif);
  const capture = await lab.evaluate((v) => window.hyperlab!.net.captureStart(v), vif);
  const first = await lab.evaluate((v) => window.hyperlab!.net.packets(v, 0), vif);

  await typeLine(lab, a, 'ping 10.0.0.12 3');
  await lab.evaluate((id) => window.hyperlab!.waitForText(id, '3 packets transmitted, 3 received', 20_000), a);
  const fromDom0 = await lab.evaluate(() => window.hyperlab!.xl('ping -c 2 -i 0.2 10.0.0.11'));
  expect(fromDom0).toContain('2 packets transmitted, 2 received, 0% packet loss');

  const after = await lab.evaluate((v) => window.hyperlab!.net.counters(v), vif);
  expect(after.rxFrames - before.rxFrames).toBeGreaterThanOrEqual(5); // 3 requests and 2 replies from the guest
  expect(after.txFrames - before.txFrames).toBeGreaterThanOrEqual(5);

  const list = await lab.evaluate(([v, n]) => window.hyperlab!.net.packets(v, n), [vif, first.next] as const);
  const infos = list.packets.map((p) => p.info);
  expect(infos.some((i) => /^IP 10\.0\.0\.11 > 10\.0\.0\.12: ICMP echo request, id \d+, seq 1, length 64$/.test(i))).toBe(true);
  expect(list.packets.filter((p) => p.protocol === 'ICMP' && p.dir === 'in').length).toBeGreaterThanOrEqual(5);
  expect(list.packets.some((p) => p.info.startsWith('IP 10.0.0.1 > 10.0.0.11: ICMP echo request'))).toBe(true);

  const bytes = new Uint8Array(await lab.evaluate((id) => window.hyperlab!.net.captureStop(id).then((b) => Array.from(b)), capture.id));
  const echoes = icmpEchoes(pcapFrames(bytes));
  expect(echoes.requests).toBeGreaterThanOrEqual(5); // 3 sent by the guest, 2 from Domain-0
  expect(echoes.replies).toBeGreaterThanOrEqual(5);
  const dump = tcpdumpRead(bytes);
  if (dump !== null) expect(dump.match(/ICMP echo request/g)?.length ?? 0).toBe(echoes.requests);
});

test('the Network tab: interface rows, the packet list, the Capture button downloads a pcap, the graphs', async ({ lab }) => {
  test.setTimeout(60_000);
  const a = await netGuest(lab, 'teaching-os-pv-net1', '10.0.0.11');
  const vif = `vif${a}.0`;
  const panel = lab.getByTestId('insights-tab-network');
  await panel.click();
  await expect(lab.getByTestId('net-panel')).toBeVisible();
  const row = lab.getByTestId(`net-iface-${vif}`);
  await expect(row).toBeVisible();

  await lab.getByTestId(`net-packets-${vif}`).click();
  await expect(lab.getByTestId('packet-list')).toHaveAttribute('data-iface', vif);
  await lab.getByTestId(`net-capture-${vif}`).click();
  await expect(lab.getByTestId(`net-capture-${vif}`)).toHaveAttribute('data-capturing', 'true');

  await typeLine(lab, a, 'ping 10.0.0.1 3');
  await lab.evaluate((id) => window.hyperlab!.waitForText(id, '3 packets transmitted, 3 received', 20_000), a);
  await expect(lab.locator('[data-testid^="packet-row-"][data-protocol="ICMP"]')).toHaveCount(6, { timeout: 10_000 });
  await expect(lab.locator('[data-testid^="packet-row-"][data-dir="in"][data-protocol="ICMP"]').first()).toHaveAttribute(
    'data-info',
    /^IP 10\.0\.0\.11 > 10\.0\.0\.1: ICMP echo request, id \d+, seq 1, length 64$/,
  );
  await lab.getByTestId('packet-filter').fill('echo reply');
  await expect(lab.locator('[data-testid^="packet-row-"]')).toHaveCount(3);
  await expect(lab.getByTestId('packet-shown')).toHaveText(/^3 of \d+$/);
  await lab.getByTestId('packet-filter').fill('');
  await expect.poll(async () => Number(await row.getAttribute('data-rx-frames'))).toBeGreaterThanOrEqual(3);
  // The bridge view: the vif's port and what the bridge learned from it
  await expect(lab.getByTestId(`bridge-port-${vif}`)).toBeVisible();
  const mac = await lab.evaluate(async (v) => (await window.hyperlab!.net.view()).bridges[0]!.ports.find((p) => p.name === v)!.mac!, vif);
  await expect(lab.getByTestId(`fdb-row-${mac}`)).toHaveAttribute('data-port', vif);

  const download = lab.waitForEvent('download');
  await lab.getByTestId(`net-capture-${vif}`).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(new RegExp(`^${vif.replace('.', '\\.')}-\\d{8}T\\d{6}\\.pcap$`));
  const bytes = new Uint8Array(readFileSync(await file.path()));
  const frames = pcapFrames(bytes);
  expect(icmpEchoes(frames)).toEqual({ requests: 3, replies: 3 });
  await expect(lab.getByTestId('net-message')).toContainText(`: ${frames.length} frames, ${bytes.length} bytes`);

  // The graphs: the vif's line in the frames/s graph rose above zero
  await openInsights(lab, 'graphs');
  await expect.poll(async () => Number(await lab.getByTestId(`graph-net-frames-${vif}`).getAttribute('data-max')), { timeout: 10_000 }).toBeGreaterThan(0);
});

test("Domain-0's ping prints as it goes; xl network-capture writes OPFS captures/, listed in the Network tab", async ({ lab }) => {
  test.setTimeout(60_000);
  await netGuest(lab, 'teaching-os-pv-net1', '10.0.0.11');
  const capture = lab.evaluate(() => window.hyperlab!.xl('xl network-capture -t 5 xenbr0 e2e-ping.pcap'));
  const mark = await lab.evaluate(() => window.hyperlab!.consoleText(0).length);
  await lab.evaluate(() => window.hyperlab!.sendInput(0, 'ping -c 2 -i 2 10.0.0.11\r'));
  // The first reply is on Domain-0's console while the command still runs (looked at in the page, every 20 ms).
  const seen = await lab.evaluate(async (m) => {
    for (let i = 0; i < 500; i++) {
      const t = window.hyperlab!.consoleText(0).slice(m);
      if (t.includes('icmp_seq=1 ')) return t;
      await new Promise((r) => setTimeout(r, 20));
    }
    return 'never';
  }, mark);
  expect(seen).toContain('64 bytes from 10.0.0.11: icmp_seq=1 ');
  expect(seen).not.toContain('ping statistics');
  await lab.evaluate(() => window.hyperlab!.waitForText(0, '2 packets transmitted, 2 received', 10_000));
  expect(await capture).toMatch(/^\d+ frames captured on xenbr0 to e2e-ping\.pcap \(\d+ bytes, pcap\)\nsaved as captures\/e2e-ping\.pcap$/);
  const bytes = new Uint8Array(await lab.evaluate(() => window.hyperlab!.net.file('e2e-ping.pcap').then((b) => Array.from(b))));
  expect(icmpEchoes(pcapFrames(bytes))).toEqual({ requests: 2, replies: 2 });
  expect(await lab.evaluate(() => window.hyperlab!.xl('ls'))).toMatch(/^captures\/e2e-ping\.pcap\s+\d+$/m);
  await lab.getByTestId('insights-tab-network').click();
  await expect(lab.getByTestId('net-file-e2e-ping.pcap')).toHaveAttribute('data-size', String(bytes.length));
  await lab.evaluate(() => window.hyperlab!.net.removeFile('e2e-ping.pcap'));
});

test('a pv and an hvm teaching OS (netfront and virtio-net) ping each other through xenbr0', async ({ lab }) => {
  test.setTimeout(60_000);
  const pv = await netGuest(lab, 'teaching-os-pv-net1', '10.0.0.11');
  const hvm = await netGuest(lab, 'teaching-os-hvm-net', '10.0.0.21');
  await typeLine(lab, pv, 'ping 10.0.0.21 2');
  await lab.evaluate((id) => window.hyperlab!.waitForText(id, '2 packets transmitted, 2 received', 20_000), pv);
  await typeLine(lab, hvm, 'ping 10.0.0.11 2');
  await lab.evaluate((id) => window.hyperlab!.waitForText(id, '2 packets transmitted, 2 received', 20_000), hvm);
  // the hvm guest's interface is the bridge port vifD.0-emu (Xen's name for an emulated NIC)
  const c = await lab.evaluate((v) => window.hyperlab!.net.counters(v), `vif${hvm}.0-emu`);
  expect(c.rxFrames).toBeGreaterThanOrEqual(4);
  expect(c.txFrames).toBeGreaterThanOrEqual(4);
  const view = await lab.evaluate(() => window.hyperlab!.net.view());
  expect(view.bridges[0]!.ports.find((p) => p.name === `vif${hvm}.0-emu`)).toMatchObject({ kind: 'vif', domid: hvm, devid: 0 });
});

test('an hvm Linux (virtio-net, ip=dhcp) and a pv teaching OS ping each other; Domain-0 pings Linux', async ({ lab }) => {
  test.setTimeout(90_000);
  const tos = await netGuest(lab, 'teaching-os-pv-net1', '10.0.0.11');
  const linux = await lab.evaluate(() => window.hyperlab!.create('linux-6.12-net'));
  const boot = await lab.evaluate((id) => window.hyperlab!.waitForText(id, 'hyperlab# ', 60_000), linux);
  expect(boot).toMatch(/IP-Config: Complete:[\s\S]*addr=10\.0\.0\.32/);
  await typeLine(lab, linux, 'ping -c 2 10.0.0.11');
  await lab.evaluate((id) => window.hyperlab!.waitForText(id, '2 packets transmitted, 2 received', 20_000), linux);
  await typeLine(lab, tos, 'ping 10.0.0.32 2');
  await lab.evaluate((id) => window.hyperlab!.waitForText(id, '2 packets transmitted, 2 received', 20_000), tos);
  expect(await lab.evaluate(() => window.hyperlab!.xl('ping -c 2 -i 0.2 -W 3 10.0.0.32'))).toContain('2 packets transmitted, 2 received, 0% packet loss');
  expect((await lab.evaluate((v) => window.hyperlab!.net.counters(v), `vif${linux}.0-emu`)).rxFrames).toBeGreaterThanOrEqual(4);
});
