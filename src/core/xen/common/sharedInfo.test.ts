/**
 * evtchn_2l_set_pending, once, for both paths that deliver events (issue 11): the
 * hypervisor thread's EventChannels and a vCPU worker's direct send (EvtchnDirectory) run
 * the same table of cases and must leave the same bits and notify the same vCPU.
 */
import { describe, expect, it } from 'vitest';
import { EventChannels, type EvtchnDomain } from './evtchn';
import { EvtchnDirectory, newEvtchnDirectory } from './evtchnDirect';
import { MachineMemory } from './machineMemory';
import { evtchnSetPending, evtchnUnmask, pendingSelector, SetPending, upcallPending } from './sharedInfo';
import * as X from '../public/xen';

const PORT = 40; // word 1, bit 8
const SEL = 1 << (PORT >>> 5);

interface Case {
  name: string;
  vcpu: number;
  pending?: boolean;
  masked?: boolean;
  /** selector bits already set on the target vCPU */
  sel?: number;
  upcall?: boolean;
  result: SetPending;
}

const cases: Case[] = [
  { name: 'a new event on vCPU 0: pending, selector, upcall', vcpu: 0, result: SetPending.UPCALL },
  { name: 'a new event on a remote vCPU (1): its own vcpu_info is marked', vcpu: 1, result: SetPending.UPCALL },
  { name: 'already pending: nothing more', vcpu: 0, pending: true, result: SetPending.ALREADY },
  { name: 'masked: pending, but the edge is lost', vcpu: 0, masked: true, result: SetPending.MASKED },
  { name: 'selector bit set already: no second upcall', vcpu: 0, sel: SEL, upcall: true, result: SetPending.SELECTOR },
  { name: 'another selector bit set: this one is added, upcall raised', vcpu: 0, sel: 1 << 5, result: SetPending.UPCALL },
  {
    name: 'upcall already pending with a clear selector: still UPCALL (the vCPU may be past reading the selector)',
    vcpu: 1,
    upcall: true,
    result: SetPending.UPCALL,
  },
];

function prepare(mem: MachineMemory, si: number, c: Case): void {
  const m = mem.views;
  m.u8.fill(0, si, si + 4096);
  const w = (si + X.SI_EVTCHN_PENDING + 4) >> 2;
  if (c.pending) m.i32[w] = 1 << 8;
  if (c.masked) m.i32[(si + X.SI_EVTCHN_MASK + 4) >> 2] = 1 << 8;
  const vi = si + X.SI_VCPU_INFO + c.vcpu * X.VCPU_INFO_SIZE;
  m.i32[(vi + X.VI_PENDING_SEL) >> 2] = c.sel ?? 0;
  m.u8[vi + X.VI_UPCALL_PENDING] = c.upcall ? 1 : 0;
}

function snapshot(mem: MachineMemory, si: number): number[] {
  return Array.from(mem.views.i32.subarray(si >> 2, (si + 4096) >> 2));
}

describe('evtchn_2l_set_pending (sharedInfo.ts), one implementation for both paths', () => {
  it.each(cases)('$name', (c) => {
    const mem = new MachineMemory(1 << 16);
    const si = 4096;
    // 1. the function itself
    prepare(mem, si, c);
    expect(evtchnSetPending(mem.views, si, PORT, c.vcpu)).toBe(c.result);
    const expected = snapshot(mem, si);
    expect((mem.views.i32[(si + X.SI_EVTCHN_PENDING + 4) >> 2]! >>> 8) & 1).toBe(1);
    const marked = c.result === SetPending.UPCALL || c.result === SetPending.SELECTOR;
    expect((pendingSelector(mem.views, si, c.vcpu) & SEL) !== 0).toBe(marked || ((c.sel ?? 0) !== 0 && ((c.sel ?? 0) & SEL) !== 0));
    expect(upcallPending(mem.views, si, c.vcpu)).toBe(c.result === SetPending.UPCALL || !!c.upcall);
    expect(upcallPending(mem.views, si, 1 - c.vcpu)).toBe(false);

    // 2. the hypervisor thread: an IPI port bound to the vCPU, sent by EVTCHNOP_send
    prepare(mem, si, c);
    const kicks: number[] = [],
      polls: number[] = [];
    const d: EvtchnDomain = { domid: 1, ports: [], nrVcpus: 2, siMachine: si };
    d.ports[PORT] = { s: { state: 'ipi' }, vcpu: c.vcpu };
    const ev = new EventChannels(
      { lookup: () => d, kick: (_dom, v) => kicks.push(v), dom0Event: () => {}, checkPollers: (_dom, p) => polls.push(p) },
      mem.views,
    );
    expect(ev.send(d, PORT)).toBe(0);
    expect(snapshot(mem, si)).toEqual(expected);
    expect(kicks).toEqual(c.result === SetPending.UPCALL ? [c.vcpu] : []);
    expect(polls).toEqual(c.result === SetPending.ALREADY ? [] : [PORT]);

    // 3. a vCPU worker's direct send into the same page
    prepare(mem, si, c);
    const dir = new EvtchnDirectory(newEvtchnDirectory());
    dir.clearDomain(0);
    dir.clearDomain(1);
    dir.setSharedInfo(1, si);
    dir.setVcpuSlot(1, c.vcpu, 9);
    dir.setPollers(1, 1);
    dir.setRoute(0, 3, { dslot: 1, port: PORT, vcpu: c.vcpu });
    expect(dir.send(0, 3, mem.views)).toBe(true);
    expect(snapshot(mem, si)).toEqual(expected);
    const req = dir.takeRequests();
    expect(req.wake).toEqual(c.result === SetPending.UPCALL ? [9] : []);
    expect(req.poll).toEqual(c.result === SetPending.ALREADY ? [] : [1]);
  });

  it('unmask redelivers a lost edge once, on the bound vCPU', () => {
    const mem = new MachineMemory(1 << 16);
    const si = 4096;
    prepare(mem, si, { name: '', vcpu: 1, masked: true, result: SetPending.MASKED });
    expect(evtchnSetPending(mem.views, si, PORT, 1)).toBe(SetPending.MASKED);
    expect(upcallPending(mem.views, si, 1)).toBe(false);
    expect(evtchnUnmask(mem.views, si, PORT, 1)).toBe(SetPending.UPCALL);
    expect(upcallPending(mem.views, si, 1)).toBe(true);
    expect(evtchnUnmask(mem.views, si, PORT, 1)).toBe(SetPending.SELECTOR); // once: the selector is set now
  });
});
