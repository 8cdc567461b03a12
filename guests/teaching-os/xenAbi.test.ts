/**
 * The pv ABI written twice: in C for the guest (guests/teaching-os/pv/xen.h) and in
 * TypeScript for the hypervisor and the toolstack (src/core/xen/public/xen.ts, the grant
 * entry size, the xenstore ring and wire constants). This test checks that the two agree
 * on every number and every offset.
 *
 * How: it writes a C file that includes xen.h and holds one
 * `_Static_assert((C expression) == TS value, ...)` per pair, and compiles it with clang
 * for the guest's target (riscv32, ilp32: the guest's sizes, alignments and offsets).
 * One compile reports every pair that differs. The same compile dumps the record layouts,
 * and `clang -dM -E` lists xen.h's macros, so the test also knows every name and every
 * struct field on the C side: each one is either checked against TypeScript here or
 * listed in C_ONLY with the reason it has no TypeScript counterpart. Likewise every
 * numeric TypeScript export is either paired or listed in TS_ONLY. A constant added on
 * one side only therefore fails the test until it is paired or explained.
 *
 * The hypercall argument structs (evtchn_*, gnttab_*, xen_memory_reservation,
 * vcpu_up_args, sched_shutdown) have no named offsets on the TypeScript side: the
 * handlers in src/core/xen/common/hypercall/ read them through the layouts of
 * src/core/xen/public/structs.ts, which are checked here field by field.
 *
 * Skipped only when clang is missing (CI installs it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as X from '../../src/core/xen/public/xen';
import * as T from '../../src/core/xen/public/structs';
import { GRANT_ENTRY_SIZE, GRANTS_PER_FRAME } from '../../src/core/xen/common/gnttab';
import * as Ring from '../../src/core/tools/xenstore/ring';
import { XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG_SIZE, XsType } from '../../src/core/tools/xenstore/wire';
import { XS_ERRNO_VALUES } from '../../src/core/tools/xenstore/errors';

const PV_DIR = join(dirname(fileURLToPath(import.meta.url)), 'pv');
const XEN_H = join(PV_DIR, 'xen.h');
const CFLAGS = ['--target=riscv32-unknown-elf', '-march=rv32ima', '-mabi=ilp32', '-ffreestanding', '-std=c11', `-I${PV_DIR}`];

const clangMissing = ((): boolean => {
  const r = spawnSync('clang', ['--version'], { stdio: 'ignore' });
  return r.error !== undefined || r.status !== 0;
})();
if (clangMissing) console.warn('xenAbi.test.ts: clang not found: the C/TypeScript ABI comparison is skipped (CI installs clang)');

/** One number both sides have: its TypeScript name and value, and a C constant expression. */
interface Pair {
  ts: string;
  value: number;
  c: string;
}

const si = (field: string): string => `offsetof(struct start_info, ${field})`;
const shared = (field: string): string => `offsetof(struct shared_info, ${field})`;
const vcpu = (field: string): string => `offsetof(struct vcpu_info, ${field})`;
const cons = (field: string): string => `offsetof(struct xencons_interface, ${field})`;
const xs = (field: string): string => `offsetof(struct xenstore_domain_interface, ${field})`;
const member = (struct: string, field: string): string => `sizeof(((struct ${struct} *)0)->${field})`;

