/**
 * Virtual networks, the toolstack's part (libxl_nic.c's job and the vif-bridge script's):
 * the bridges of Domain-0 (xenbr0 and any a vif names), Domain-0's own interface on
 * xenbr0 (10.0.0.1/24 with a DHCP server, src/core/net/hostif.ts), and one netback vif per
 * interface of a pv domain: write the frontend and backend areas in xenstore (both in
 * Initialising), hand the vif to netback (src/core/backends/net), reserve its `ip=` in the
 * DHCP server, and on detach or destroy take it away again. `xl network-attach`,
 * `network-detach`, `network-list` and `network-capture` land here.
 *
 * xenstore, as libxl lays it out (Xen's docs/misc/xenstore-paths.pandoc):
 *   /local/domain/<domid>/device/vif/<devid>/       the frontend's: backend, backend-id,
 *       state, handle, mac, mtu (the guest adds tx-ring-ref, rx-ring-ref, event-channel,
 *       request-rx-copy, feature-rx-notify)
 *   /local/domain/0/backend/vif/<domid>/<devid>/    the backend's: frontend, frontend-id,
 *       online, state, script, mac, handle, type, bridge, ip, rate, mtu, hotplug-status
 *       (netback adds feature-rx-copy, feature-sg...)
 *
 * hvm domains get their interfaces through virtio-net instead (backends/net/virtioNet.ts),
 * one device per vif on the virtio-mmio slots after the disks' (board/memoryMap.ts
 * virtioSlotForDevice: disks first, then vifs, in config order, as QEMU places
 * `-device virtio-blk-device ... -device virtio-net-device` in command-line order), plugged
 * when the domain is built: no xenstore, no handshake, a bridge port `vif<domid>.<devid>-emu`
 * (Xen's name for an hvm guest's emulated NIC). Every vif of an hvm domain is one, whatever
 * its `type` (Xen's `type=vif` alone would give an hvm guest a pv-only interface, which
 * hyperlab's hvm guests have no driver for); `model` is virtio-net, the only one. Hot-plug
 * is refused (virtio-mmio has none).
 */
import { NetBack, type VifDevice, type VifStats } from '../backends/net';
import { VirtioNet } from '../backends/net/virtioNet';
import { VIRT_VIRTIO_BASE, VIRT_VIRTIO_COUNT, VIRT_VIRTIO_SIZE } from '../board/memoryMap';
import { dmaWriteNote, GuestDma } from '../devices/virtio/guestDma';
import { VirtioMmioDevice } from '../devices/virtio/mmioDevice';
import { irqVirtio } from '../xen/vcpu/vcpuControl';
import { Bridge, type BridgePort, type TapListener } from '../net/bridge';
import { formatMac } from '../net/ethernet';
import { DomainZeroNetif } from '../net/hostif';
import { formatIp, parseIp } from '../net/ipv4';
import { PcapCapture } from '../net/pcap';
import type { Domain } from '../xen/common/domain';
import type { Hypervisor } from '../xen/common/hypervisor';
import { dom0BackendHost, removeDeviceAreas, writeDeviceAreas } from './splitDevice';
import { formatVifSpec, type VifConfig } from './xlVif';

/** The host's network settings: Domain-0's address on xenbr0 and its DHCP pool. */
export interface NetworkSettings {
  /** Domain-0's address on xenbr0, 10.0.0.1 by default; the subnet is /24. */
  dom0Ip: number;
  prefix: number;
  /** The DHCP pool (inclusive), 10.0.0.100 to 10.0.0.199 by default, with 1-hour leases as dnsmasq's default. */
  dhcpFirst: number;
  dhcpLast: number;
  leaseSeconds: number;
}

export const DEFAULT_NETWORK: NetworkSettings = {
  dom0Ip: parseIp('10.0.0.1')!,
  prefix: 24,
  dhcpFirst: parseIp('10.0.0.100')!,
  dhcpLast: parseIp('10.0.0.199')!,
  leaseSeconds: 3600,
};

/** How long `xl network-detach` lets the frontend close before tearing down anyway. */
export const VIF_DETACH_GRACE_MS = 5000;

interface Attached {
  cfg: VifConfig & { devid: number };
  device: VifDevice;
}

/** An hvm domain's interface: virtio-net on a virtio-mmio slot. */
export interface VirtioNic {
  cfg: VifConfig & { devid: number };
  slot: number;
  net: VirtioNet;
  transport: VirtioMmioDevice;
}

export class VirtualNetworks {
  readonly netback: NetBack;
  readonly bridges = new Map<string, Bridge>();
  /** Domain-0's interface on xenbr0. */
  readonly dom0: DomainZeroNetif;
  private readonly attached = new Map<number, Map<number, Attached>>();
  private readonly virtioNics = new Map<number, VirtioNic[]>();

