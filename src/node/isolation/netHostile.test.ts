/**
 * Isolation of the network backends (issue 14): a hostile pv netfront (guests/hostile,
 * net.c) with real tx and rx rings to Domain-0's netback, filled for at least ten million
 * of its own instructions with what a broken or malicious frontend may send (wild
 * req_prod on either ring, slots of random bytes, runts, oversized and zero-length
 * packets, more than 18 slots, chains that never end, extra-info slots, offsets past the
 * page, grant refs it never made, made for another domain or read-only, its ring pages as
 * buffers), and a hostile hvm driver (guests/virtio-hostile) throwing random descriptors,
 * indices and register accesses at its virtio-net device, both on xenbr0 beside two
 * victims, a pv and an hvm teaching OS, that ping each other and exchange UDP datagrams
 * carrying a marker. Afterwards: every ping answered, every refusal counted, the marker
 * nowhere in either attacker's memory (unicast between the victims never reaches them),
 * the victims' devices never faulted, no exception in Domain-0's log, and every domain
 * goes away with its frames returned.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Domain } from '../../core/xen/common/domain';
import type { Hypervisor } from '../../core/xen/common/hypervisor';
import { Toolstack } from '../../core/tools/toolstack';
import { guestImage } from '../paths';
import { bootHypervisor, Consoles, HostileGuest, mfnOf } from '../testSupport';
import { consoleText, sleep, until, waitForConsole } from '../../testing/support';

let hv: Hypervisor | undefined;
afterEach(() => {
  hv?.shutdownHost();
  hv = undefined;
});

const MARKER = 'VICTIM-NET-SECRET';
/** HYPERLAB_SOAK=1: the hvm attacker runs 20 000 rounds (about ten million instructions) instead of 3000. */
const VIRTIO_ROUNDS = process.env.HYPERLAB_SOAK ? 20_000 : 3000;

/** Whether any page of the domain's RAM holds `needle`. */
function ramHolds(h: Hypervisor, d: Domain, pages: number, needle: string): boolean {
  const u8 = h.memory.views.u8;
  const n = new TextEncoder().encode(needle);
  for (let i = 0; i < pages; i++) {
    const mfn = mfnOf(d, d.ramBase / 4096 + i);
    if (mfn < 0) continue;
    const page = u8.subarray(mfn * 4096, mfn * 4096 + 4096);
    for (let at = page.indexOf(n[0]!); at >= 0 && at <= 4096 - n.length; at = page.indexOf(n[0]!, at + 1)) {
      if (n.every((c, k) => page[at + k] === c)) return true;
    }
  }
  return false;
}

const prompt = (d: Domain): RegExp => new RegExp(`${d.kind === 'hvm' ? 'tos' : d.name}\\$ $`);

async function run(h: Hypervisor, d: Domain, line: string, want: RegExp | string, ms = 60_000): Promise<string> {
  const mark = consoleText(d, { lf: true }).length;
  h.consoleInput(d.domid, new TextEncoder().encode(`${line}\n`));
  await waitForConsole(d, want, { from: mark, lf: true, ms });
  await waitForConsole(d, prompt(d), { from: mark, lf: true, ms });
  return consoleText(d, { lf: true }).slice(mark);
}