/** xen.ts name -> C expression. */
const XEN_TS: Record<string, string> = {
  HYPERVISOR_memory_op: '__HYPERVISOR_memory_op',
  HYPERVISOR_set_timer_op: '__HYPERVISOR_set_timer_op',
  HYPERVISOR_xen_version: '__HYPERVISOR_xen_version',
  HYPERVISOR_console_io: '__HYPERVISOR_console_io',
  HYPERVISOR_grant_table_op: '__HYPERVISOR_grant_table_op',
  HYPERVISOR_vcpu_op: '__HYPERVISOR_vcpu_op',
  HYPERVISOR_sched_op: '__HYPERVISOR_sched_op',
  HYPERVISOR_event_channel_op: '__HYPERVISOR_event_channel_op',
  SBI_EXT_XEN: 'XEN_SBI_EXT',
  EPERM: 'XEN_EPERM',
  ENOENT: 'XEN_ENOENT',
  ESRCH: 'XEN_ESRCH',
  EFAULT: 'XEN_EFAULT',
  EBUSY: 'XEN_EBUSY',
  EEXIST: 'XEN_EEXIST',
  EINVAL: 'XEN_EINVAL',
  ENOSPC: 'XEN_ENOSPC',
  ENOSYS: 'XEN_ENOSYS',
  ENOMEM: 'XEN_ENOMEM',
  EAGAIN: 'XEN_EAGAIN',
  DOMID_SELF: 'DOMID_SELF',
  CONSOLEIO_write: 'CONSOLEIO_write',
  SCHEDOP_yield: 'SCHEDOP_yield',
  SCHEDOP_block: 'SCHEDOP_block',
  SCHEDOP_shutdown: 'SCHEDOP_shutdown',
  SHUTDOWN_poweroff: 'SHUTDOWN_poweroff',
  SHUTDOWN_reboot: 'SHUTDOWN_reboot',
  SHUTDOWN_suspend: 'SHUTDOWN_suspend',
  SHUTDOWN_crash: 'SHUTDOWN_crash',
  XENVER_version: 'XENVER_version',
  XENVER_extraversion: 'XENVER_extraversion',
  VCPUOP_up: 'VCPUOP_up',
  VCPUOP_down: 'VCPUOP_down',
  VCPUOP_is_up: 'VCPUOP_is_up',
  EVTCHNOP_bind_interdomain: 'EVTCHNOP_bind_interdomain',
  EVTCHNOP_bind_virq: 'EVTCHNOP_bind_virq',
  EVTCHNOP_close: 'EVTCHNOP_close',
  EVTCHNOP_send: 'EVTCHNOP_send',
  EVTCHNOP_status: 'EVTCHNOP_status',
  EVTCHNOP_alloc_unbound: 'EVTCHNOP_alloc_unbound',
  EVTCHNOP_unmask: 'EVTCHNOP_unmask',
  EVTCHNSTAT_closed: 'EVTCHNSTAT_closed',
  EVTCHNSTAT_unbound: 'EVTCHNSTAT_unbound',
  EVTCHNSTAT_interdomain: 'EVTCHNSTAT_interdomain',
  EVTCHNSTAT_virq: 'EVTCHNSTAT_virq',
  EVTCHNSTAT_ipi: 'EVTCHNSTAT_ipi',
  VIRQ_TIMER: 'VIRQ_TIMER',
  GNTTABOP_map_grant_ref: 'GNTTABOP_map_grant_ref',
  GNTTABOP_unmap_grant_ref: 'GNTTABOP_unmap_grant_ref',
  GNTTABOP_setup_table: 'GNTTABOP_setup_table',
  GNTTABOP_query_size: 'GNTTABOP_query_size',
  GTF_permit_access: 'GTF_permit_access',
  GTF_readonly: 'GTF_readonly',
  GTF_reading: 'GTF_reading',
  GTF_writing: 'GTF_writing',
  GNTMAP_host_map: 'GNTMAP_host_map',
  GNTMAP_readonly: 'GNTMAP_readonly',
  GNTST_okay: 'GNTST_okay',
  GNTST_general_error: 'GNTST_general_error',
  GNTST_bad_domain: 'GNTST_bad_domain',
  GNTST_bad_gntref: 'GNTST_bad_gntref',
  GNTST_bad_handle: 'GNTST_bad_handle',
  GNTST_bad_virt_addr: 'GNTST_bad_virt_addr',
  GNTST_permission_denied: 'GNTST_permission_denied',
  GNTST_bad_page: 'GNTST_bad_page',
  XENMEM_increase_reservation: 'XENMEM_increase_reservation',
  XENMEM_decrease_reservation: 'XENMEM_decrease_reservation',
  XENMEM_current_reservation: 'XENMEM_current_reservation',
  XENMEM_maximum_reservation: 'XENMEM_maximum_reservation',
  NR_EVTCHN_PORTS: 'NR_EVTCHN_PORTS',
  // shared_info / vcpu_info
  SI_VCPU_INFO: shared('vcpu_info'),
  VCPU_INFO_SIZE: 'sizeof(struct vcpu_info)',
  VI_UPCALL_PENDING: vcpu('evtchn_upcall_pending'),
  VI_UPCALL_MASK: vcpu('evtchn_upcall_mask'),
  VI_PENDING_SEL: vcpu('evtchn_pending_sel'),
  VI_TIME: vcpu('time'),
  SI_EVTCHN_PENDING: shared('evtchn_pending'),
  SI_EVTCHN_MASK: shared('evtchn_mask'),
  SI_WC_VERSION: shared('wc_version'),
  MAX_VCPUS: 'XEN_LEGACY_MAX_VCPUS',
  // start_info
  SI_NR_PAGES: si('nr_pages'),
  SI_SHARED_INFO: si('shared_info'),
  SI_FLAGS: si('flags'),
  SI_STORE_MFN: si('store_mfn'),
  SI_STORE_EVTCHN: si('store_evtchn'),
  SI_CONSOLE_MFN: si('console_mfn'),
  SI_CONSOLE_EVTCHN: si('console_evtchn'),
  SI_MOD_START: si('mod_start'),
  SI_MOD_LEN: si('mod_len'),
  SI_CMD_LINE: si('cmd_line'),
  MAX_GUEST_CMDLINE: member('start_info', 'cmd_line'),
  // io/console.h
  XENCONS_IN: cons('in'),
  XENCONS_IN_SIZE: 'XENCONS_IN_SIZE',
  XENCONS_OUT: cons('out'),
  XENCONS_OUT_SIZE: 'XENCONS_OUT_SIZE',
  XENCONS_IN_CONS: cons('in_cons'),
  XENCONS_IN_PROD: cons('in_prod'),
  XENCONS_OUT_CONS: cons('out_cons'),
  XENCONS_OUT_PROD: cons('out_prod'),
};