  constructor(
    private readonly hv: Hypervisor,
    readonly settings: NetworkSettings = DEFAULT_NETWORK,
  ) {
    this.netback = new NetBack(dom0BackendHost(hv));
    const s = settings;
    this.dom0 = new DomainZeroNetif(this.bridge('xenbr0'), {
      ip: s.dom0Ip,
      prefix: s.prefix,
      dhcp: { first: s.dhcpFirst, last: s.dhcpLast, leaseSeconds: s.leaseSeconds },
    });
  }

  /** The bridge of that name, made on first use (as the vif-bridge script expects it to exist; here it is made). */
  bridge(name: string): Bridge {
    let b = this.bridges.get(name);
    if (!b) {
      b = new Bridge(name);
      this.bridges.set(name, b);
    }
    return b;
  }

  /**
   * Attach a vif to a pv domain; the xenstore areas are written before the guest's next
   * request. `reattach` (xl restore): the frontend's area came back with the domain, still
   * connected: only the backend's is written, and netback attaches to the rings as they stand.
   */
  attach(d: Domain, cfg: VifConfig & { devid: number }, reattach = false): VifDevice {
    if (d.kind !== 'pv')
      throw new Error(
        `domain ${d.domid} (${d.name}) is an hvm guest: its interfaces are virtio-net devices, plugged at create time (virtio-mmio has no hot-plug); put the vif in its config`,
      );
    if (cfg.type === 'ioemu' && cfg.model !== undefined) this.hv.dmesg(`vif ${d.domid}/${cfg.devid}: model=${cfg.model} ignored for a pv domain`);
    if (this.attached.get(d.domid)?.has(cfg.devid) || this.netback.get(d.domid, cfg.devid))
      throw new Error(`domain ${d.domid} (${d.name}) has a vif ${cfg.devid} already`);
    this.checkMacFree(cfg);
    const mac = formatMac(cfg.mac);
    const beNodes: [string, string][] = [
      ['script', 'vif-bridge'],
      ['mac', mac],
      ['handle', String(cfg.devid)],
      ['type', 'vif'],
      ['bridge', cfg.bridge],
      ['mtu', String(cfg.mtu)],
      ['hotplug-status', 'connected'],
    ];
    if (cfg.ip.length > 0) beNodes.push(['ip', cfg.ip.map(formatIp).join(' ')]);
    if (cfg.rate) beNodes.push(['rate', `${cfg.rate.bytes},${cfg.rate.usec}`]); // libxl writes "bytes,usec"
    const feNodes: [string, string][] = [
      ['handle', String(cfg.devid)],
      ['mac', mac],
      ['mtu', String(cfg.mtu)],
    ];
    const { frontendPath: fe, backendPath: be } = writeDeviceAreas(this.hv, d.domid, 'vif', cfg.devid, beNodes, feNodes, !reattach);
    const fail = (e: unknown): void => this.hv.dmesg(`vif ${d.domid}/${cfg.devid}: ${String(e)}`);
    const { device, started } = this.netback.add({
      domid: d.domid,
      devid: cfg.devid,
      mac: cfg.mac,
      mtu: cfg.mtu,
      bridge: this.bridge(cfg.bridge),
      backendPath: be,
      frontendPath: fe,
      ...(cfg.rate ? { rate: { bytes: cfg.rate.bytes, usec: cfg.rate.usec } } : {}),
    });
    started.catch(fail);
    if (cfg.ip.length > 0 && cfg.bridge === 'xenbr0') this.dom0.dhcp?.reserve(cfg.mac, cfg.ip[0]!);
    let mine = this.attached.get(d.domid);
    if (!mine) {
      mine = new Map<number, Attached>();
      this.attached.set(d.domid, mine);
    }
    mine.set(cfg.devid, { cfg, device });
    return device;
  }

  private checkMacFree(cfg: VifConfig): void {
    const clash = (domid: number, devid: number): Error => new Error(`mac ${formatMac(cfg.mac)} is in use by domain ${domid} vif ${devid} already`);
    for (const [domid, mine] of this.attached) for (const a of mine.values()) if (a.cfg.mac === cfg.mac) throw clash(domid, a.cfg.devid);
    for (const [domid, nics] of this.virtioNics) for (const n of nics) if (n.cfg.mac === cfg.mac) throw clash(domid, n.cfg.devid);
  }

