import { afterEach, describe, expect, it, vi } from 'vitest';
import { VirtioMmioDevice } from '../../devices/virtio/mmioDevice';
import { restoreVirtioMmio, saveVirtioMmio } from '../../devices/virtio/state';
import { BUF, Q1_AREAS, TEST_GRANT_GFN, TEST_RAM_BASE, TestDriver, TestMachine } from '../../devices/virtio/testDriver';
import { VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_VERSION_1, VIRTQ_DESC_F_NEXT } from '../../devices/virtio/virtio';
import * as R from '../../devices/virtioMmio';
import { Bridge, type PortDevice } from '../../net/bridge';
import { ETH_P_IP, ethFrame } from '../../net/ethernet';
import {
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_HDR_SIZE,
  VIRTIO_NET_RXQ,
  VIRTIO_NET_TXQ,
  VirtioNet,
} from './virtioNet';
import { RX_QUEUE_MAX } from './netback';

const GUEST_MAC = 0x00163e000001;
const PEER_MAC = 0x00163e000002;
const RXBUF = BUF; // receive buffers: 2 KiB each from here
const TXBUF = BUF + 0x10000;
const FEATURES = [VIRTIO_F_VERSION_1, VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_MTU];

/** A bridge port that records what it is given and can send. */
class Peer implements PortDevice {
  readonly got: Uint8Array[] = [];
  transmit(frame: Uint8Array): boolean {
    this.got.push(frame.slice());
    return true;
  }
}