/** Numeric TypeScript exports without a C counterpart, and why the teaching OS needs none. */
const TS_ONLY: Record<string, string> = {
  'xen.ts:CONSOLEIO_read': 'the teaching OS reads its input from the console ring, not from console_io',
  'xen.ts:SCHEDOP_poll': 'the teaching OS blocks (SCHEDOP_block), it never polls',
  'xen.ts:SHUTDOWN_watchdog': 'the teaching OS has no watchdog',
  'xen.ts:XENVER_get_features': 'the teaching OS asks for the version and extraversion only',
  'xen.ts:XENVER_pagesize': 'the teaching OS asks for the version and extraversion only',
  'xen.ts:VCPUOP_get_runstate_info': 'the `smp` command uses VCPUOP_up/down/is_up only',
  'xen.ts:EVTCHNOP_bind_ipi': 'the teaching OS sends no IPIs (its secondary vCPUs only count)',
  'xen.ts:VIRQ_CONSOLE': "Domain-0's virtual IRQ; the teaching OS runs as a domU",
  'xen.ts:NR_VIRQS': "the hypervisor's bound on VIRQ numbers",
  'xen.ts:GNTTABOP_copy': 'the teaching OS maps grants, it never copies',
  'xen.ts:GNTCOPY_source_gref': 'GNTTABOP_copy only',
  'xen.ts:GNTCOPY_dest_gref': 'GNTTABOP_copy only',
  'xen.ts:GNTST_bad_copy_arg': 'GNTTABOP_copy only',
  'xen.ts:GNTST_no_space': 'not returned by the operations the teaching OS uses',
  'xen.ts:GTF_invalid': 'the teaching OS ends a grant by writing flags = 0',
  'xen.ts:GTF_type_mask': 'the hypervisor masks the type; the guest only writes GTF_permit_access',
  'xen.ts:XENMEM_populate_physmap': 'the balloon uses increase/decrease_reservation',
  'gnttab.ts:GRANTS_PER_FRAME': 'derived: 4096 / GRANT_ENTRY_SIZE (checked)',
  'ring.ts:XENSTORE_SERVER_FEATURE_RECONNECTION': 'the teaching OS does not use ring reconnection (the field offsets are checked)',
  'ring.ts:XENSTORE_SERVER_FEATURE_ERROR': 'the teaching OS does not read the error field (its offset is checked)',
  'ring.ts:XENSTORE_CONNECTED': 'ring reconnection only',
  'ring.ts:XENSTORE_RECONNECT': 'ring reconnection only',
  'ring.ts:XENSTORE_ERROR_NONE': 'values of the error field, which the teaching OS does not read',
  'ring.ts:XENSTORE_ERROR_COMM': 'values of the error field, which the teaching OS does not read',
  'ring.ts:XENSTORE_ERROR_RINGIDX': 'values of the error field, which the teaching OS does not read',
  'ring.ts:XENSTORE_ERROR_PROTO': 'values of the error field, which the teaching OS does not read',
  ...Object.fromEntries(
    [
      'CONTROL',
      'DEBUG',
      'INTRODUCE',
      'RELEASE',
      'GET_DOMAIN_PATH',
      'IS_DOMAIN_INTRODUCED',
      'RESUME',
      'SET_TARGET',
      'RESET_WATCHES',
      'DIRECTORY_PART',
      'GET_FEATURE',
      'SET_FEATURE',
      'GET_QUOTA',
      'SET_QUOTA',
      'INVALID',
    ].map((t) => [`wire.ts:XsType.${t}`, 'a xenstore request the teaching OS never sends (toolstack-only, or not used by its `xs` command)']),
  ),
};

