/**
 * Lab 8's judgement (what its e2e test relies on): the checks against observations of runs
 * on the 512- and 4096-byte-sector disks, and observations that contradict the
 * explanation (a frontend or backend counting 4096-byte units, a misaligned read served).
 */
import { describe, expect, it } from 'vitest';
import { checkParams, defaultParams } from './runner';
import { splitDrivers as lab } from './split-drivers';

/** `disk read 8 8` on a 512-byte-sector disk: what a run observes (the e2e test sees these rd_sect, sectors and misaligned values; ring-ref and port vary). */
const run512 = {
  rdReq: 1,
  rdSect: 8,
  bytes: 4096,
  slots: 1,
  notifyIn: 1,
  notifyOut: 1,
  ringRef: 8,
  evtchn: 4,
  sectorSize: '512',
  physicalSectorSize: '512',
  sectorsNode: '2048',
  misaligned: 0,
  backendError: 'no',
  readBack: 'yes',
  asked: 8,
  diskSectorSize: 512,
};
const run4096 = { ...run512, sectorSize: '4096', physicalSectorSize: '4096', diskSectorSize: 4096 };
const failed = (obs: Record<string, number | string>): string[] =>
  lab
    .checks(obs, defaultParams(lab))
    .filter((c) => !c.ok)
    .map((c) => c.label);

describe('lab 8: split drivers, 512- and 4096-byte sectors', () => {
  it('the variation is a choice of 512 or 4096, checked like any parameter', () => {
    expect(defaultParams(lab)).toEqual({ sectors: 8, sectorSize: '512' });
    expect(() => checkParams(lab, { sectors: 8, sectorSize: '4096' })).not.toThrow();
    expect(() => checkParams(lab, { sectors: 8, sectorSize: '1024' })).toThrow();
  });

  it('rd_sect == the sectors asked on both disks; the answer is 8 either way', () => {
    for (const obs of [run512, run4096]) {
      expect(failed(obs), String(obs.diskSectorSize)).toEqual([]);
      expect(lab.answer(obs, defaultParams(lab))).toBe(8);
    }
    expect(failed({ ...run512, asked: 1, rdSect: 1, bytes: 512 })).toEqual([]);
    expect(failed({ ...run4096, asked: 88, rdSect: 88, bytes: 88 * 512 })).toEqual([]);
  });

  it('a read that is not whole 4096-byte sectors: refused, counted, nothing read', () => {
    const refused = { ...run4096, asked: 1, rdReq: 0, rdSect: 0, bytes: 0, misaligned: 1, backendError: 'yes', readBack: 'no' };
    expect(failed(refused)).toEqual([]);
    // The same read served would contradict the explanation.
    expect(failed({ ...run4096, asked: 1, rdSect: 1, bytes: 512 }).length).toBeGreaterThan(0);
  });

  it('observations that contradict the explanation fail a check', () => {
    // A backend that counted 4096-byte units: rd_sect 1 for 4096 bytes, sectors 256.
    expect(failed({ ...run4096, rdSect: 1 }).length).toBeGreaterThan(0);
    expect(failed({ ...run4096, sectorsNode: '256' }).length).toBeGreaterThan(0);
    // A backend that still published 512 for a 4096-byte disk.
    expect(failed({ ...run4096, sectorSize: '512', physicalSectorSize: '512' }).length).toBeGreaterThan(0);
    // An aligned read refused.
    expect(failed({ ...run4096, rdReq: 0, rdSect: 0, misaligned: 1, backendError: 'yes' }).length).toBeGreaterThan(0);
    // Two slots for one read.
    expect(failed({ ...run512, slots: 2 }).length).toBeGreaterThan(0);
  });
});
