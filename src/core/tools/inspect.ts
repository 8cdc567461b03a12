/**
 * The inspectors' view of a running hypervisor: a domain's event channels, grant table,
 * mapped grants and xenstore subtree, and the machine memory map. Read-only and pure:
 * every function looks at the Hypervisor as it is now and returns plain data (no class
 * instances, no shared buffers), so the result crosses a worker boundary by structured
 * clone and a test can compare it with what it set up.
 *
 * What it reads from guest memory (the pending and mask bitmaps of shared_info, grant
 * entries) is written by the guest at any moment: it is read with atomic loads, word by
 * word, and a frame the guest ballooned out reads as unknown (null), never as a fault.
 */
import { P2M_MFN_MASK } from '../bus/bus';
import type { Domain } from '../xen/common/domain';
import { GuestFault, type GuestMemory } from '../xen/common/guestMemory';
import { GRANT_ENTRY_SIZE, GRANTS_PER_FRAME } from '../xen/common/gnttab';
import type { Hypervisor } from '../xen/common/hypervisor';
import { FREE } from '../xen/common/machineMemory';
import { evtchnIsMasked, evtchnIsPending, pendingSelector, upcallMasked, upcallPending } from '../xen/common/sharedInfo';
import type { XsTreeNode } from './xenstore/store';
import * as X from '../xen/public/xen';

/** Xen's VIRQ names (public/xen.h), for the ports bound to them. */
const VIRQ_NAMES: Record<number, string> = {
  0: 'TIMER',
  1: 'DEBUG',
  2: 'CONSOLE',
  3: 'DOM_EXC',
  4: 'TBUF',
  6: 'DEBUGGER',
  7: 'XENOPROF',
  8: 'CON_RING',
  9: 'PCPU_STATE',
  10: 'MEM_EVENT',
  11: 'ARGO',
  12: 'ENOMEM',
  13: 'XENPMU',
};

export interface EvtchnInfo {
  readonly port: number;
  readonly state: 'unbound' | 'interdomain' | 'virq' | 'ipi';
  /** interdomain and unbound: the peer domain (unbound: the one allowed to bind). */
  readonly remoteDomid: number | null;
  readonly remotePort: number | null;
  readonly virq: number | null;
  readonly virqName: string | null;
  readonly vcpu: number;
  /** Bits of shared_info's evtchn_pending / evtchn_mask; null for Domain-0 (no shared_info) or an unreadable page. */
  readonly pending: boolean | null;
  readonly masked: boolean | null;
  /** What the channel is for, when the domain builder set it up: the console or xenstore ring. */
  readonly role: 'console' | 'xenstore' | null;
}

/** A vCPU's vcpu_info in shared_info: the upcall flags and the pending selector. */
export interface VcpuInfoView {
  readonly vcpuId: number;
  readonly upcallPending: number;
  readonly upcallMask: number;
  readonly pendingSel: number;
}

export interface GrantInfo {
  readonly ref: number;
  /** The entry's u16 flags, and their names (permit_access, readonly, reading, writing). */
  readonly flags: number;
  readonly flagNames: readonly string[];
  /** The domain allowed to map it. */
  readonly domid: number;
  /** The frame it grants, as the ABI names it (guest-physical address >> 12). */
  readonly frame: number;
  /** Domains that have it mapped now (from their maptrack). */
  readonly mappedBy: readonly number[];
}

/** A grant of another domain that this domain has mapped (an entry of its maptrack). */
export interface MappedGrant {
  readonly handle: number;
  readonly granter: number;
  readonly ref: number;
  readonly gfn: number;
  readonly mfn: number;
  readonly readonly: boolean;
}

export interface DomainInspection {
  readonly domid: number;
  readonly name: string;
  readonly type: 'pv' | 'hvm' | 'dom0';
  readonly evtchn: readonly EvtchnInfo[];
  readonly vcpuInfo: readonly VcpuInfoView[];
  /** Grant entries in use (flags not GTF_invalid, or a nonzero domid or frame). */
  readonly grants: readonly GrantInfo[];
  /** Size of the grant table in entries. */
  readonly grantEntries: number;
  readonly mapped: readonly MappedGrant[];
  /** /local/domain/<domid> (Domain-0: the whole store), or null if absent. */
  readonly xenstore: XsTreeNode | null;
  /** Populated frames of the P2M, and its size. */
  readonly p2m: { readonly populated: number; readonly maxFrames: number } | null;
}

