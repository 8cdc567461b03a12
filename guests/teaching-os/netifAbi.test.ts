/**
 * The split network driver's ABI written twice: in C for the guest (pv/netif.h) and in
 * TypeScript for Domain-0's netback (src/core/xen/public/netif.ts). As blkifAbi.test.ts
 * does: one C file of `_Static_assert((C) == TS value)`, compiled with clang for the
 * guest's target, reports every number and offset that differs; every numeric export of
 * netif.ts is paired here or listed in TS_ONLY with the reason.
 *
 * Skipped only when clang is missing (CI installs it).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as N from '../../src/core/xen/public/netif';

const PV_DIR = join(dirname(fileURLToPath(import.meta.url)), 'pv');
const CFLAGS = ['--target=riscv32-unknown-elf', '-march=rv32ima', '-mabi=ilp32', '-ffreestanding', '-std=c11', `-I${PV_DIR}`, '-fsyntax-only'];

const clangMissing = ((): boolean => {
  const r = spawnSync('clang', ['--version'], { stdio: 'ignore' });
  return r.error !== undefined || r.status !== 0;
})();

const off = (s: string, f: string): string => `offsetof(struct ${s}, ${f})`;

const PAIRS: Record<string, string> = {
  NETIF_TX_REQ_GREF: off('netif_tx_request', 'gref'),
  NETIF_TX_REQ_OFFSET: off('netif_tx_request', 'offset'),
  NETIF_TX_REQ_FLAGS: off('netif_tx_request', 'flags'),
  NETIF_TX_REQ_ID: off('netif_tx_request', 'id'),
  NETIF_TX_REQ_SIZE: off('netif_tx_request', 'size'),
  NETIF_TX_REQUEST_SIZE: 'sizeof(struct netif_tx_request)',
  NETTXF_csum_blank: 'NETTXF_csum_blank',
  NETTXF_data_validated: 'NETTXF_data_validated',
  NETTXF_more_data: 'NETTXF_more_data',
  NETTXF_extra_info: 'NETTXF_extra_info',
  NETIF_TX_RSP_ID: off('netif_tx_response', 'id'),
  NETIF_TX_RSP_STATUS: off('netif_tx_response', 'status'),
  NETIF_TX_RESPONSE_SIZE: 'sizeof(struct netif_tx_response)',
  NETIF_RX_REQ_ID: off('netif_rx_request', 'id'),
  NETIF_RX_REQ_GREF: off('netif_rx_request', 'gref'),
  NETIF_RX_REQUEST_SIZE: 'sizeof(struct netif_rx_request)',
  NETIF_RX_RSP_ID: off('netif_rx_response', 'id'),
  NETIF_RX_RSP_OFFSET: off('netif_rx_response', 'offset'),
  NETIF_RX_RSP_FLAGS: off('netif_rx_response', 'flags'),
  NETIF_RX_RSP_STATUS: off('netif_rx_response', 'status'),
  NETIF_RX_RESPONSE_SIZE: 'sizeof(struct netif_rx_response)',
  NETRXF_data_validated: 'NETRXF_data_validated',
  NETRXF_csum_blank: 'NETRXF_csum_blank',
  NETRXF_more_data: 'NETRXF_more_data',
  NETRXF_extra_info: 'NETRXF_extra_info',
  NETIF_RSP_DROPPED: 'NETIF_RSP_DROPPED',
  NETIF_RSP_ERROR: 'NETIF_RSP_ERROR',
  NETIF_RSP_OKAY: 'NETIF_RSP_OKAY',
  NETIF_RSP_NULL: 'NETIF_RSP_NULL',
  NET_TX_RING_SIZE: 'NET_TX_RING_SIZE',
  NET_RX_RING_SIZE: 'NET_RX_RING_SIZE',
};

const TS_ONLY: Record<string, string> = {
  NETIF_EXTRA_TYPE: 'extra-info slots: the guest never sends them (no feature is offered)',
  NETIF_EXTRA_FLAGS: 'the same',
  NETIF_EXTRA_INFO_SIZE: 'the same',
  XEN_NETIF_EXTRA_TYPE_NONE: 'the same',
  XEN_NETIF_EXTRA_TYPE_GSO: 'the same',
  XEN_NETIF_EXTRA_TYPE_MCAST_ADD: 'the same',
  XEN_NETIF_EXTRA_TYPE_MCAST_DEL: 'the same',
  XEN_NETIF_EXTRA_TYPE_HASH: 'the same',
  XEN_NETIF_EXTRA_TYPE_MAX: 'the same',
  XEN_NETIF_EXTRA_FLAG_MORE: 'the same',
  NETRXF_gso_prefix: 'GSO is not offered',
  XEN_NETIF_NR_SLOTS_MIN: "the backend's limit; the guest sends one slot per frame",
  XEN_NETIF_MAX_TX_SIZE: "the backend's buffer; the guest's frames are at most 1514 bytes",
  NETIF_DEFAULT_MTU: 'the toolstack writes mtu; the guest sends 1514-byte frames at most',
  ETH_HLEN: "the backend's runt check; the guest's stack has its own 14",
};

const numeric = (m: object): [string, number][] => Object.entries(m).filter((e): e is [string, number] => typeof e[1] === 'number');

describe('pv/netif.h and src/core/xen/public/netif.ts agree', () => {
  it('every TypeScript number is paired with C or explained', () => {
    for (const [name] of numeric(N)) expect(name in PAIRS || name in TS_ONLY, `${name} has no C counterpart listed`).toBe(true);
  });

  it.skipIf(clangMissing)('clang (riscv32, ilp32) finds every pair equal', () => {
    const all = Object.fromEntries(numeric(N));
    const lines = ['#include <stddef.h>', '#include "xen.h"', '#include "netif.h"'];
    for (const [ts, c] of Object.entries(PAIRS)) {
      expect(all[ts], `${ts} is not exported`).toBeTypeOf('number');
      lines.push(`_Static_assert((${c}) == (${all[ts]}), "${ts}: C ${c} differs from TypeScript ${all[ts]}");`);
    }
    const r = spawnSync('clang', [...CFLAGS, '-x', 'c', '-'], { input: lines.join('\n'), encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