describe('netback and virtio-net against hostile drivers', () => {
  it('ten million instructions of a hostile netfront and a hostile virtio-net driver beside two domains pinging each other', async () => {
    const h = bootHypervisor(96, 2);
    hv = h;
    const consoles = new Consoles(h);
    const images: Record<string, string> = { hostile: 'hostile', vhostile: 'virtio-hostile', pv: 'teaching-os-pv', hvm: 'teaching-os-hvm' };
    const ts = new Toolstack(h, { readFile: (p) => readFileSync(guestImage(images[p]!)) });
    const free0 = h.memory.nrFree;

    const a = ts.create(`name = "attacker"\ntype = "pv"\nmemory = 8\nkernel = "hostile"\nvif = [ 'mac=00:16:3e:00:0a:01' ]`);
    const g = new HostileGuest(h, consoles, a);
    await g.ready();
    const vp = ts.create(`name = "victimpv"\ntype = "pv"\nmemory = 16\nkernel = "pv"\nvif = [ 'mac=00:16:3e:00:0b:01' ]`);
    const vh = ts.create(`name = "victimhvm"\ntype = "hvm"\nmemory = 16\nkernel = "hvm"\nvif = [ 'mac=00:16:3e:00:0b:02' ]`);
    for (const d of [vp, vh]) await waitForConsole(d, prompt(d), { lf: true, ms: 60_000 });
    expect(await run(h, vp, 'ifconfig 10.0.0.81/24', 'eth0:')).toContain('inet 10.0.0.81');
    expect(await run(h, vh, 'ifconfig 10.0.0.82/24', 'eth0:')).toContain('inet 10.0.0.82');
    expect(await run(h, vp, 'ping 10.0.0.82 1', 'ping statistics')).toContain('1 received, 0% packet loss');

    // The pv attacker's rings: pages 1024 and 1025, grant refs 20 and 21; the test writes
    // the frontend's xenstore nodes as a netfront would, and netback connects.
    const ring = await g.cmd(`net-ring ${g.gfn(1024)} ${g.gfn(1025)} 20 21`);
    expect(ring.rc).toBe(0);
    const xs = h.xsDom0();
    const fe = `/local/domain/${a.domid}/device/vif/0`;
    const be = `/local/domain/0/backend/vif/${a.domid}/0`;
    await xs.write(`${fe}/tx-ring-ref`, '20');
    await xs.write(`${fe}/rx-ring-ref`, '21');
    await xs.write(`${fe}/event-channel`, String(ring.port));
    await xs.write(`${fe}/request-rx-copy`, '1');
    await xs.write(`${fe}/feature-rx-notify`, '1');
    await xs.write(`${fe}/state`, '4');
    for (let t = 0; (await xs.read(`${be}/state`)) !== '4'; t++) {
      if (t > 2000) throw new Error(`netback did not connect: ${await xs.read(`${be}/error`)}`);
      await sleep(5);
    }
    // The hvm attacker: its virtio-net is in slot 7 (no disk).
    const va = ts.create(
      `name = "vattacker"\ntype = "hvm"\nmemory = 16\nkernel = "vhostile"\ncmdline = "rounds=${VIRTIO_ROUNDS}"\non_poweroff = "preserve"\non_crash = "preserve"\nvif = [ 'mac=00:16:3e:00:0a:02' ]`,
    );

    // The victims ping each other (and the hvm one sends the marker by UDP) until the attackers are done.
    let stop = false;
    let pings = 0;
    const victimLoop = (async (): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const [from, to] = i % 2 === 0 ? [vp, '10.0.0.82'] : [vh, '10.0.0.81'];
        const said = await run(h, from, `ping ${to} 3`, 'ping statistics');
        expect(said, said).toContain('3 packets transmitted, 3 received, 0% packet loss');
        pings += 3;
        if (i % 4 === 1) expect(await run(h, vh, `udp send 10.0.0.81 7000 ${MARKER}-${i}`, 'udp: sent')).toContain('udp: sent');
      }
    })();
    const instret = (): number => a.vcpus.reduce((s, x) => s + x.instret, 0);
    const start = instret();
    const totals = { rounds: 0, sent: 0, ok: 0, err: 0, null: 0, other: 0, rxok: 0, rxerr: 0, posted: 0, regrants: 0 };
    for (let seed = 1; instret() - start < 10_000_000; seed++) {
      const r = await g.cmd(`net-fuzz ${seed} 100000000 1500 ${g.gfn(1024)} ${g.gfn(1025)} ${ring.port} ${g.gfn(1040)} 8 40 0x0016 0x3e000a01`, 60_000);
      expect(r.result, r.line).toBe('ok');
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += Number(r[k]);
      if (seed > 200) throw new Error('the attacker did not get ten million instructions');
    }
    await until(() => va.shutdownReason !== null, 180_000, 'the hvm attacker to finish');
    stop = true;
    await victimLoop;
    const pvInstructions = instret() - start;
    const hvmInstructions = va.vcpus[0]!.instret;
    console.log(`netHostile: pv attacker ${pvInstructions} instructions, hvm attacker ${hvmInstructions}; victims ${pings} pings, all answered`);

    expect(pvInstructions).toBeGreaterThanOrEqual(10_000_000);
    expect(pings).toBeGreaterThan(0);
    const vsaid = consoleText(va, { lf: true });
    expect(va.shutdownReason, vsaid).toBe('poweroff');
    expect(vsaid).toContain('virtio-hostile: attacking virtio-net at 0x10008000');
    expect(vsaid).toContain('virtio-hostile: PASS');

    // What the attackers got: every kind of refusal, counted.
    expect(totals.ok).toBeGreaterThan(0);
    expect(totals.err).toBeGreaterThan(0);
    const vif = ts.nets.of(a.domid)[0]!.device;
    for (const why of ['runt', 'oversized', 'badSize', 'crossesPage', 'tooManySlots', 'unterminated', 'badExtra', 'badGrant'] as const)
      expect(vif.stats.txRefused[why], why).toBeGreaterThan(0);
    expect(vif.stats.badRing).toBeGreaterThan(0);
    expect(vif.stats.txPackets).toBeGreaterThan(0);
    expect(vif.port.counters.spoofed + vif.port.counters.rxDrops).toBeGreaterThan(0);
    const nic = ts.nets.virtioOf(va.domid)[0]!;
    expect(nic.transport.counts.needsReset).toBeGreaterThan(10);
    expect(nic.transport.counts.badAccess).toBeGreaterThan(10);
    // The victims: nothing refused, no fault.
    const vpVif = ts.nets.of(vp.domid)[0]!.device;
    expect(Object.values(vpVif.stats.txRefused).every((n) => n === 0)).toBe(true);
    expect(vpVif.stats.badRing).toBe(0);
    const vhNic = ts.nets.virtioOf(vh.domid)[0]!;
    expect(vhNic.transport.counts.needsReset).toBe(0);
    expect(Object.values(vhNic.net.stats.txRefused).every((n) => n === 0)).toBe(true);
    // The marker: in the receiving victim's memory, in neither attacker's.
    expect(ramHolds(h, vp, 4096, MARKER)).toBe(true);
    expect(ramHolds(h, a, 2048, MARKER)).toBe(false);
    expect(ramHolds(h, va, 4096, MARKER)).toBe(false);
    expect(h.log.filter((l) => /exception|TypeError|RangeError|internal error/i.test(l))).toEqual([]);
    // Every domain goes, with every frame back.
    for (const d of [a, va, vp, vh]) h.destroyDomain(d.domid);
    await sleep(100);
    expect(h.memory.nrFree).toBe(free0);
  }, 300_000);
});
