/**
 * Lab 8: split drivers. One block read from a pv guest's blkfront, through the shared
 * ring, the grants and the event channel, to Domain-0's blkback and back; blkback's
 * counters (the vbd inspector) before and after. The variation gives the disk 4096-byte
 * sectors (xl.cfg's `sector-size=4096`, docs/storage.md): the protocol still counts 512.
 */
import { command, teachingOs, waitUntil } from './guest';
import type { LabApi, LabDefinition } from './types';
import type { VbdInspection } from '../web/protocol/automationTypes';

const IMAGE = 'lab-split.raw';
const CONNECTED = 4; // XenbusStateConnected
/** The image's size: 2048 sectors of 512 bytes, 256 of 4096. */
const IMAGE_SECTORS = 2048;

async function vbd(api: LabApi, id: number): Promise<VbdInspection> {
  const list = await api.vbds(id);
  const v = list.find((x) => x.vdev === 'xvda');
  if (!v) throw new Error(`domain ${id} has no xvda`);
  return v;
}

/** A 1 MiB raw image in the browser's storage, made once and reused (whole sectors of either size). */
async function ensureImage(api: LabApi): Promise<void> {
  const list = await api.disks.list();
  if (!list.images.some((i) => i.name === IMAGE)) await api.disks.create({ name: IMAGE, format: 'raw', size: IMAGE_SECTORS * 512 });
}