/** Read a word of guest memory; null if the guest has no frame there now. */
function readU32(mem: GuestMemory, gpa: number): number | null {
  try {
    return mem.u32(gpa);
  } catch (e) {
    if (e instanceof GuestFault) return null;
    throw e;
  }
}

export function inspectEvtchn(hv: Hypervisor, domid: number): EvtchnInfo[] {
  const d = hv.lookup(domid);
  if (!d) throw new Error(`no domain ${domid}`);
  const layout = domid === 0 ? undefined : hv.domains.get(domid)?.pv;
  const out: EvtchnInfo[] = [];
  for (let port = 1; port < d.ports.length; port++) {
    const e = d.ports[port];
    if (!e || e.s.state === 'free') continue;
    const si = d.siMachine;
    const pending = si >= 0 ? evtchnIsPending(hv.machine, si, port) : null;
    const masked = si >= 0 ? evtchnIsMasked(hv.machine, si, port) : null;
    const s = e.s;
    const role = layout?.consolePort === port ? 'console' : layout?.xenstorePort === port ? 'xenstore' : null;
    out.push({
      port,
      state: s.state,
      remoteDomid: s.state === 'interdomain' || s.state === 'unbound' ? s.remoteDomid : null,
      remotePort: s.state === 'interdomain' ? s.remotePort : null,
      virq: s.state === 'virq' ? s.virq : null,
      virqName: s.state === 'virq' ? (VIRQ_NAMES[s.virq] ?? `VIRQ ${s.virq}`) : null,
      vcpu: e.vcpu,
      pending,
      masked,
      role,
    });
  }
  return out;
}

function vcpuInfo(hv: Hypervisor, d: Domain): VcpuInfoView[] {
  const si = d.siMachine;
  if (!d.pv || si < 0) return [];
  const m = hv.machine;
  return d.vcpus.map((v) => ({
    vcpuId: v.vcpuId,
    upcallPending: upcallPending(m, si, v.vcpuId) ? 1 : 0,
    upcallMask: upcallMasked(m, si, v.vcpuId) ? 1 : 0,
    pendingSel: pendingSelector(m, si, v.vcpuId),
  }));
}

const FLAG_NAMES: readonly [number, string][] = [
  [X.GTF_readonly, 'readonly'],
  [X.GTF_reading, 'reading'],
  [X.GTF_writing, 'writing'],
];

export function grantFlagNames(flags: number): string[] {
  const type = flags & X.GTF_type_mask;
  const names = [type === X.GTF_permit_access ? 'permit_access' : type === X.GTF_invalid ? 'invalid' : `type ${type}`];
  for (const [b, n] of FLAG_NAMES) if (flags & b) names.push(n);
  return names;
}

/** The entries of a domain's grant table that are in use, with who has them mapped. */
export function inspectGrants(hv: Hypervisor, d: Domain): GrantInfo[] {
  const mem = d.mem;
  if (!mem || d.grantFrames.length === 0) return [];
  const mappers = new Map<number, number[]>();
  for (const other of hv.domains.values()) {
    for (const m of other.maptrack.values()) {
      if (m.granter !== d.domid) continue;
      const list = mappers.get(m.ref) ?? [];
      if (!list.includes(other.domid)) list.push(other.domid);
      mappers.set(m.ref, list);
    }
  }
  const out: GrantInfo[] = [];
  for (let f = 0; f < d.grantFrames.length; f++) {
    const base = d.ramBase + d.grantFrames[f]! * 4096;
    for (let i = 0; i < GRANTS_PER_FRAME; i++) {
      const word = readU32(mem, base + i * GRANT_ENTRY_SIZE);
      const frame = readU32(mem, base + i * GRANT_ENTRY_SIZE + 4);
      if (word === null || frame === null) break; // the frame is gone (ballooned out)
      if (word === 0 && frame === 0) continue;
      const ref = f * GRANTS_PER_FRAME + i;
      const flags = word & 0xffff;
      out.push({ ref, flags, flagNames: grantFlagNames(flags), domid: word >>> 16, frame, mappedBy: mappers.get(ref) ?? [] });
    }
  }
  return out;
}

export function xenstoreTree(hv: Hypervisor, path: string): XsTreeNode | null {
  return hv.xenstored.store.tree(path) ?? null;
}

