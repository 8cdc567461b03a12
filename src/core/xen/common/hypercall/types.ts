/**
 * The shape of the hypercall table (hypercalls.ts): every hypercall and sub-operation with
 * its number, its name, where it is served and its handler. Handlers check their own
 * arguments (every pointer goes through GuestMemory, so a bad one is -EFAULT) and return
 * the result for a0 and what the vCPU does next.
 */
import type { Domain, Vcpu } from '../domain';
import type { EventChannels, EvtchnDomain } from '../evtchn';
import type { GnttabDomain, GrantTables } from '../gnttab';
import type { MachineViews } from '../sharedInfo';

/**
 * What the vCPU does after the call returns (C_RET1). POLL: block, but leave the upcall
 * mask alone (SCHEDOP_poll). (1 was BLOCK, before SCHEDOP_block was served in the vCPU.)
 */
export const enum HcAction {
  NONE = 0,
  YIELD = 2,
  STOP = 3,
  POLL = 4,
}

export interface HcResult {
  ret: number;
  action: HcAction;
}

export const ok = (ret: number, action = HcAction.NONE): HcResult => ({ ret, action });

/**
 * Where an operation is served. `vcpu`: in the calling vCPU's worker, which never asks the
 * hypervisor thread (its state is there: the timer, the upcall mask). `vcpu-first`: the
 * worker serves it when it can (a direct event send) and hands it to the hypervisor thread
 * otherwise. `hypervisor`: always in the hypervisor thread.
 */
export type Served = 'vcpu' | 'vcpu-first' | 'hypervisor';

/** What the handlers need of the hypervisor. */
export interface HypercallContext {
  /** A vCPU of `d` started or stopped polling (SCHEDOP_poll). */
  pollersChanged(d: Domain): void;
  readonly evtchn: EventChannels;
  /** Machine memory, for shared_info (sharedInfo.ts). */
  readonly machine: MachineViews;
  readonly gnttab: GrantTables;
  lookup(domid: number): (Domain & EvtchnDomain & GnttabDomain) | undefined;
  consoleWrite(d: Domain, bytes: Uint8Array): void;
  consoleRead(d: Domain, max: number): Uint8Array;
  shutdown(d: Domain, reason: number): void;
  /** SCHEDOP_shutdown(SHUTDOWN_suspend) from vCPU `v`: the domain stops, suspended; returns the call's result (0). */
  suspend(d: Domain, v: Vcpu): number;
  vcpuUp(d: Domain, vcpuId: number, pc: number, a1: number): number;
  vcpuDown(v: Vcpu): number;
  populate(d: Domain, gfn: number): boolean;
  depopulate(d: Domain, gfn: number): boolean;
  now(): number;
}

/** A pv domain as handlers see it: it has guest memory (the dispatcher checks). */
export type PvCaller = Domain & EvtchnDomain & GnttabDomain & { readonly mem: NonNullable<Domain['mem']> };

export type Handler = (ctx: HypercallContext, d: PvCaller, v: Vcpu, args: readonly number[]) => HcResult;

export interface Operation {
  name: string;
  served: Served;
  /** The hypervisor thread's handler; none for operations served only in the vCPU. */
  handler?: Handler;
}

export interface SubOperation extends Operation {
  /** The sub-operation number (the hypercall's first argument). */
  cmd: number;
}

/** A hypercall: either one operation, or sub-operations chosen by its first argument. */
export type Hypercall = { nr: number; name: string } & ({ op: Operation } | { subOps: readonly SubOperation[] });
