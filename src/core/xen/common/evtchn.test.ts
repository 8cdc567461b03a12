/**
 * Event channel semantics (public/event_channel.h, xen.h on PENDING and MASK), checked on
 * the shared_info bits a guest would see.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { EventChannels, type EvtchnDomain } from './evtchn';
import { GuestMemory } from './guestMemory';
import { MachineMemory } from './machineMemory';
import { P2m } from './p2m';
import * as X from '../public/xen';

const BASE = 0x8000_0000;
const mem = new MachineMemory(1 << 20);

type TestDomain = EvtchnDomain & { kicks: number; mem: GuestMemory; sharedInfo: number };

function domain(domid: number): TestDomain {
  const p2m = new P2m(4);
  for (let g = 0; g < 4; g++) p2m.populate(mem, g, domid);
  // shared_info in the domain's second frame; the test reads it back through the guest's view.
  return {
    domid,
    ports: [],
    nrVcpus: 2,
    siMachine: p2m.get(1) * 4096,
    mem: new GuestMemory(mem.buffer, p2m, BASE, 4 * 4096),
    sharedInfo: BASE + 4096,
    kicks: 0,
  };
}

let a: ReturnType<typeof domain>, b: ReturnType<typeof domain>, ev: EventChannels;
const dom0Events: number[] = [];

beforeEach(() => {
  a = domain(1);
  b = domain(2);
  dom0Events.length = 0;
  const doms = new Map<number, EvtchnDomain>([
    [1, a],
    [2, b],
  ]);
  ev = new EventChannels(
    {
      lookup: (id) => doms.get(id),
      kick: (id) => {
        (doms.get(id) as typeof a).kicks++;
      },
      dom0Event: (p) => dom0Events.push(p),
    },
    mem.views,
  );
});

const pendingBit = (d: TestDomain, p: number): number => (d.mem.u32(d.sharedInfo + X.SI_EVTCHN_PENDING + 4 * (p >> 5)) >>> (p & 31)) & 1;
const upcall = (d: TestDomain, vcpu = 0): number => d.mem.u8At(d.sharedInfo + vcpu * 64 + X.VI_UPCALL_PENDING);
const mask = (d: TestDomain, p: number): void => {
  d.mem.orU32(d.sharedInfo + X.SI_EVTCHN_MASK + 4 * (p >> 5), 1 << (p & 31));
};

function connect(): [number, number] {
  const pa = ev.allocUnbound(a, 2);
  const pb = ev.bindInterdomain(b, 1, pa);
  a.mem.write(a.sharedInfo, new Uint8Array(4096)); // forget the bind-time pending bits
  b.mem.write(b.sharedInfo, new Uint8Array(4096));
  a.kicks = b.kicks = 0;
  return [pa, pb];
}

describe('event channels', () => {
  it('alloc_unbound + bind_interdomain connect both ends; send sets pending, selector and upcall', () => {
    const [pa, pb] = connect();
    expect(pa).toBeGreaterThan(0);
    expect(ev.status(a, pa)).toMatchObject({ status: X.EVTCHNSTAT_interdomain, a: 2, b: pb });
    expect(ev.send(a, pa)).toBe(0);
    expect(pendingBit(b, pb)).toBe(1);
    expect(b.mem.u32(b.sharedInfo + X.VI_PENDING_SEL) & (1 << (pb >> 5))).not.toBe(0);
    expect(upcall(b)).toBe(1);
    expect(b.kicks).toBe(1);
  });

  it('bind_interdomain always sets the local end pending (the peer may have signalled first)', () => {
    const pa = ev.allocUnbound(a, 2);
    const pb = ev.bindInterdomain(b, 1, pa);
    expect(pendingBit(b, pb)).toBe(1);
  });

  it('only the domain an unbound port waits for may bind it', () => {
    const pa = ev.allocUnbound(a, 2);
    const c = domain(3);
    expect(ev.bindInterdomain(c, 1, pa)).toBe(-X.EINVAL);
    expect(ev.bindInterdomain(b, 1, 999)).toBe(-X.EINVAL);
    expect(ev.bindInterdomain(b, 77, pa)).toBe(-X.ESRCH);
  });

  it('a masked port loses the edge: pending is set but no upcall, until unmask redelivers it', () => {
    const [pa, pb] = connect();
    mask(b, pb);
    ev.send(a, pa);
    expect(pendingBit(b, pb)).toBe(1);
    expect(upcall(b)).toBe(0);
    expect(b.kicks).toBe(0);
    expect(ev.unmask(b, pb)).toBe(0);
    expect(upcall(b)).toBe(1);
    expect(b.kicks).toBe(1);
  });

  it('a second send while pending does not raise a second upcall', () => {
    const [pa] = connect();
    ev.send(a, pa);
    ev.send(a, pa);
    expect(b.kicks).toBe(1);
  });

  it('close leaves the peer unbound (and it can be bound again)', () => {
    const [pa, pb] = connect();
    expect(ev.close(b, pb)).toBe(0);
    expect(ev.status(a, pa)).toMatchObject({ status: X.EVTCHNSTAT_unbound, a: 2 });
    expect(ev.status(b, pb)).toMatchObject({ status: X.EVTCHNSTAT_closed });
    expect(ev.send(a, pa)).toBe(0); // nobody listens: dropped
    expect(ev.bindInterdomain(b, 1, pa)).toBeGreaterThan(0);
  });

  it('virq and ipi ports are per-vCPU and notify that vCPU', () => {
    const pv = ev.bindVirq(a, X.VIRQ_TIMER, 1);
    expect(ev.bindVirq(a, X.VIRQ_TIMER, 1)).toBe(-X.EEXIST);
    expect(ev.bindVirq(a, X.VIRQ_TIMER, 5)).toBe(-X.ENOENT);
    ev.sendVirq(a, X.VIRQ_TIMER, 1);
    expect(upcall(a, 1)).toBe(1);
    expect(upcall(a, 0)).toBe(0);
    expect(ev.send(a, pv)).toBe(-X.EINVAL); // VIRQs are raised by the hypervisor only
    const pi = ev.bindIpi(a, 0);
    expect(ev.send(a, pi)).toBe(0);
    expect(upcall(a, 0)).toBe(1);
  });

  it('hostile arguments get errors: port 0, out of range, free ports', () => {
    expect(ev.send(a, 0)).toBe(-X.EINVAL);
    expect(ev.send(a, 5000)).toBe(-X.EINVAL);
    expect(ev.close(a, 7)).toBe(-X.EINVAL);
    expect(ev.unmask(a, -1)).toBe(-X.EINVAL);
    expect(ev.bindVirq(a, 99, 0)).toBe(-X.EINVAL);
  });

  it('an event for Domain-0 calls its backend', () => {
    const d0: EvtchnDomain = { domid: 0, ports: [], nrVcpus: 1, siMachine: -1 };
    const doms = new Map<number, EvtchnDomain>([
      [0, d0],
      [1, a],
    ]);
    const e2 = new EventChannels({ lookup: (id) => doms.get(id), kick: () => {}, dom0Event: (p) => dom0Events.push(p) }, mem.views);
    const pa = e2.allocUnbound(a, 0);
    const p0 = e2.bindInterdomain(d0, 1, pa);
    dom0Events.length = 0;
    e2.send(a, pa);
    expect(dom0Events).toEqual([p0]);
  });
});
