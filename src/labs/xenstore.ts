/**
 * Lab 7: xenstore. A watch fires once when it is registered; a transaction whose node
 * another writer changed meanwhile fails with EAGAIN and is started again.
 */
import { command, sleep, teachingOs, waitUntil } from './guest';
import type { LabDefinition } from './types';

const FIRED = /xs: watch fired: \S*data\/lab\b/g;

export const xenstore: LabDefinition = {
  id: 'xenstore',
  number: '7',
  title: 'xenstore: watches and transactions',
  topic: 'xenstore',
  minutes: 10,
  goal: 'A watch fires once at registration (so the watcher reads the initial state); a transaction that lost a race is retried, so no update is lost.',
  context: `xenstore is the small hierarchical database through which the toolstack, the backends and the guests find each other (\`/local/domain/ID/...\`). Its protocol is in Xen's \`docs/misc/xenstore.txt\` and \`xen/include/public/io/xs_wire.h\`.

A **watch** (\`XS_WATCH\`) asks xenstored to send an event whenever a node, or one below it, changes. The document says: "a watch event is also generated when the watch is first set up", even when nothing has changed.

A **transaction** (\`XS_TRANSACTION_START\` ... \`XS_TRANSACTION_END\`) sees a private snapshot; at its end xenstored commits it only if nothing it read was changed by someone else meanwhile, and otherwise answers **EAGAIN**. The client is expected to start again.

The guest here runs the teaching OS. First it registers a watch on \`data/lab\`, a node nobody has written yet. Then it runs \`xs incr data/n 3000\`: in one transaction, read \`data/n\` (0), wait 3 s, write n + 1. During the wait Domain-0 runs \`xenstore-write /local/domain/ID/data/n 41\`.`,
  prediction: {
    kind: 'choice',
    question: 'What will data/n hold at the end?',
    options: [
      { id: '1', label: '1: the guest’s write wins, Domain-0’s 41 is overwritten' },
      { id: '41', label: '41: the guest’s transaction fails and its update is lost' },
      { id: '42', label: '42: the guest’s transaction is retried on top of 41' },
    ],
  },
  params: [
    {
      id: 'conflict',
      label: 'Domain-0 writes during the transaction',
      kind: 'choice',
      default: 'yes',
      options: [
        { value: 'yes', label: 'yes (41)' },
        { value: 'no', label: 'no' },
      ],
    },
  ],
  instrument: 'xenstore',
  async run(api, params, report) {
    report.step('creating a pv domain of the teaching OS');
    const d = await teachingOs(api, 'pv', 'xs-lab');
    report.domains([d]);
    report.show('xenstore', d);
    const home = `/local/domain/${d}`;
    report.step('xs watch data/lab (nobody has written data/lab)');
    const start = api.consoleText(d).length;
    await command(api, d, 'xs watch data/lab');
    await sleep(1000);
    const atRegistration = (api.consoleText(d).slice(start).match(FIRED) ?? []).length;
    report.measure('firedAtRegistration', atRegistration);
    report.step(`Domain-0: xenstore-write ${home}/data/lab hello`);
    await api.xl(`xenstore-write ${home}/data/lab hello`);
    await waitUntil('the watch to fire for the write', 10_000, () =>
      (api.consoleText(d).slice(start).match(FIRED) ?? []).length > atRegistration ? true : undefined,
    );
    const afterWrite = (api.consoleText(d).slice(start).match(FIRED) ?? []).length;
    report.step('xs write data/n 0; xs incr data/n 3000');
    await command(api, d, 'xs write data/n 0');
    const from = api.consoleText(d).length;
    await api.sendInput(d, 'xs incr data/n 3000\r');
    await waitUntil('the transaction to start', 15_000, () => (/xs: read \S+ = 0 in transaction/.test(api.consoleText(d).slice(from)) ? true : undefined));
    if (params['conflict'] === 'yes') {
      report.step(`Domain-0, during the wait: xenstore-write ${home}/data/n 41`);
      const out = await api.xl(`xenstore-write ${home}/data/n 41`);
      if (out.startsWith('xl:')) throw new Error(out);
    }
    const done = await waitUntil(
      'the transaction to commit',
      30_000,
      () => /xs: \S+ = (\d+), committed after (\d+) conflicts?/.exec(api.consoleText(d).slice(from)) ?? undefined,
    );
    const final = (await api.xl(`xenstore-read ${home}/data/n`)).trim();
    report.measure('final', final);
    return {
      firedAtRegistration: atRegistration,
      firedAfterWrite: afterWrite - atRegistration,
      conflicts: Number(done[2]),
      final,
      conflict: String(params['conflict']),
    };
  },
  observe: [
    { key: 'firedAtRegistration', label: 'watch events at registration (nothing written)' },
    { key: 'firedAfterWrite', label: 'watch events for Domain-0’s write' },
    { key: 'conflicts', label: 'transaction conflicts (EAGAIN)' },
    { key: 'final', label: 'data/n at the end' },
  ],
  answer: (obs) => String(obs['final']),
  checks(obs) {
    const common = [
      { label: 'the watch fires exactly once when it is registered', ok: Number(obs['firedAtRegistration']) === 1 },
      { label: 'and again when the node is written', ok: Number(obs['firedAfterWrite']) >= 1 },
    ];
    if (obs['conflict'] === 'no')
      return [...common, { label: 'without another writer: no conflict, n = 1', ok: Number(obs['conflicts']) === 0 && obs['final'] === '1' }];
    return [
      ...common,
      { label: 'the transaction conflicts (EAGAIN) at least once', ok: Number(obs['conflicts']) >= 1 },
      { label: 'and is retried on top of Domain-0’s 41: n = 42', ok: obs['final'] === '42' },
    ];
  },
  explain: `The watch fired **once at registration**, with nothing written: xenstored sends one event when a watch is set up, so a watcher always reads the state once and cannot miss a change made just before it registered. Every later write fires it again.

The transaction read n = 0. While it waited, Domain-0 wrote 41 outside it. At \`XS_TRANSACTION_END\`, xenstored saw that a node the transaction had read had changed and refused to commit: **EAGAIN**. The guest started again, read 41 and wrote **42**. Nothing was lost and nothing was overwritten blindly: that is why the frontends write their ring-ref, event-channel and state nodes in one transaction, again on EAGAIN.`,
  tryNext: `Run it without Domain-0's write: the transaction commits at once and n is 1.`,
};