/** Names and struct fields in xen.h without a TypeScript counterpart, and why. A field
 * entry ("struct.field") covers the fields nested in it; a bare struct name covers all. */
const C_ONLY: Record<string, string> = {
  TOS_XEN_H: 'the include guard',
  XEN_ETIMEDOUT: "the guest's own: a xenstore request with no answer; neither the hypervisor nor xenstored returns it",
  EVTCHNSTAT_pirq: 'hyperlab has no physical IRQs: the hypervisor never reports this status',
  GNTTAB_NR_RESERVED_ENTRIES: "a guest convention (Xen's toolstack keeps refs 0..7 for the console and xenstore)",
  XEN_START_MAGIC: "checked apart: it must be a prefix of xen.ts's START_INFO_MAGIC",
  'start_info.magic': 'checked apart: START_INFO_MAGIC is written at offset 0 and must fit',
  'start_info.pt_base': 'x86 PV only: the builder leaves it 0',
  'start_info.nr_pt_frames': 'x86 PV only: the builder leaves it 0',
  'start_info.mfn_list': 'x86 PV only: the builder leaves it 0',
  'start_info.first_p2m_pfn': 'x86 PV only: the builder leaves it 0',
  'start_info.nr_p2m_frames': 'x86 PV only: the builder leaves it 0',
  vcpu_time_info: 'hyperlab does not fill the time info (pv guests read the time CSR); only its offset VI_TIME is named',
  'vcpu_info.time': 'as vcpu_time_info (the offset of the member itself is checked: VI_TIME)',
  'vcpu_info.pad': 'padding',
  'vcpu_info.arch': 'x86 arch_vcpu_info, unused on RISC-V',
  'shared_info.wc_sec': 'the wallclock is not maintained; only SI_WC_VERSION is named',
  'shared_info.wc_nsec': 'the wallclock is not maintained; only SI_WC_VERSION is named',
  'shared_info.wc_sec_hi': 'the wallclock is not maintained; only SI_WC_VERSION is named',
  'xen_memory_reservation.mem_flags': 'the handler ignores it (no NUMA or address-width flags)',
  'gnttab_map_grant_ref.dev_bus_addr': 'the handler never writes it (no IOMMU)',
  'gnttab_unmap_grant_ref.dev_bus_addr': 'the handler never reads it (no IOMMU)',
  'evtchn_status.u.pirq': 'hyperlab has no physical IRQs',
};

/**
 * Structs of public/structs.ts (the handlers' argument layouts) that xen.h does not
 * declare, because the teaching OS makes no such call: checked by the hypercall table's
 * test instead (src/node/hypercallTable.test.ts).
 */
