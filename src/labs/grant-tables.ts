/**
 * Lab 5: grant tables. A grants a page read-only to B; B maps it, reads it, tries to write
 * it; A tries to take the grant back while B still has it mapped. Driven with the hostile
 * guest (guests/hostile), whose commands are the grant table's operations one by one.
 */
import { hostile, hostileCommand } from './guest';
import type { LabDefinition } from './types';

/** Guest frame numbers as the ABI counts them (address >> 12): RAM starts at 0x80000000. */
const RAM = 0x80000;
const SHARED = RAM + 0x300; // a free page of A's RAM (its image is far below)
const WINDOW = RAM + 2048; // the grant window above B's 8 MiB (docs/abi.md section 3)
const REF = 10;

export const grantTables: LabDefinition = {
  id: 'grant-tables',
  number: '5',
  title: 'Grant tables: share a page read-only, write it, revoke it',
  topic: 'grant tables',
  minutes: 10,
  goal: 'A grant is the granter’s permission, enforced by the hypervisor on every mapping; it cannot be revoked while mapped.',
  context: `Domains share memory only through **grants**. Domain A writes an entry in its grant table: "domain B may access my frame F" (\`GTF_permit_access\`), optionally **read-only** (\`GTF_readonly\`). B then asks the hypervisor to map it (\`GNTTABOP_map_grant_ref\`, with \`GNTMAP_readonly\` or not); the hypervisor checks the entry, marks it in use (\`GTF_reading\`/\`GTF_writing\`) and puts A's frame into B's address space with the rights the grant allows. Xen's \`xen/include/public/grant_table.h\` documents the entry and the operations; the Xen wiki's "Grant Table" page tells the story.

To end the sharing, A clears the entry's flags, but only if the hypervisor has not marked it in use: Linux's \`gnttab_end_foreign_access_ref\` is a compare-exchange that fails while the page is mapped.

The two domains here run the **hostile guest**, a tool that performs grant-table operations one command at a time. A fills a page with 0x5a, grants it read-only to B (ref ${REF}); B maps it read-only, reads it, and stores a word into it.`,
  prediction: {
    kind: 'choice',
    question: 'B stores a word into the page it mapped from A’s read-only grant. What happens?',
    options: [
      { id: 'lands', label: 'The store succeeds and A sees the new value' },
      { id: 'ignored', label: 'The store is silently dropped' },
      { id: 'fault', label: 'B takes a store access fault; A’s page is unchanged' },
      { id: 'killed', label: 'The hypervisor crashes domain B' },
    ],
  },
  params: [
    {
      id: 'grant',
      label: 'A grants',
      kind: 'choice',
      default: 'ro',
      options: [
        { value: 'ro', label: 'read-only' },
        { value: 'rw', label: 'read-write' },
      ],
    },
    {
      id: 'map',
      label: 'B maps',
      kind: 'choice',
      default: 'ro',
      options: [
        { value: 'ro', label: 'read-only' },
        { value: 'rw', label: 'read-write' },
      ],
    },
  ],
  instrument: 'grants',
  async run(api, params, report) {
    const ro = (k: string): string => (params[k] === 'ro' ? ' ro' : '');
    report.step('creating domains A (the granter) and B (the mapper), both running the hostile guest');
    const a = await hostile(api, 'granter');
    const b = await hostile(api, 'mapper');
    report.domains([a, b]);
    report.show('grants', a);
    report.step(`A: fill the page (gfn 0x${SHARED.toString(16)}) with 0x5a and grant it to B as ref ${REF}${ro('grant') ? ', read-only' : ''}`);
    await hostileCommand(api, a, `fill ${SHARED} 1 0x5a`);
    const grant = await hostileCommand(api, a, `grant ${REF} ${b} ${SHARED}${ro('grant')}`);
    report.step(`B: map A's ref ${REF} at gfn 0x${WINDOW.toString(16)}${ro('map') ? ' read-only' : ''}`);
    const map = await hostileCommand(api, b, `map ${a} ${REF} ${WINDOW}${ro('map')}`);
    const mapped = map.fields['status'] === 0;
    report.measure('mapStatus', Number(map.fields['status']));
    const read = await hostileCommand(api, b, `read ${WINDOW} 0`);
    report.step('B: store 0x11111111 into the page');
    const write = await hostileCommand(api, b, `write ${WINDOW} 0 0x11111111`);
    const check = await hostileCommand(api, a, `check ${SHARED} 1 0x5a`);
    report.step(`A: end the grant while B has it mapped`);
    const busyEnd = await hostileCommand(api, a, `ungrant ${REF}`);
    let laterEnd = busyEnd;
    if (mapped) {
      report.step('B: unmap; A: end the grant again');
      await hostileCommand(api, b, `unmap ${WINDOW} ${map.fields['handle']}`);
      laterEnd = await hostileCommand(api, a, `ungrant ${REF}`);
    }
    const bState = api.domains().find((d) => d.id === b)?.state ?? 'gone';
    return {
      grantRc: Number(grant.fields['rc']),
      mapStatus: Number(map.fields['status']),
      readValue: read.result === 'ok' ? `0x${Number(read.fields['val']).toString(16)}` : 'fault',
      write: write.result === 'ok' ? 'completed' : write.result,
      changedBytes: Number(check.fields['bad']),
      endWhileMapped: Number(busyEnd.fields['rc']),
      endAfterUnmap: Number(laterEnd.fields['rc']),
      bState,
    };
  },
  observe: [
    { key: 'mapStatus', label: 'B’s map: status (0 = GNTST_okay)' },
    { key: 'readValue', label: 'B reads the first word' },
    { key: 'write', label: 'B’s store' },
    { key: 'changedBytes', label: 'bytes of A’s page changed' },
    { key: 'endWhileMapped', label: 'A ends the grant while mapped: rc (-16 = busy)' },
    { key: 'endAfterUnmap', label: 'A ends it after B unmapped: rc' },
    { key: 'bState', label: 'B afterwards' },
  ],
  answer(obs) {
    if (obs['bState'] === 'crashed' || obs['bState'] === 'gone') return 'killed';
    if (obs['write'] === 'fault') return 'fault';
    return Number(obs['changedBytes']) > 0 ? 'lands' : 'ignored';
  },
  checks(obs, params) {
    const mapOk = Number(obs['mapStatus']) === 0;
    const alive = { label: 'B still runs (a fault is the guest’s to handle, not a crash)', ok: obs['bState'] !== 'crashed' && obs['bState'] !== 'gone' };
    if (params['grant'] === 'ro' && params['map'] === 'rw')
      return [
        { label: 'a writable mapping of a read-only grant is refused (status < 0)', ok: Number(obs['mapStatus']) < 0 },
        { label: 'without a mapping B’s store faults and A’s page is unchanged', ok: obs['write'] === 'fault' && Number(obs['changedBytes']) === 0 },
        alive,
      ];
    const writable = params['grant'] === 'rw' && params['map'] === 'rw';
    return [
      { label: 'B maps the grant (GNTST_okay) and reads A’s bytes (0x5a5a5a5a)', ok: mapOk && obs['readValue'] === '0x5a5a5a5a' },
      writable
        ? { label: 'a read-write mapping lets the store through: A sees it', ok: obs['write'] === 'completed' && Number(obs['changedBytes']) > 0 }
        : {
            label: 'through a read-only mapping the store faults and A’s page is unchanged',
            ok: obs['write'] === 'fault' && Number(obs['changedBytes']) === 0,
          },
      { label: 'A cannot end the grant while B has it mapped (-16, busy)', ok: Number(obs['endWhileMapped']) === -16 },
      { label: 'once B has unmapped it, A can (0)', ok: Number(obs['endAfterUnmap']) === 0 },
      alive,
    ];
  },
  explain: `The hypervisor mapped A's frame into B's physical address space **without write permission**, because both the grant (\`GTF_readonly\`) and the request (\`GNTMAP_readonly\`) said so. B's store never reaches memory: the hart raises a **store access fault** (RISC-V privileged spec, section 3.7: a store to a page without write permission), which is B's own trap to handle. The hostile guest catches it and reports \`= fault write\`; A's 4096 bytes are untouched.

While the mapping exists, the hypervisor keeps \`GTF_reading\` set in A's grant entry (the grant inspector shows it). A's attempt to end the grant compares the flags word expecting no such bit, and fails with -16 (EBUSY): a granter cannot pull a page out from under a mapper, so the mapper never sees the frame reused for something else. After B unmaps, the bit clears and the grant ends.`,
  tryNext: `Grant read-write and map read-write: the store lands and A's check counts 4 changed bytes. Then grant read-only but map read-write: the hypervisor refuses the mapping itself (a negative GNTST status), so B's store faults on an empty address.`,
};