/** Everything the inspector shows about one domain (0: Domain-0). */
export function inspectDomain(hv: Hypervisor, domid: number): DomainInspection {
  if (domid === 0) {
    return {
      domid: 0,
      name: 'Domain-0',
      type: 'dom0',
      evtchn: inspectEvtchn(hv, 0),
      vcpuInfo: [],
      grants: [],
      grantEntries: 0,
      mapped: [],
      xenstore: xenstoreTree(hv, '/'),
      p2m: null,
    };
  }
  const d = hv.getDomain(domid);
  return {
    domid,
    name: d.name,
    type: d.config.type,
    evtchn: inspectEvtchn(hv, domid),
    vcpuInfo: vcpuInfo(hv, d),
    grants: inspectGrants(hv, d),
    grantEntries: d.grantFrames.length * GRANTS_PER_FRAME,
    mapped: [...d.maptrack].map(([handle, m]) => ({ handle, granter: m.granter, ref: m.ref, gfn: m.gfn, mfn: m.mfn, readonly: m.readonly })),
    xenstore: xenstoreTree(hv, `/local/domain/${domid}`),
    p2m: { populated: d.p2m.populated(), maxFrames: d.p2m.maxFrames },
  };
}

/** Whose every machine frame is, and which frames cross domains through grants. */
export interface MemoryMapView {
  readonly nrFrames: number;
  /** Owner of every machine frame: a domid, or -1 (free). A copy. */
  readonly owner: Int32Array;
  readonly free: number;
  /** Frames per domain, as the owner array counts them, beside what the domain is accounted. */
  readonly domains: readonly { readonly domid: number; readonly name: string; readonly frames: number; readonly totPages: number }[];
  /** Frames an active grant entry offers to another domain. */
  readonly granted: readonly { readonly mfn: number; readonly owner: number; readonly ref: number; readonly to: number }[];
  /** Frames another domain has mapped now. */
  readonly mapped: readonly { readonly mfn: number; readonly owner: number; readonly by: number }[];
  /** pv domains' special pages: start_info, shared_info, the console and xenstore rings, grant table frames. */
  readonly special: readonly { readonly mfn: number; readonly domid: number; readonly what: string }[];
}

function mfnOf(d: Domain, gfn: number): number {
  const e = d.p2m.get(gfn);
  return e < 0 ? -1 : e & P2M_MFN_MASK;
}

export function memoryMap(hv: Hypervisor): MemoryMapView {
  const owner = hv.memory.owner.slice();
  const counts = new Map<number, number>();
  for (const o of owner) if (o !== FREE) counts.set(o, (counts.get(o) ?? 0) + 1);
  const granted: { mfn: number; owner: number; ref: number; to: number }[] = [];
  const mapped: { mfn: number; owner: number; by: number }[] = [];
  const special: { mfn: number; domid: number; what: string }[] = [];
  const domains = [...hv.domains.values()].sort((a, b) => a.domid - b.domid);
  for (const d of domains) {
    for (const m of d.maptrack.values()) mapped.push({ mfn: m.mfn, owner: m.granter, by: d.domid });
    for (const g of inspectGrants(hv, d)) {
      if ((g.flags & X.GTF_type_mask) !== X.GTF_permit_access) continue;
      const mfn = mfnOf(d, g.frame - d.ramBase / 4096); // entries name frames as address >> 12
      if (mfn >= 0) granted.push({ mfn, owner: d.domid, ref: g.ref, to: g.domid });
    }
    if (d.pv) {
      const page = (gpa: number): number => (gpa - d.ramBase) / 4096;
      const add = (gfn: number, what: string): void => {
        const mfn = mfnOf(d, gfn);
        if (mfn >= 0) special.push({ mfn, domid: d.domid, what });
      };
      add(page(d.pv.startInfo), 'start_info');
      add(page(d.sharedInfo), 'shared_info');
      add(d.pv.consoleGfn, 'console ring');
      add(d.pv.xenstoreGfn, 'xenstore ring');
      d.grantFrames.forEach((gfn, i) => add(gfn, `grant table frame ${i}`));
    }
  }
  return {
    nrFrames: hv.memory.nrFrames,
    owner,
    free: hv.memory.nrFree,
    domains: domains.map((d) => ({ domid: d.domid, name: d.name, frames: counts.get(d.domid) ?? 0, totPages: d.totPages })),
    granted,
    mapped,
    special,
  };
}