const STRUCTS_TS_ONLY: Record<string, string> = {
  evtchn_bind_ipi: 'the teaching OS binds no IPI ports',
  gnttab_copy: 'the teaching OS makes no GNTTABOP_copy',
  gnttab_copy_ptr: 'the teaching OS makes no GNTTABOP_copy',
  xen_feature_info: 'the teaching OS does not ask for features',
  sched_poll: 'the teaching OS does not poll',
  vcpu_runstate_info: 'the teaching OS does not read runstates',
};
/** structs.ts field names that are not C member paths (the union members of evtchn_status). */
const FIELD_C: Record<string, string> = {
  'evtchn_status.u_unbound_dom': 'u.unbound.dom',
  'evtchn_status.u_interdomain_dom': 'u.interdomain.dom',
  'evtchn_status.u_interdomain_port': 'u.interdomain.port',
  'evtchn_status.u_virq': 'u.virq',
};
/** Offsets the xenstore wire code reads as literals (wire.ts decodeHeader). [struct, field, offset, where]. */
const WIRE_OFFSETS: [string, string, number, string][] = [
  ['xsd_sockmsg', 'type', 0, 'tools/xenstore/wire.ts decodeHeader'],
  ['xsd_sockmsg', 'req_id', 4, 'tools/xenstore/wire.ts decodeHeader'],
  ['xsd_sockmsg', 'tx_id', 8, 'tools/xenstore/wire.ts decodeHeader'],
  ['xsd_sockmsg', 'len', 12, 'tools/xenstore/wire.ts decodeHeader'],
];

/** Every pair: the named TypeScript constants, then the handlers' literals. */
function pairs(): { named: Pair[]; literal: Pair[] } {
  const named: Pair[] = [];
  const xen = X as unknown as Record<string, unknown>;
  for (const [ts, c] of Object.entries(XEN_TS)) named.push({ ts: `xen.ts:${ts}`, value: xen[ts] as number, c });
  named.push({ ts: 'gnttab.ts:GRANT_ENTRY_SIZE', value: GRANT_ENTRY_SIZE, c: 'sizeof(struct grant_entry_v1)' });
  const ring: [keyof typeof Ring, string][] = [
    ['XENSTORE_RING_SIZE', 'XENSTORE_RING_SIZE'],
    ['XS_RING_REQ', xs('req')],
    ['XS_RING_RSP', xs('rsp')],
    ['XS_RING_REQ_CONS', xs('req_cons')],
    ['XS_RING_REQ_PROD', xs('req_prod')],
    ['XS_RING_RSP_CONS', xs('rsp_cons')],
    ['XS_RING_RSP_PROD', xs('rsp_prod')],
    ['XS_RING_SERVER_FEATURES', xs('server_features')],
    ['XS_RING_CONNECTION', xs('connection')],
    ['XS_RING_ERROR', xs('error')],
    ['XS_RING_EVTCHN_PORT', xs('evtchn_port')],
  ];
  for (const [ts, c] of ring) named.push({ ts: `ring.ts:${ts}`, value: Ring[ts] as number, c });
  named.push({ ts: 'ring.ts:XENSTORE_RING_SIZE (req[])', value: Ring.XENSTORE_RING_SIZE, c: member('xenstore_domain_interface', 'req') });
  named.push({ ts: 'ring.ts:XENSTORE_RING_SIZE (rsp[])', value: Ring.XENSTORE_RING_SIZE, c: member('xenstore_domain_interface', 'rsp') });
  named.push({ ts: 'xen.ts:XENCONS_IN_SIZE (in[])', value: X.XENCONS_IN_SIZE, c: member('xencons_interface', 'in') });
  named.push({ ts: 'xen.ts:XENCONS_OUT_SIZE (out[])', value: X.XENCONS_OUT_SIZE, c: member('xencons_interface', 'out') });
  named.push({ ts: 'xen.ts:NR_EVTCHN_PORTS (pending bits)', value: X.NR_EVTCHN_PORTS, c: '8 * ' + member('shared_info', 'evtchn_pending') });
  named.push({ ts: 'xen.ts:NR_EVTCHN_PORTS (mask bits)', value: X.NR_EVTCHN_PORTS, c: '8 * ' + member('shared_info', 'evtchn_mask') });
  named.push({ ts: 'xen.ts:MAX_VCPUS (vcpu_info[])', value: X.MAX_VCPUS * X.VCPU_INFO_SIZE, c: member('shared_info', 'vcpu_info') });
  named.push({ ts: 'wire.ts:XSD_SOCKMSG_SIZE', value: XSD_SOCKMSG_SIZE, c: 'sizeof(struct xsd_sockmsg)' });
  named.push({ ts: 'wire.ts:XENSTORE_PAYLOAD_MAX', value: XENSTORE_PAYLOAD_MAX, c: 'XENSTORE_PAYLOAD_MAX' });
  for (const [name, value] of Object.entries(XsType)) {
    if (!TS_ONLY[`wire.ts:XsType.${name}`]) named.push({ ts: `wire.ts:XsType.${name}`, value, c: `XS_${name}` });
  }
  // xenstored's errno values, as the teaching OS turns ERROR replies into -errno.
  for (const [name, value] of Object.entries(XS_ERRNO_VALUES)) named.push({ ts: `errors.ts:XS_ERRNO_VALUES.${name}`, value, c: `XEN_${name}` });

  const literal: Pair[] = WIRE_OFFSETS.map(([struct, field, value, where]) => ({
    ts: `${where}: ${struct}.${field} at ${value}`,
    value,
    c: `offsetof(struct ${struct}, ${field})`,
  }));
  // Every argument struct the hypercall handlers read (public/structs.ts), field by field.
  for (const [struct, layout] of Object.entries(T)) {
    if (STRUCTS_TS_ONLY[struct]) continue;
    for (const [field, value] of Object.entries(layout as Record<string, number>)) {
      const c = field === 'SIZE' ? `sizeof(struct ${struct})` : `offsetof(struct ${struct}, ${FIELD_C[`${struct}.${field}`] ?? field})`;
      literal.push({ ts: `structs.ts:${struct}.${field}`, value, c });
    }
  }
  return { named, literal };
}

