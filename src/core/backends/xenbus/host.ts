/**
 * What a Domain-0 backend driver (blkback, netback) uses of the hypervisor: machine memory
 * for the ring pages it maps, the grant table's Domain-0 entry points, event channels
 * bound to the frontend's port, and Domain-0's xenstore handle. The toolstack builds one
 * from the Hypervisor (tools/vbd.ts, tools/vif.ts); tests build one by hand.
 */
import type { GrantTables } from '../../xen/common/gnttab';
import type { MachineViews } from '../../xen/common/sharedInfo';

/** The xenstore calls a backend makes (an XsHandle of Domain-0 satisfies it). */
export interface BackendXenstore {
  read(path: string): Promise<string>;
  write(path: string, value: string): Promise<void>;
  watch(path: string, token: string, cb: (path: string, token: string) => void): Promise<void>;
  unwatch(path: string, token: string): Promise<void>;
}

export interface BackendHost {
  readonly machine: MachineViews;
  readonly gnttab: Pick<GrantTables, 'dom0Map' | 'dom0Unmap' | 'dom0Copy'>;
  /** Bind to the frontend's unbound port; returns Domain-0's port or -errno. */
  dom0Bind(domid: number, remotePort: number, handler: () => void): number;
  dom0Close(port: number): void;
  dom0Notify(port: number): void;
  readonly xs: BackendXenstore;
  dmesg(line: string): void;
}