export const splitDrivers: LabDefinition = {
  id: 'split-drivers',
  number: '8',
  title: 'Split drivers: one block request, end to end',
  topic: 'I/O',
  minutes: 12,
  goal: 'A pv disk request is a ring slot, grants for the data pages and an event; its sectors are 512 bytes even when the disk says 4096.',
  context: `A pv guest has no disk controller. Its **blkfront** driver and Domain-0's **blkback** share a ring page (\`xen/include/public/io/ring.h\`) and agree through xenstore on the ring's grant reference and an event channel (the XenbusState handshake). A request (\`blkif_request\` in \`xen/include/public/io/blkif.h\`) says: operation, sector number, and up to 11 segments, each a **grant reference** to a data page plus the first and last sector used in it. blkfront pushes it, notifies the event channel if blkback asked to be woken, and blkback maps the grants, does the I/O, pushes a response and notifies back.

blkback also publishes the disk in xenstore: \`sectors\`, and \`sector-size\`, which blkif.h defines as "the logical block size, in bytes, of the underlying storage". A disk can say 4096 there. Does a sector in a request then mean 4096 bytes?

Here a pv teaching OS has a 1 MiB raw disk (\`${IMAGE}\` in your browser's storage) as xvda, with the sector size you choose (hyperlab's disk key \`sector-size=\`; 512 by default). It writes a line at sector 8 and then reads back one 4 KiB page from sector 8 with \`disk read 8 8\`. The vbd inspector shows blkback's counters, the ring's indices and both ends' xenstore nodes.`,
  prediction: {
    kind: 'number',
    question: 'The guest reads 4096 bytes (`disk read 8 8`). By how much will blkback’s count of sectors read (rd_sect) grow?',
    unit: 'sectors',
    min: 0,
    max: 100_000,
    tolerance: 0,
  },
  params: [
    { id: 'sectors', label: 'Sectors to read', kind: 'number', default: 8, min: 1, max: 88, step: 1, unit: '× 512 bytes' },
    {
      id: 'sectorSize',
      label: 'The disk’s sector size',
      kind: 'choice',
      default: '512',
      options: [
        { value: '512', label: '512 bytes' },
        { value: '4096', label: '4096 bytes' },
      ],
    },
  ],
  instrument: 'vbd',
  async run(api, params, report) {
    const n = Number(params['sectors']);
    const size = Number(params['sectorSize'] ?? 512);
    report.step(`a 1 MiB raw image ${IMAGE} in the browser's storage`);
    await ensureImage(api);
    report.step(`creating a pv domain of the teaching OS with it as xvda, sector-size=${size}`);
    const d = await teachingOs(api, 'pv', 'blk-lab', [`disk = [ '${IMAGE},raw,xvda,rw,sector-size=${size}' ]`]);
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
      physicalSectorSize: after.backendNodes['physical-sector-size'] ?? '',
      sectorsNode: after.backendNodes['sectors'] ?? '',
      misaligned: after.stats.refused.misaligned - before.stats.refused.misaligned,
      backendError: out.includes('BLKIF_RSP_ERROR') ? 'yes' : 'no',
      readBack: out.includes('lab-says-hello') ? 'yes' : 'no',
      asked: n,
      diskSectorSize: size,
    };
  },
  observe: [
    { key: 'rdSect', label: 'rd_sect grew by', unit: 'sectors' },
    { key: 'bytes', label: 'that is', unit: 'bytes' },
    { key: 'rdReq', label: 'requests served (rd_req)' },
    { key: 'slots', label: 'ring slots used (req_prod moved)' },
    { key: 'notifyIn', label: 'events frontend → backend' },
    { key: 'notifyOut', label: 'events backend → frontend' },
    { key: 'ringRef', label: 'ring-ref (grant of the ring page)' },
    { key: 'evtchn', label: 'event channel (frontend’s port)' },
    { key: 'sectorSize', label: 'sector-size node (blkback published)', unit: 'bytes' },
    { key: 'physicalSectorSize', label: 'physical-sector-size node', unit: 'bytes' },
    { key: 'sectorsNode', label: 'sectors node (for 1 MiB)' },
    { key: 'misaligned', label: 'requests refused as not whole sectors' },
    { key: 'backendError', label: 'the guest printed BLKIF_RSP_ERROR' },
    { key: 'readBack', label: 'the written line came back' },
  ],
  answer: (obs) => Number(obs['rdSect']),
  checks(obs) {
    const n = Number(obs['asked']);
    const size = Number(obs['diskSectorSize'] ?? 512);
    const per = size / 512;
    const published = [
      {
        label: `blkback published sector-size ${size} (and physical-sector-size)`,
        ok: obs['sectorSize'] === String(size) && obs['physicalSectorSize'] === String(size),
      },
      {
        label: `the sectors node counts 512-byte units: ${IMAGE_SECTORS} for 1 MiB, whatever the sector size`,
        ok: obs['sectorsNode'] === String(IMAGE_SECTORS),
      },
      { label: 'it is one request, in one ring slot', ok: Number(obs['slots']) === 1 },
      { label: 'at most one event each way', ok: Number(obs['notifyIn']) <= 1 && Number(obs['notifyOut']) <= 1 },
    ];
    if (n % per !== 0)
      return [
        ...published,
        {
          label: `${n} × 512 bytes from sector 8 is not whole ${size}-byte sectors: blkback refused it (BLKIF_RSP_ERROR, counted) and read nothing`,
          ok: Number(obs['misaligned']) === 1 && Number(obs['rdSect']) === 0 && Number(obs['rdReq']) === 0 && obs['backendError'] === 'yes',
        },
      ];
    return [
      ...published,
      { label: `rd_sect counts 512-byte sectors: ${n} for ${n * 512} bytes, on a disk of ${size}-byte sectors`, ok: Number(obs['rdSect']) === n },
      {
        label: 'blkback served it (rd_req 1) and refused nothing',
        ok: Number(obs['rdReq']) === 1 && Number(obs['misaligned']) === 0 && obs['backendError'] === 'no',
      },
      { label: 'the data is what the guest wrote', ok: obs['readBack'] === 'yes' },
    ];
  },
  explain: `\`disk read 8 8\` became **one** \`BLKIF_OP_READ\` request in one ring slot: sector_number 8, one segment (a grant of the guest's data page, first_sect 0, last_sect 7). blkback counted **8 sectors**: 4096 bytes in 512-byte units. The request went over with at most one event (blkfront notifies only when blkback's \`req_event\` asks for it) and came back with at most one.

On a disk of **4096-byte sectors** it is the same request and the same 8: \`sector-size\` says 4096, but \`sector_number\`, \`first_sect\`/\`last_sect\`, the \`sectors\` node (2048 for 1 MiB) and xentop's rd_sect still count 512 bytes. That is what Linux's blkfront and xen-blkback do, and what blkif.h now writes down: unless a frontend writes \`feature-large-sector-size\`, "the logical block size is 512 as it is hardcoded" (the header asks a backend to publish 512 to such a frontend; Linux's blkback, and hyperlab's, publish the disk's real size, docs/storage.md). A frontend that took the sector numbers in 4096-byte units would read the wrong place: sector 8 would be byte 32768. What the larger sector does change is which requests are valid: one must be whole 4096-byte sectors, a sector_number and segments that are multiples of 8, or blkback answers \`BLKIF_RSP_ERROR\` (xen-blkback's "Misaligned I/O request").`,
  tryNext: `Read 1 sector, then 88 (the most one request carries: 11 segments of 8 sectors): rd_sect follows exactly, while the request count stays 1. Then choose 4096-byte sectors: \`disk read 8 8\` is still 8 sectors in rd_sect, but \`disk read 8 1\` (half a kilobyte of a 4 KiB sector) is refused by blkback with BLKIF_RSP_ERROR and counted; the guest prints the error.`,
};