function clang(args: string[], input: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('clang', [...CFLAGS, ...args, '-x', 'c', '-'], { input, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `#define`s of xen.h: NAME -> replacement text (those of the headers it includes left out). */
function macros(): Map<string, string> {
  const list = (src: string): Map<string, string> => {
    const out = new Map<string, string>();
    for (const line of clang(['-E', '-dM'], src).stdout.split('\n')) {
      const m = /^#define (\w+)(?:\([^)]*\))? ?(.*)$/.exec(line);
      if (m) out.set(m[1]!, m[2]!);
    }
    return out;
  };
  const base = list('#include <stddef.h>\n#include <stdint.h>\n');
  const all = list('#include "xen.h"\n');
  for (const name of base.keys()) all.delete(name);
  return all;
}

/** Enumerators declared in xen.h. */
function enumerators(): string[] {
  const text = readFileSync(XEN_H, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const names: string[] = [];
  for (const body of text.matchAll(/enum\s*\w*\s*\{([^}]*)\}/g)) {
    for (const m of body[1]!.matchAll(/(\w+)\s*(?:=[^,]*)?(?:,|$)/g)) names.push(m[1]!);
  }
  return names;
}

/** The fields of every struct in xen.h, from clang's record layout dump: "struct.a.b" for
 * every leaf field (a nested struct or union is walked; an array of structs is a leaf). */
function fields(layouts: string): string[] {
  const out: string[] = [];
  let path: string[] = [];
  let prev: { depth: number; path: string } | undefined;
  let skip = false; // inside the separate dump of an unnamed struct or union (seen in its parent)
  for (const line of layouts.split('\n')) {
    const m = /^\s*\d+ \|( *)(.*\S)\s*$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 2 - 0.5; // "| struct x" = 0, "|   field" = 1, ...
    const words = m[2]!.split(' ');
    const name = words.at(-1)!;
    if (depth === 0) {
      if (prev && prev.depth > 0) out.push(prev.path);
      prev = undefined;
      path = [name];
      skip = m[2]!.includes('(unnamed at ');
      continue;
    }
    if (skip) continue;
    path = [...path.slice(0, depth), name];
    if (prev && depth <= prev.depth) out.push(prev.path); // the previous line had no children
    prev = { depth, path: path.join('.') };
  }
  if (prev && prev.depth > 0) out.push(prev.path);
  return [...new Set(out)];
}

const covered = (name: string, cOnly: Record<string, string>): boolean => Object.keys(cOnly).some((k) => name === k || name.startsWith(`${k}.`));

describe.skipIf(clangMissing)('pv/xen.h and the TypeScript ABI agree (riscv32 ilp32 layouts)', () => {
  const { named, literal } = pairs();
  const structs = [...readFileSync(XEN_H, 'utf8').matchAll(/struct (\w+) \{/g)].map((m) => m[1]!);

  it('every pair has the same value on both sides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xen-abi-'));
    try {
      const all = [...named, ...literal];
      const src = [
        '#include <stddef.h>',
        '#include "xen.h"',
        ...all.map((p) => `_Static_assert((long long)(${p.c}) == ${p.value}LL, ${JSON.stringify(`${p.ts} = ${p.value}, but C ${p.c} differs`)});`),
      ].join('\n');
      writeFileSync(join(dir, 'xen-abi.c'), src); // for a reader of a failure
      const r = clang(['-fsyntax-only', '-ferror-limit=0'], src);
      const failed = [...r.stderr.matchAll(/static.assert(?:ion)? failed[^"]*"([^"]*)"/g)].map((m) => m[1]);
      expect(failed).toEqual([]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(all.length).toBeGreaterThan(200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('START_INFO_MAGIC starts with xen.h XEN_START_MAGIC and fits in start_info.magic', () => {
    const magic = macros().get('XEN_START_MAGIC');
    expect(magic).toBe('"xen-3.0-"');
    expect(X.START_INFO_MAGIC.startsWith(JSON.parse(magic!) as string)).toBe(true);
    const r = clang(['-fsyntax-only'], `#include "xen.h"\n_Static_assert(sizeof(((struct start_info *)0)->magic) > ${X.START_INFO_MAGIC.length}, "magic");\n`);
    expect(r.stderr).toBe('');
    expect(X.SI_NR_PAGES).toBe(32); // magic[32] comes first
  });

  it('every numeric TypeScript export is paired with C or listed in TS_ONLY with a reason', () => {
    const tsNames = new Set<string>();
    for (const [k, v] of Object.entries(X)) if (typeof v === 'number') tsNames.add(`xen.ts:${k}`);
    for (const [k, v] of Object.entries(Ring)) if (typeof v === 'number') tsNames.add(`ring.ts:${k}`);
    for (const k of Object.keys(XsType)) tsNames.add(`wire.ts:XsType.${k}`);
    tsNames.add('wire.ts:XSD_SOCKMSG_SIZE').add('wire.ts:XENSTORE_PAYLOAD_MAX');
    for (const k of Object.keys(XS_ERRNO_VALUES)) tsNames.add(`errors.ts:XS_ERRNO_VALUES.${k}`);
    tsNames.add('gnttab.ts:GRANT_ENTRY_SIZE').add('gnttab.ts:GRANTS_PER_FRAME');
    expect(GRANTS_PER_FRAME).toBe(4096 / GRANT_ENTRY_SIZE);
    const pairedNames = new Set(named.map((p) => p.ts));
    const unexplained = [...tsNames].filter((n) => !pairedNames.has(n) && !TS_ONLY[n]);
    expect(unexplained).toEqual([]);
    const stale = Object.keys(TS_ONLY).filter((n) => !tsNames.has(n) || pairedNames.has(n));
    expect(stale).toEqual([]);
  });

  it('every macro, enumerator, struct and field of xen.h is checked or listed in C_ONLY with a reason', () => {
    const exprs = [...named, ...literal].map((p) => p.c).join('\n');
    const used = new Set(exprs.match(/\w+/g));
    const names = [...macros().keys(), ...enumerators()];
    const unexplainedNames = names.filter((n) => !used.has(n) && !C_ONLY[n]);
    expect(unexplainedNames).toEqual([]);

    const forced = `#include "xen.h"\n${structs.map((s, i) => `int layout_${i} = sizeof(struct ${s});`).join('\n')}\n`;
    const r = clang(['-fsyntax-only', '-Xclang', '-fdump-record-layouts'], forced);
    expect(r.stderr).toBe('');
    const all = fields(r.stdout);
    for (const s of structs)
      expect(
        all.some((f) => f.startsWith(`${s}.`)),
        `no layout for struct ${s}`,
      ).toBe(true);
    const checked = new Set(
      [...exprs.matchAll(/offsetof\(struct (\w+), ([\w.]+)\)|sizeof\(\(\(struct (\w+) \*\)0\)->(\w+)\)/g)].map((m) =>
        m[1] ? `${m[1]}.${m[2]}` : `${m[3]}.${m[4]}`,
      ),
    );
    const unexplainedFields = all.filter((f) => !checked.has(f) && !covered(f, C_ONLY));
    expect(unexplainedFields).toEqual([]);
    const staleCOnly = Object.keys(C_ONLY).filter((k) => !names.includes(k) && !structs.includes(k) && !all.some((f) => f === k || f.startsWith(`${k}.`)));
    expect(staleCOnly).toEqual([]);
  });
});