  /**
   * hvm: plug a virtio-net device for `cfg` into virtio-mmio slot `slot`, served in the
   * hypervisor thread (hvm/ioreq.ts), a port on its bridge; its interrupt goes to every
   * vCPU of the domain.
   */
  plugVirtio(d: Domain, cfg: VifConfig & { devid: number }, slot: number): VirtioNic {
    if (d.kind !== 'hvm' || !Number.isInteger(slot) || slot < 0 || slot >= VIRT_VIRTIO_COUNT || d.virtio[slot])
      throw new Error(`domain ${d.domid} (${d.name}): virtio-mmio slot ${slot} is not free for vif ${cfg.devid}`);
    if (this.virtioOf(d.domid).some((n) => n.cfg.devid === cfg.devid)) throw new Error(`domain ${d.domid} (${d.name}) has a vif ${cfg.devid} already`);
    this.checkMacFree(cfg);
    const hv = this.hv;
    const dma = new GuestDma({ machine: hv.memory.buffer, ramBase: d.ramBase, ramSize: d.ramSize, p2m: (gfn) => d.p2m.get(gfn), onWrite: dmaWriteNote(hv, d) });
    const name = `vif${d.domid}.${cfg.devid}-emu`;
    const log = (line: string): void => hv.dmesg(`domain ${d.domid} ${name}: ${line}`);
    const net = new VirtioNet({
      name,
      mac: cfg.mac,
      mtu: cfg.mtu,
      bridge: this.bridge(cfg.bridge),
      dma,
      log,
      ...(cfg.rate ? { rate: { bytes: cfg.rate.bytes, usec: cfg.rate.usec } } : {}),
    });
    const transport = new VirtioMmioDevice({
      name: 'virtio-net',
      model: net,
      dma,
      log,
      irq: { set: (level) => d.vcpus.forEach((v) => hv.setIrq(v, irqVirtio(slot), level)) },
      isr: hv.virtioIsr(d, slot),
    });
    d.virtio[slot] = transport;
    const nic: VirtioNic = { cfg, slot, net, transport };
    this.virtioNics.set(d.domid, [...this.virtioOf(d.domid), nic]);
    if (cfg.ip.length > 0 && cfg.bridge === 'xenbr0') this.dom0.dhcp?.reserve(cfg.mac, cfg.ip[0]!);
    return nic;
  }

  /** An hvm domain's virtio-net interfaces. */
  virtioOf(domid: number): readonly VirtioNic[] {
    return this.virtioNics.get(domid) ?? [];
  }

  /** Every vif of a new domain (hvm: virtio-net from slot `firstVirtio` of virtioSlotForDevice's order); on a failure the domain's vifs so far go. */
  attachAll(d: Domain, cfgs: readonly (VifConfig & { devid: number })[], slots: readonly number[] = []): void {
    try {
      cfgs.forEach((c, i) => {
        if (d.kind === 'hvm') this.plugVirtio(d, c, slots[i] ?? -1);
        else this.attach(d, c);
      });
    } catch (e) {
      this.domainGone(d.domid);
      throw e;
    }
  }

  /** The lowest device id the domain has free (xl network-attach without devid=). */
  freeDevid(domid: number): number {
    const mine = this.attached.get(domid);
    let n = 0;
    while (mine?.has(n) || this.virtioOf(domid).some((x) => x.cfg.devid === n)) n++;
    return n;
  }

  /** `xl network-detach DOM DEVID|MAC`. */
  detach(d: Domain, which: string, force = false): void {
    if (d.kind === 'hvm')
      throw new Error(`domain ${d.domid} (${d.name}) is an hvm guest: virtio-mmio has no hot-unplug; its interfaces go when it is destroyed`);
    const mine = this.attached.get(d.domid);
    const a = [...(mine?.values() ?? [])].find((x) => String(x.cfg.devid) === which || formatMac(x.cfg.mac) === which.toLowerCase());
    if (!a) throw new Error(`domain ${d.domid} (${d.name}) has no vif ${which}`);
    a.device.whenGone = () => this.forget(d.domid, a);
    if (force) a.device.kill();
    else a.device.close(VIF_DETACH_GRACE_MS);
  }

  domainGone(domid: number): void {
    for (const n of this.virtioNics.get(domid) ?? []) {
      n.net.release();
      this.dom0.dhcp?.unreserve(n.cfg.mac);
    }
    this.virtioNics.delete(domid);
    const mine = this.attached.get(domid);
    if (!mine) return;
    for (const a of [...mine.values()]) {
      a.device.kill();
      this.forget(domid, a);
    }
    this.attached.delete(domid);
  }

  private forget(domid: number, a: Attached): void {
    const mine = this.attached.get(domid);
    if (mine?.get(a.cfg.devid) !== a) return;
    mine.delete(a.cfg.devid);
    this.dom0.dhcp?.unreserve(a.cfg.mac);
    removeDeviceAreas(this.hv, domid, 'vif', a.cfg.devid);
  }

  of(domid: number): { cfg: VifConfig & { devid: number }; device: VifDevice }[] {
    return [...(this.attached.get(domid)?.values() ?? [])].sort((x, y) => x.cfg.devid - y.cfg.devid);
  }