function setup(opts: { features?: number[]; rate?: { bytes: number; usec: number }; now?: () => number; num?: number; isr?: Int32Array } = {}) {
  const m = new TestMachine();
  const bridge = new Bridge('xenbr0', { floodLimit: null }); // frames to the guest's MAC flood until it sends: no storm control in these tests
  const logs: string[] = [];
  const irq: boolean[] = [];
  const net = new VirtioNet({
    name: 'vif1.0-emu',
    mac: GUEST_MAC,
    mtu: 1500,
    bridge,
    dma: m.dma,
    log: (l) => logs.push(l),
    ...(opts.rate ? { rate: opts.rate } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const dev = new VirtioMmioDevice({
    name: 'virtio-net',
    model: net,
    dma: m.dma,
    irq: { set: (l) => irq.push(l) },
    log: (l) => logs.push(l),
    ...(opts.isr ? { isr: { cells: opts.isr, index: 3 } } : {}),
  });
  const num = opts.num ?? 8;
  const rx = new TestDriver(m, dev, num);
  const tx = new TestDriver(m, dev, num, Q1_AREAS);
  const st = rx.init(opts.features ?? FEATURES, { others: [tx] });
  const peer = new Peer();
  const peerPort = bridge.attach('peer', peer, PEER_MAC);
  return { m, bridge, net, dev, rx, tx, st, peer, peerPort, logs, irq };
}
type S = ReturnType<typeof setup>;

function ipFrame(dest: number, source: number, len: number, fill = 0xab): Uint8Array {
  return ethFrame(dest, source, ETH_P_IP, new Uint8Array(len - 14).fill(fill));
}

/** Post `n` receive buffers of `size` bytes (one descriptor each). */
function postRx(s: S, n: number, size = 1530): number[] {
  const heads: number[] = [];
  for (let k = 0; k < n; k++) {
    const head = s.rx.chain([{ addr: RXBUF + 0x800 * (s.rx.nextDesc % 8), len: size, write: true }]);
    s.rx.offer(head);
    heads.push(head);
  }
  s.rx.notify();
  return heads;
}

/** Transmit one frame (header and frame in `split` buffers); returns the used entries. */
function send(s: S, frame: Uint8Array, hdr = new Uint8Array(VIRTIO_NET_HDR_SIZE), split = false): [number, number][] {
  s.m.put(TXBUF, hdr);
  s.m.put(TXBUF + VIRTIO_NET_HDR_SIZE, frame);
  const parts = split
    ? [
        { addr: TXBUF, len: VIRTIO_NET_HDR_SIZE },
        { addr: TXBUF + VIRTIO_NET_HDR_SIZE, len: frame.length },
      ]
    : [{ addr: TXBUF, len: VIRTIO_NET_HDR_SIZE + frame.length }];
  s.tx.offer(s.tx.chain(parts));
  s.tx.notify();
  return s.tx.used();
}

afterEach(() => {
  vi.useRealTimers();
});

describe('virtio-net over virtio-mmio', () => {
  it('is a modern network device with its MAC, link status and MTU in the config space (5.1.3, 5.1.4)', () => {
    const s = setup();
    expect(s.rx.r(R.VIRTIO_MMIO_DEVICE_ID)).toBe(1);
    s.rx.w(R.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    const f0 = s.rx.r(R.VIRTIO_MMIO_DEVICE_FEATURES);
    for (const b of [VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_MTU, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC]) expect(f0 & (1 << b)).not.toBe(0);
    expect(f0 & (1 << VIRTIO_NET_F_MRG_RXBUF)).toBe(0);
    s.rx.w(R.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    expect(s.rx.r(R.VIRTIO_MMIO_DEVICE_FEATURES)).toBe(1);
    const mac = Array.from({ length: 6 }, (_, i) => s.dev.read(R.VIRTIO_MMIO_CONFIG + i, 1));
    expect(mac).toEqual([0x00, 0x16, 0x3e, 0x00, 0x00, 0x01]);
    expect(s.dev.read(R.VIRTIO_MMIO_CONFIG + 6, 2)).toBe(1); // VIRTIO_NET_S_LINK_UP
    expect(s.dev.read(R.VIRTIO_MMIO_CONFIG + 10, 2)).toBe(1500);
    s.rx.w(R.VIRTIO_MMIO_QUEUE_SEL, 1);
    expect(s.rx.r(R.VIRTIO_MMIO_QUEUE_NUM_MAX)).toBe(256);
    s.rx.w(R.VIRTIO_MMIO_QUEUE_SEL, 2);
    expect(s.rx.r(R.VIRTIO_MMIO_QUEUE_NUM_MAX)).toBe(0); // no control queue
  });

  it('transmits a frame to the bridge, in one buffer or split from its header; used length 0', () => {
    const s = setup();
    const f = ipFrame(PEER_MAC, GUEST_MAC, 100);
    expect(send(s, f)).toEqual([[0, 0]]);
    expect(send(s, ipFrame(PEER_MAC, GUEST_MAC, 60, 0x11), undefined, true)).toEqual([[1, 0]]);
    expect(s.peer.got).toHaveLength(2);
    expect(s.peer.got[0]).toEqual(f);
    expect(s.peer.got[1]!.length).toBe(60);
    expect(s.net.stats.txPackets).toBe(2);
    expect(s.net.stats.txBytes).toBe(160);
    expect(s.dev.counts.notifies).toBe(2);
    expect(s.irq.at(-1)).toBe(true);
  });

  it('receives a frame into a posted buffer with a 12-byte header, num_buffers 1 (5.1.6.4), and interrupts', () => {
    const s = setup();
    const [head] = postRx(s, 1);
    const f = ipFrame(GUEST_MAC, PEER_MAC, 200, 0x42);
    s.peerPort.input(f);
    expect(s.rx.used()).toEqual([[head, VIRTIO_NET_HDR_SIZE + 200]]);
    const hdr = s.m.get(RXBUF, VIRTIO_NET_HDR_SIZE);
    expect([...hdr]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(s.m.get(RXBUF + VIRTIO_NET_HDR_SIZE, 200)).toEqual(f);
    expect(s.irq.at(-1)).toBe(true);
    expect(s.dev.interruptStatus & 1).toBe(1);
    expect(s.net.stats.rxPackets).toBe(1);
  });

  it('keeps InterruptStatus in a shared word when given one: set there before the line rises, cleared by whoever holds the word', () => {
    const cells = new Int32Array(new SharedArrayBuffer(16));
    const s = setup({ isr: cells });
    postRx(s, 1);
    s.peerPort.input(ipFrame(GUEST_MAC, PEER_MAC, 60, 1));
    expect(cells[3]).toBe(1);
    expect(s.irq.at(-1)).toBe(true);
    expect(s.dev.read(0x060, 4)).toBe(1); // InterruptStatus through the device reads the same word
    Atomics.and(cells, 3, ~1); // the vCPU acknowledged it itself
    expect(s.dev.interruptStatus).toBe(0);
    cells[3] = 0x7ffffffc | 2; // a worker's nonsense: two bits of it are read, and saved
    expect(s.dev.interruptStatus).toBe(2);
    s.dev.write(0x064, 4, 2); // InterruptACK through the device (a synchronous exit) clears the word and the line
    expect(cells[3] & 3).toBe(0);
    expect(s.irq.at(-1)).toBe(false);
  });

  it('holds frames while no buffer is posted (half the queue per sender), delivers them at the next post, and drops past the queue', () => {
    const s = setup({ features: [...FEATURES, VIRTIO_F_EVENT_IDX] });
    const third = new Peer();
    const thirdPort = s.bridge.attach('third', third, 0x00163e000003);
    // One sender floods: it gets half of the queue (rxQueue.ts), the rest is dropped.
    for (let i = 0; i < RX_QUEUE_MAX; i++) s.peerPort.input(ipFrame(GUEST_MAC, PEER_MAC, 64, i & 0xff));
    expect(s.net.rxWaiting).toBe(RX_QUEUE_MAX / 2);
    expect(s.net.stats.rxDropped.queueFull).toBe(RX_QUEUE_MAX / 2);
    // Another sender still gets in, up to the queue's end.
    for (let i = 0; i < RX_QUEUE_MAX / 2 + 3; i++) thirdPort.input(ipFrame(GUEST_MAC, 0x00163e000003, 64, 0xee));
    expect(s.net.rxWaiting).toBe(RX_QUEUE_MAX);
    expect(s.net.stats.rxDropped.queueFull).toBe(RX_QUEUE_MAX / 2 + 3);
    expect(s.peerPort.counters.txDrops).toBe(0); // the senders' ports count their own tx; the guest's port counts the drops
    expect(s.net.port.counters.txDrops).toBe(RX_QUEUE_MAX / 2 + 3);
    postRx(s, 8);
    const used = s.rx.used();
    expect(used).toHaveLength(8);
    expect(s.net.rxWaiting).toBe(RX_QUEUE_MAX - 8);
    expect(s.m.get(RXBUF + VIRTIO_NET_HDR_SIZE + 14, 1)[0]).toBe(0); // the first frame went into the first buffer
    // avail_event (after the used ring) asks for a notification at the next post (2.7.10).
    expect(s.m.view.getUint16(s.m.off(TEST_RAM_BASE + 0x3000) + 4 + 8 * 8, true)).toBe(8);
    // The first sender's share frees as its frames go: it may queue again.
    s.peerPort.input(ipFrame(GUEST_MAC, PEER_MAC, 64));
    expect(s.net.rxWaiting).toBe(RX_QUEUE_MAX - 7);
  });

  it('refuses runts, oversized frames and offloads it did not offer, and spoofed sources at the bridge', () => {
    const s = setup();
    expect(send(s, new Uint8Array(10))).toEqual([[0, 0]]);
    expect(send(s, ipFrame(PEER_MAC, GUEST_MAC, 1519))).toEqual([[1, 0]]);
    const gso = new Uint8Array(VIRTIO_NET_HDR_SIZE);
    gso[1] = 1; // VIRTIO_NET_HDR_GSO_TCPV4
    expect(send(s, ipFrame(PEER_MAC, GUEST_MAC, 100), gso)).toEqual([[2, 0]]);
    const csum = new Uint8Array(VIRTIO_NET_HDR_SIZE);
    csum[0] = 1; // NEEDS_CSUM
    send(s, ipFrame(PEER_MAC, GUEST_MAC, 100), csum);
    send(s, ipFrame(PEER_MAC, 0x00163e0000ff, 100));
    expect(s.net.stats.txRefused.runt).toBe(1);
    expect(s.net.stats.txRefused.oversized).toBe(1);
    expect(s.net.stats.txRefused.badExtra).toBe(2);
    expect(s.net.port.counters.spoofed).toBe(1);
    expect(s.peer.got).toHaveLength(0);
    expect(s.dev.status & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(0);
  });

  it('a receive buffer too small for the frame, a descriptor loop and a buffer in another domain need a reset, with no write outside the guest', () => {
    const s = setup();
    postRx(s, 1, 100);
    s.peerPort.input(ipFrame(GUEST_MAC, PEER_MAC, 200));
    expect(s.dev.status & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(VIRTIO_CONFIG_S_NEEDS_RESET);
    expect(s.dev.lastError).toContain('receive buffer');
    expect(s.logs.join('\n')).toContain('needs reset');
    // A frame now is refused (the device is not live), not queued.
    s.peerPort.input(ipFrame(GUEST_MAC, PEER_MAC, 200));
    expect(s.net.stats.rxDropped.notConnected).toBe(1);

    // Re-initialise, then a loop on the transmit queue.
    const t = setup();
    t.tx.desc(0, { addr: TXBUF, len: 64, flags: VIRTQ_DESC_F_NEXT, next: 1 });
    t.tx.desc(1, { addr: TXBUF, len: 64, flags: VIRTQ_DESC_F_NEXT, next: 0 });
    t.tx.offer(0);
    t.tx.notify();
    expect(t.dev.lastError).toContain('loop');

    // A receive buffer in a frame another domain granted: refused before a byte moves.
    const u = setup();
    const foreign = u.m.foreign.slice();
    u.rx.offer(u.rx.chain([{ addr: TEST_RAM_BASE + TEST_GRANT_GFN * 4096, len: 2048, write: true }]));
    u.rx.notify();
    u.peerPort.input(ipFrame(GUEST_MAC, PEER_MAC, 200));
    expect(u.dev.status & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(VIRTIO_CONFIG_S_NEEDS_RESET);
    expect(u.m.foreign).toEqual(foreign);

    // After a reset (status 0) and a new initialisation the device works again.
    u.rx.availIdx = u.rx.usedSeen = u.rx.nextDesc = 0;
    u.tx.availIdx = u.tx.usedSeen = u.tx.nextDesc = 0;
    u.rx.init(FEATURES, { others: [u.tx] });
    expect(u.dev.status & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(0);
    postRx(u, 1);
    u.peerPort.input(ipFrame(GUEST_MAC, PEER_MAC, 80));
    expect(u.rx.used()).toEqual([[0, VIRTIO_NET_HDR_SIZE + 80]]);
  });

  it('suppresses interrupts by used_event with VIRTIO_F_EVENT_IDX and publishes avail_event on the receive queue', () => {
    const s = setup({ features: [...FEATURES, VIRTIO_F_EVENT_IDX] });
    postRx(s, 4);
    const availEvent = s.m.view.getUint16(s.m.off(TEST_RAM_BASE + 0x3000) + 4 + 8 * 8, true);
    expect(availEvent).toBe(0); // nothing consumed yet: the device wants to hear of the next post
    // used_event = 1: interrupt only once the used index passes 1.
    s.m.view.setUint16(s.m.off(TEST_RAM_BASE + 0x2000) + 4 + 2 * 8, 1, true);
    const before = s.dev.counts.interrupts;
    s.peerPort.input(ipFrame(GUEST_MAC, PEER_MAC, 64));
    expect(s.dev.counts.interrupts).toBe(before);
    s.peerPort.input(ipFrame(GUEST_MAC, PEER_MAC, 64));
    expect(s.dev.counts.interrupts).toBe(before + 1);
  });

  it('rate= holds a frame on the ring until its credit comes (credit.ts), then sends it', () => {
    vi.useFakeTimers();
    let now = 0;
    const s = setup({ rate: { bytes: 150, usec: 20_000 }, now: () => now });
    expect(send(s, ipFrame(PEER_MAC, GUEST_MAC, 100))).toHaveLength(1);
    expect(send(s, ipFrame(PEER_MAC, GUEST_MAC, 100))).toHaveLength(0); // 50 bytes of credit left
    expect(s.net.stats.rateDeferred).toBe(1);
    expect(s.peer.got).toHaveLength(1);
    now = 20;
    vi.advanceTimersByTime(25);
    expect(s.tx.used()).toHaveLength(1);
    expect(s.peer.got).toHaveLength(2);
  });

  it('saves and restores both queues (state.ts), and carries on', () => {
    const s = setup();
    postRx(s, 2);
    send(s, ipFrame(PEER_MAC, GUEST_MAC, 100));
    const saved = saveVirtioMmio(s.dev);
    expect(saved.deviceId).toBe(1);
    expect(saved.queues).toHaveLength(2);
    const d = setup();
    restoreVirtioMmio(d.dev, JSON.parse(JSON.stringify(saved)) as typeof saved);
    expect(d.dev.queues[VIRTIO_NET_RXQ]!.lastAvail).toBe(0); // posted buffers stay on the ring until a frame comes
    expect(d.dev.queues[VIRTIO_NET_TXQ]!.usedIdx).toBe(1);
    // Same memory layout in the restored machine: the posted buffers are there.
    d.m.u8.set(s.m.u8.subarray(0, 64 * 4096));
    d.peerPort.input(ipFrame(GUEST_MAC, PEER_MAC, 70));
    expect(d.dev.queues[VIRTIO_NET_RXQ]!.usedIdx).toBe(1);
  });
});
