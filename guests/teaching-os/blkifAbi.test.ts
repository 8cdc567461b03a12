/**
 * The split block driver's ABI written twice: in C for the guest (pv/blkif.h) and in
 * TypeScript for Domain-0's blkback (src/core/xen/public/blkif.ts, ring.ts, xenbus.ts).
 * As xenAbi.test.ts does for xen.h: one C file of `_Static_assert((C) == TS value)`, one
 * per pair, compiled with clang for the guest's target (riscv32 ilp32), reports every
 * number and offset that differs. Every numeric export of the three TypeScript files is
 * paired here (or listed in TS_ONLY with the reason), so a constant added on one side
 * fails the test until it is paired.
 *
 * Skipped only when clang is missing (CI installs it).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as B from '../../src/core/xen/public/blkif';
import * as R from '../../src/core/xen/public/ring';
import * as S from '../../src/core/xen/public/xenbus';

const PV_DIR = join(dirname(fileURLToPath(import.meta.url)), 'pv');
const CFLAGS = ['--target=riscv32-unknown-elf', '-march=rv32ima', '-mabi=ilp32', '-ffreestanding', '-std=c11', `-I${PV_DIR}`, '-fsyntax-only'];

const clangMissing = ((): boolean => {
  const r = spawnSync('clang', ['--version'], { stdio: 'ignore' });
  return r.error !== undefined || r.status !== 0;
})();

const req = (f: string): string => `offsetof(struct blkif_request, ${f})`;
const rsp = (f: string): string => `offsetof(struct blkif_response, ${f})`;
const seg = (f: string): string => `offsetof(struct blkif_request_segment, ${f})`;
const sring = (f: string): string => `offsetof(struct blkif_sring, ${f})`;

/** TypeScript export -> the C expression it must equal. */
const PAIRS: Record<string, string> = {
  BLKIF_OP_READ: 'BLKIF_OP_READ',
  BLKIF_OP_WRITE: 'BLKIF_OP_WRITE',
  BLKIF_OP_WRITE_BARRIER: 'BLKIF_OP_WRITE_BARRIER',
  BLKIF_OP_FLUSH_DISKCACHE: 'BLKIF_OP_FLUSH_DISKCACHE',
  BLKIF_OP_DISCARD: 'BLKIF_OP_DISCARD',
  BLKIF_OP_INDIRECT: 'BLKIF_OP_INDIRECT',
  BLKIF_RSP_EOPNOTSUPP: 'BLKIF_RSP_EOPNOTSUPP',
  BLKIF_RSP_ERROR: 'BLKIF_RSP_ERROR',
  BLKIF_RSP_OKAY: 'BLKIF_RSP_OKAY',
  BLKIF_MAX_SEGMENTS_PER_REQUEST: 'BLKIF_MAX_SEGMENTS_PER_REQUEST',
  BLKIF_SEG_GREF: seg('gref'),
  BLKIF_SEG_FIRST_SECT: seg('first_sect'),
  BLKIF_SEG_LAST_SECT: seg('last_sect'),
  BLKIF_SEG_SIZE: 'sizeof(struct blkif_request_segment)',
  BLKIF_REQ_OPERATION: req('operation'),
  BLKIF_REQ_NR_SEGMENTS: req('nr_segments'),
  BLKIF_REQ_HANDLE: req('handle'),
  BLKIF_REQ_ID: req('id'),
  BLKIF_REQ_SECTOR_NUMBER: req('sector_number'),
  BLKIF_REQ_SEG: req('seg'),
  BLKIF_REQUEST_SIZE: 'sizeof(struct blkif_request)',
  BLKIF_RSP_ID: rsp('id'),
  BLKIF_RSP_OPERATION: rsp('operation'),
  BLKIF_RSP_STATUS: rsp('status'),
  BLKIF_RESPONSE_SIZE: 'sizeof(struct blkif_response)',
  BLKIF_RING_SIZE: 'BLKIF_RING_SIZE',
  VDISK_CDROM: 'VDISK_CDROM',
  VDISK_REMOVABLE: 'VDISK_REMOVABLE',
  VDISK_READONLY: 'VDISK_READONLY',
  SRING_REQ_PROD: sring('req_prod'),
  SRING_REQ_EVENT: sring('req_event'),
  SRING_RSP_PROD: sring('rsp_prod'),
  SRING_RSP_EVENT: sring('rsp_event'),
  SRING_HEADER_SIZE: sring('ring'),
  XenbusStateUnknown: 'XenbusStateUnknown',
  XenbusStateInitialising: 'XenbusStateInitialising',
  XenbusStateInitWait: 'XenbusStateInitWait',
  XenbusStateInitialised: 'XenbusStateInitialised',
  XenbusStateConnected: 'XenbusStateConnected',
  XenbusStateClosing: 'XenbusStateClosing',
  XenbusStateClosed: 'XenbusStateClosed',
  XenbusStateReconfiguring: 'XenbusStateReconfiguring',
  XenbusStateReconfigured: 'XenbusStateReconfigured',
};

/** Numbers only the TypeScript side has, and why. */
const TS_ONLY: Record<string, string> = {
  BLKIF_OP_RESERVED_1: 'a reserved operation number: the guest never sends it',
  BLKIF_SECTORS_PER_PAGE: "the backend's check of last_sect; the guest writes 0..7 itself",
  BLKIF_SECTOR_SIZE: "blkif's unit; the guest writes 512 literally",
};

const numeric = (m: object): [string, number][] => Object.entries(m).filter((e): e is [string, number] => typeof e[1] === 'number');

describe('pv/blkif.h and src/core/xen/public/blkif.ts agree', () => {
  it('every TypeScript number is paired with C or explained', () => {
    for (const [name] of [...numeric(B), ...numeric(R), ...numeric(S)]) {
      expect(name in PAIRS || name in TS_ONLY, `${name} has no C counterpart listed`).toBe(true);
    }
    expect(B.XEN_IO_PROTO_ABI_NATIVE).toBe('riscv32-abi');
  });

  it.skipIf(clangMissing)('clang (riscv32, ilp32) finds every pair equal', () => {
    const all = Object.fromEntries([...numeric(B), ...numeric(R), ...numeric(S)]);
    const lines = ['#include <stddef.h>', '#include "blkif.h"'];
    for (const [ts, c] of Object.entries(PAIRS)) {
      expect(all[ts], `${ts} is not exported`).toBeTypeOf('number');
      lines.push(`_Static_assert((${c}) == (${all[ts]}), "${ts}: C ${c.replace(/"/g, "'")} differs from TypeScript ${all[ts]}");`);
    }
    lines.push(`_Static_assert(sizeof(XEN_IO_PROTO_ABI_NATIVE) == ${B.XEN_IO_PROTO_ABI_NATIVE.length + 1}, "protocol name");`);
    const r = spawnSync('clang', [...CFLAGS, '-x', 'c', '-'], { input: lines.join('\n'), encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