  /** xentop's view: the counters of every vif of the domain, netback's and virtio-net's. */
  statsOf(domid: number): VifStats[] {
    return [
      ...this.of(domid).map((a) => a.device.stats),
      ...this.virtioOf(domid).map((n) => ({ ...n.net.stats, notifyIn: n.transport.counts.notifies, notifyOut: n.transport.counts.interrupts })),
    ];
  }

  /** `xl network-list DOM`: xl's columns (Idx BE Mac Addr. handle state evt-ch tx-/rx-ring-ref BE-path), then the counters. */
  list(d: Domain): string {
    const rows = ['Idx BE Mac Addr.         handle state evt-ch   tx-/rx-ring-ref BE-path'];
    const vifs = this.of(d.domid);
    for (const { cfg, device } of vifs)
      rows.push(
        `${String(cfg.devid).padEnd(3)} ${'0'.padEnd(2)} ${formatMac(cfg.mac)} ${String(cfg.devid).padEnd(6)} ${String(device.feState).padEnd(5)} ${String(device.evtchn).padEnd(6)} ${`${device.txRingRef}/${device.rxRingRef}`.padStart(17)} ${device.paths.backendPath}`,
      );
    // hvm: virtio-net has no xenstore area or rings; the slot, its address and the device status stand in.
    const nics = this.virtioOf(d.domid);
    for (const { cfg, slot, transport } of nics)
      rows.push(
        `${String(cfg.devid).padEnd(3)} ${'0'.padEnd(2)} ${formatMac(cfg.mac)} ${String(cfg.devid).padEnd(6)} ${'-'.padEnd(5)} ${'-'.padEnd(6)} ${'-'.padStart(17)} virtio-mmio slot ${slot} (0x${(VIRT_VIRTIO_BASE + slot * VIRT_VIRTIO_SIZE).toString(16)}), status ${transport.status}`,
      );
    const all: { cfg: VifConfig & { devid: number }; name: string; state: string; st: VifStats; port: BridgePort }[] = [
      ...vifs.map(({ cfg, device }) => ({ cfg, name: device.name, state: String(device.state), st: device.stats, port: device.port })),
      ...nics.map(({ cfg, net, transport }) => ({ cfg, name: net.name, state: transport.live ? 'live' : 'reset', st: net.stats, port: net.port })),
    ];
    if (all.length > 0) {
      rows.push('', 'Idx Name       Bridge    State TX(pkts/bytes)     RX(pkts/bytes)     Refused RxDrop Spoofed Spec');
      for (const { cfg, name, state, st, port } of all) {
        const refused = Object.values(st.txRefused).reduce((a, b) => a + b, 0) + st.badRing;
        const drops = st.rxDropped.badGrant + st.rxDropped.queueFull + st.rxDropped.notConnected;
        rows.push(
          `${String(cfg.devid).padEnd(3)} ${name.padEnd(10)} ${cfg.bridge.padEnd(9)} ${state.padEnd(5)} ${`${st.txPackets}/${st.txBytes}`.padEnd(18)} ${`${st.rxPackets}/${st.rxBytes}`.padEnd(18)} ${String(refused).padEnd(7)} ${String(drops).padEnd(6)} ${String(port.counters.spoofed).padEnd(7)} ${formatVifSpec(cfg)}`,
        );
      }
    }
    return rows.join('\n');
  }

  /** The bridge port for `dom`/`devid`, or a whole bridge when dom is a bridge name (captures, packet views). */
  tapTarget(target: string, devid?: string): { add: (l: TapListener) => void; remove: (l: TapListener) => void; name: string } {
    const br = this.bridges.get(target);
    if (br && devid === undefined) return { add: (l) => br.taps.add(l), remove: (l) => br.taps.delete(l), name: br.name };
    const domid = Number(target);
    const a = this.attached.get(domid)?.get(Number(devid ?? 0));
    const n = this.virtioOf(domid).find((x) => x.cfg.devid === Number(devid ?? 0));
    const port = a?.device.port ?? n?.net.port;
    if (!Number.isInteger(domid) || !port) throw new Error(`no interface ${target}${devid !== undefined ? ` ${devid}` : ''} (a bridge name, or DOMID DEVID)`);
    return { add: (l) => port.taps.add(l), remove: (l) => port.taps.delete(l), name: port.name };
  }

  /** Start a pcap capture of an interface or a bridge, written chunk by chunk to `sink`; returns it with its stop function. */
  capture(target: string, devid: string | undefined, sink: (chunk: Uint8Array) => void): { capture: PcapCapture; stop: () => void; name: string } {
    const t = this.tapTarget(target, devid);
    const capture = new PcapCapture(sink);
    const l: TapListener = (frame) => capture.write(frame);
    t.add(l);
    return {
      capture,
      name: t.name,
      stop: () => {
        t.remove(l);
        capture.stop();
      },
    };
  }
}
