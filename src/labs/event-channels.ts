/**
 * Lab 4: event channels. The guest masks its console port for a while; Domain-0's console
 * backend sends an event for every input meanwhile. The sends set the pending bit that is
 * already set: the edges are lost, and the unmask redelivers the event once.
 */
import { sleep, teachingOs, waitUntil } from './guest';
import type { LabDefinition } from './types';

export const eventChannels: LabDefinition = {
  id: 'event-channels',
  number: '4',
  title: 'Event channels: a masked port loses its edges',
  topic: 'event channels',
  minutes: 8,
  goal: 'An event channel is one pending bit, not a counter: sends while masked collapse into one event, delivered once at unmask.',
  context: `Xen's event channels are its interrupts. Each port has a **pending** bit and a **mask** bit in the guest's \`shared_info\` page (the 2-level ABI: \`xen/include/public/xen.h\`, \`evtchn_pending\` and \`evtchn_mask\`; the Xen wiki's "Event Channel Internals"). \`EVTCHNOP_send\` sets the pending bit; if the port is not masked (and the bit was clear), the hypervisor also sets the vCPU's \`evtchn_upcall_pending\` and interrupts it, and the guest's upcall handler clears the bit and runs the port's handler. A masked port just keeps its pending bit. \`EVTCHNOP_unmask\` clears the mask and, if the bit is pending, delivers the event then.

The pv teaching OS's console input works this way: Domain-0's console backend puts typed bytes into the ring and sends an event on the console port. Here the guest runs \`evtchn mask PORT 3000\`: it masks its console port for 3 s, then unmasks it, counting how many times the port's handler ran. Meanwhile the lab types 5 separate keys, so the backend sends 5 events. The event channel inspector shows the port's bits as they are.`,
  prediction: {
    kind: 'number',
    question: 'Five events arrive while the console port is masked. When the guest unmasks it, how many times will its handler run?',
    unit: 'times',
    min: 0,
    max: 100,
    tolerance: 0,
  },
  params: [
    { id: 'keys', label: 'Keys typed while masked', kind: 'number', default: 5, min: 1, max: 20, step: 1 },
    { id: 'ms', label: 'Masked for', kind: 'number', default: 3000, min: 1000, max: 10000, step: 100, unit: 'ms' },
  ],
  instrument: 'evtchn',
  async run(api, params, report) {
    const keys = Number(params['keys']),
      ms = Number(params['ms']);
    report.step('creating a pv domain of the teaching OS');
    const d = await teachingOs(api, 'pv', 'evtchn-lab');
    report.domains([d]);
    report.show('evtchn', d);
    const port = (await api.inspect(d)).evtchn.find((e) => e.role === 'console')?.port;
    if (port === undefined) throw new Error('the inspector shows no console port');
    report.step(`evtchn mask ${port} ${ms} (the console port)`);
    const from = api.consoleText(d).length;
    await api.sendInput(d, `evtchn mask ${port} ${ms}\r`);
    // The command's output comes at its end; the mask bit in shared_info says when it has begun.
    await waitUntil('the guest to mask the port', 10_000, async () => ((await api.inspect(d)).evtchn.find((x) => x.port === port)?.masked ? true : undefined));
    const t0 = Date.now();
    const letters = 'abcdefghijklmnopqrst'.slice(0, keys);
    report.step(`typing ${keys} keys, one at a time (${keys} events from Domain-0's console backend)`);
    // Not awaited one by one: a send resolves once the guest has taken the bytes, which it
    // cannot while the port is masked.
    const sent: Promise<void>[] = [];
    for (const c of letters) {
      sent.push(api.sendInput(d, c));
      await sleep(50);
    }
    const typed = Date.now() - t0;
    // Still inside the mask: the port's bits as the inspector reads them from shared_info
    // (the backend writes the keys a moment after they are typed).
    let sawPending = false;
    while (!sawPending && Date.now() - t0 < ms - 200) {
      const e = (await api.inspect(d)).evtchn.find((x) => x.port === port);
      sawPending = e?.pending === true && e.masked === true;
      if (!sawPending) await sleep(50);
    }
    report.measure('sawPending', sawPending ? 'yes' : 'no');
    if (typed > ms) throw new Error(`typing took ${typed} ms, longer than the mask (${ms} ms): the machine is very busy; try a longer mask`);
    const masked = await waitUntil('the unmask', ms + 20_000, () => /handled (\d+) times, pending (\d)/.exec(api.consoleText(d).slice(from)) ?? undefined);
    const after = await waitUntil(
      'the redelivery count',
      20_000,
      () => /unmasked: handled (\d+) times since/.exec(api.consoleText(d).slice(from)) ?? undefined,
    );
    report.measure('handledAfter', Number(after[1]));
    // The keys reach the line editor together after the unmask: its echo follows the report.
    await waitUntil('the keys to arrive', 10_000, () => (api.consoleText(d).slice(from).includes(letters) ? true : undefined));
    await Promise.all(sent);
    await api.sendInput(d, '\x15'); // Ctrl-U: drop the typed keys
    return {
      keys,
      handledWhileMasked: Number(masked[1]),
      pendingAtUnmask: Number(masked[2]),
      handledAfter: Number(after[1]),
      sawPending: sawPending ? 'yes' : 'no',
    };
  },
  observe: [
    { key: 'keys', label: 'events sent while masked (one per key)' },
    { key: 'sawPending', label: 'the inspector showed the port pending and masked' },
    { key: 'handledWhileMasked', label: 'handler runs while masked' },
    { key: 'pendingAtUnmask', label: 'pending bit just before the unmask' },
    { key: 'handledAfter', label: 'handler runs after the unmask' },
  ],
  answer: (obs) => Number(obs['handledAfter']),
  checks: (obs) => [
    { label: 'while masked the handler never ran', ok: Number(obs['handledWhileMasked']) === 0 },
    { label: 'meanwhile the inspector showed the port pending and masked', ok: obs['sawPending'] === 'yes' },
    { label: 'the sends left one pending bit (1), not a count', ok: Number(obs['pendingAtUnmask']) === 1 },
    { label: 'the unmask delivered the event exactly once', ok: Number(obs['handledAfter']) === 1 },
  ],
  explain: `The five sends all landed on **one bit**. The first set \`evtchn_pending\` for the port; the other four found it already set and changed nothing, and since the port was masked none of them interrupted the guest. At \`EVTCHNOP_unmask\` the hypervisor saw the bit pending and raised the upcall **once**; the handler ran once and found all five bytes in the console ring.

That is the contract of an event channel: it says "look at your shared memory", not "one more item". Drivers never count events; they consume everything the ring holds each time (\`RING_FINAL_CHECK_FOR_REQUESTS\`), which is also why a backend may coalesce many requests into one notification.`,
  tryNext: `Type 1 key, or 20: the handler still runs once. Shorten the mask to 1 s to see the keys arrive sooner.`,
};
