/**
 * Lab 8: split drivers. One block read from a pv guest's blkfront, through the shared
 * ring, the grants and the event channel, to Domain-0's blkback and back; blkback's
 * counters (the vbd inspector) before and after.
 */
import { command, teachingOs, waitUntil } from './guest';
import type { LabApi, LabDefinition } from './types';
import type { VbdInspection } from '../web/protocol/automationTypes';

const IMAGE = 'lab-split.raw';
const CONNECTED = 4; // XenbusStateConnected

async function vbd(api: LabApi, id: number): Promise<VbdInspection> {
  const list = await api.vbds(id);
  const v = list.find((x) => x.vdev === 'xvda');
  if (!v) throw new Error(`domain ${id} has no xvda`);
  return v;
}

/** A 1 MiB raw image in the browser's storage, made once and reused. */
async function ensureImage(api: LabApi): Promise<void> {
  const list = await api.disks.list();
  if (!list.images.some((i) => i.name === IMAGE)) await api.disks.create({ name: IMAGE, format: 'raw', size: 1 << 20 });
}

export const splitDrivers: LabDefinition = {
  id: 'split-drivers',
  number: '8',
  title: 'Split drivers: one block request, end to end',
  topic: 'I/O',
  minutes: 12,
  goal: 'A pv disk request is a ring slot, grants for the data pages and an event; its sectors are always 512 bytes.',
  context: `A pv guest has no disk controller. Its **blkfront** driver and Domain-0's **blkback** share a ring page (\`xen/include/public/io/ring.h\`) and agree through xenstore on the ring's grant reference and an event channel (the XenbusState handshake). A request (\`blkif_request\` in \`xen/include/public/io/blkif.h\`) says: operation, sector number, and up to 11 segments, each a **grant reference** to a data page plus the first and last sector used in it. blkfront pushes it, notifies the event channel if blkback asked to be woken, and blkback maps the grants, does the I/O, pushes a response and notifies back.

blkif.h fixes the unit: \`sector_number\` and the segments' \`first_sect\`/\`last_sect\` count **512-byte sectors**, whatever the disk's \`sector-size\` or \`physical-sector-size\` nodes say (they only describe the medium).

Here a pv teaching OS has a 1 MiB raw disk (\`${IMAGE}\` in your browser's storage) as xvda. It writes a line at sector 8 and then reads back one 4 KiB page from sector 8 with \`disk read 8 8\`. The vbd inspector shows blkback's counters, the ring's indices and both ends' xenstore nodes.`,
  prediction: {
    kind: 'number',
    question: 'The guest reads 4096 bytes (`disk read 8 8`). By how much will blkback’s count of sectors read (rd_sect) grow?',
    unit: 'sectors',
    min: 0,
    max: 100_000,
    tolerance: 0,
  },
  params: [{ id: 'sectors', label: 'Sectors to read', kind: 'number', default: 8, min: 1, max: 88, step: 1, unit: '× 512 bytes' }],
  instrument: 'vbd',
  async run(api, params, report) {
    const n = Number(params['sectors']);
    report.step(`a 1 MiB raw image ${IMAGE} in the browser's storage`);
    await ensureImage(api);
    report.step('creating a pv domain of the teaching OS with it as xvda');
    const d = await teachingOs(api, 'pv', 'blk-lab', [`disk = [ '${IMAGE},raw,xvda,rw' ]`]);
    report.domains([d]);
    report.show('vbd', d);
    await waitUntil('blkfront and blkback to connect', 30_000, async () => {
      const v = await vbd(api, d);
      return v.backendState === CONNECTED && v.frontendState === CONNECTED ? true : undefined;
    });
    report.step('disk write 8 lab-says-hello');
    await command(api, d, 'disk write 8 lab-says-hello', /disk: wrote[^]*\$ /);
    const before = await vbd(api, d);
    report.step(`disk read 8 ${n}`);
    const out = await command(api, d, `disk read 8 ${n}`);
    const after = await vbd(api, d);
    const rdSect = after.stats.rdSect - before.stats.rdSect;
    report.measure('rdSect', rdSect);
    return {
      rdReq: after.stats.rdReq - before.stats.rdReq,
      rdSect,
      bytes: rdSect * 512,
      slots: ((after.ring?.reqProd ?? 0) - (before.ring?.reqProd ?? 0)) >>> 0,
      notifyIn: after.stats.notifyIn - before.stats.notifyIn,
      notifyOut: after.stats.notifyOut - before.stats.notifyOut,
      ringRef: after.ringRef,
      evtchn: after.evtchn,
      sectorSize: after.backendNodes['sector-size'] ?? '',
      readBack: out.includes('lab-says-hello') ? 'yes' : 'no',
      asked: n,
    };
  },
  observe: [
    { key: 'rdSect', label: 'rd_sect grew by', unit: 'sectors' },
    { key: 'bytes', label: 'that is', unit: 'bytes' },
    { key: 'rdReq', label: 'requests (rd_req)' },
    { key: 'slots', label: 'ring slots used (req_prod moved)' },
    { key: 'notifyIn', label: 'events frontend → backend' },
    { key: 'notifyOut', label: 'events backend → frontend' },
    { key: 'ringRef', label: 'ring-ref (grant of the ring page)' },
    { key: 'evtchn', label: 'event channel (frontend’s port)' },
    { key: 'sectorSize', label: 'sector-size node' },
    { key: 'readBack', label: 'the written line came back' },
  ],
  answer: (obs) => Number(obs['rdSect']),
  checks(obs) {
    const n = Number(obs['asked']);
    return [
      { label: `rd_sect counts 512-byte sectors: ${n} for ${n * 512} bytes`, ok: Number(obs['rdSect']) === n },
      { label: 'it is one request, in one ring slot', ok: Number(obs['rdReq']) === 1 && Number(obs['slots']) === 1 },
      { label: 'at most one event each way', ok: Number(obs['notifyIn']) <= 1 && Number(obs['notifyOut']) <= 1 },
      { label: 'the data is what the guest wrote', ok: obs['readBack'] === 'yes' },
    ];
  },
  explain: `\`disk read 8 8\` became **one** \`BLKIF_OP_READ\` request in one ring slot: sector_number 8, one segment (a grant of the guest's data page, first_sect 0, last_sect 7). blkback counted **8 sectors**: 4096 bytes in 512-byte units. The request went over with at most one event (blkfront notifies only when blkback's \`req_event\` asks for it) and came back with at most one.

The unit is the protocol's, not the disk's: blkif.h says sector numbers are in 512-byte sectors even when \`sector-size\` says 4096. A frontend that used the disk's sector size would read the wrong place: sector 8 would become byte 32768.`,
  tryNext: `Read 1 sector, then 88 (the most one request carries: 11 segments of 8 sectors). rd_sect follows exactly, while the request count stays 1.`,
};
