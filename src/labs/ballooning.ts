/**
 * Lab 6: ballooning. `xl mem-set` writes a target the guest's balloon driver may or may not
 * meet; `xl mem-max` changes a limit the hypervisor enforces and the guest is not told about.
 */
import { sleep, teachingOs, waitUntil } from './guest';
import type { LabApi, LabDefinition, LabReport } from './types';

const BOOT_MIB = 16;
const MAXMEM_MIB = 32;

/** memKiB once it has stopped moving (three equal readings 300 ms apart). */
async function settledMemKiB(api: LabApi, id: number): Promise<number> {
  let last = -1,
    same = 0;
  return waitUntil('the memory of the domain to settle', 20_000, async () => {
    await sleep(300);
    const now = api.stats(id).memKiB;
    same = now === last ? same + 1 : 0;
    last = now;
    return same >= 2 ? now : undefined;
  });
}

async function memSet(api: LabApi, id: number, mib: number, report: LabReport): Promise<number> {
  report.step(`xl mem-set ${id} ${mib}`);
  const from = api.consoleText(id).length;
  const out = await api.xl(`xl mem-set ${id} ${mib}`);
  if (out.startsWith('xl:')) throw new Error(out);
  // The balloon driver announces every target it acts on above the prompt.
  await waitUntil('the balloon driver to act', 20_000, () =>
    api
      .consoleText(id)
      .slice(from)
      .includes(`balloon: target ${mib * 1024} KiB`)
      ? true
      : undefined,
  );
  const kib = await settledMemKiB(api, id);
  report.measure(`mem${mib}`, kib / 1024);
  return kib;
}

export const ballooning: LabDefinition = {
  id: 'ballooning',
  number: '6',
  title: 'Ballooning: a target is a request, a maximum is a limit',
  topic: 'memory',
  minutes: 8,
  goal: 'mem-set asks the guest to change its size (it may not); mem-max changes what the hypervisor allows, without telling the guest.',
  context: `A pv guest's memory can change while it runs. The toolstack writes a **target** into xenstore (\`memory/target\` in the domain's home, in KiB: that is all \`xl mem-set\` does), and the guest's **balloon driver**, which watches that node, gives pages back to the hypervisor (\`XENMEM_decrease_reservation\`) or asks for them again (\`XENMEM_increase_reservation\`). The idea is Waldspurger's ("Memory resource management in VMware ESX Server", OSDI 2002); Xen's version is in \`xen/include/public/memory.h\` and the \`xl\` manual (\`mem-set\`, \`mem-max\`).

\`xl mem-max\` is different: it changes the hypervisor's limit on the domain's reservation. Nothing is written where the guest looks.

The teaching OS's balloon driver gives back free pages down to the target, and takes pages back **only up to the size it booted with**. This domain boots with ${BOOT_MIB} MiB and a maximum (\`maxmem\`) of ${MAXMEM_MIB} MiB. The lab first sets the target to 8 MiB (the driver meets it), then to a bigger target.`,
  prediction: {
    kind: 'number',
    question: `After \`xl mem-set\` to 24 MiB, how much memory will the domain hold?`,
    unit: 'MiB',
    min: 0,
    max: 64,
    tolerance: 0,
    absolute: 0.75,
  },
  params: [{ id: 'target', label: 'Second target (xl mem-set)', kind: 'number', default: 24, min: 9, max: MAXMEM_MIB, step: 1, unit: 'MiB' }],
  instrument: 'graphs',
  async run(api, params, report) {
    const target = Number(params['target']);
    report.step(`creating a pv domain of the teaching OS: memory ${BOOT_MIB} MiB, maxmem ${MAXMEM_MIB} MiB`);
    const d = await teachingOs(api, 'pv', 'balloon', [`maxmem = ${MAXMEM_MIB}`], BOOT_MIB);
    report.domains([d]);
    report.show('graphs');
    const boot = await settledMemKiB(api, d);
    const down = await memSet(api, d, 8, report);
    const up = await memSet(api, d, target, report);
    report.step(`xl mem-max ${d} 4 (below what it holds)`);
    const from = api.consoleText(d).length;
    const out = await api.xl(`xl mem-max ${d} 4`);
    if (out.startsWith('xl:')) throw new Error(out);
    await sleep(1500);
    const afterMax = await settledMemKiB(api, d);
    const told = /balloon:/.test(api.consoleText(d).slice(from));
    return { boot: boot / 1024, down: down / 1024, up: up / 1024, target, afterMax: afterMax / 1024, told: told ? 'yes' : 'no' };
  },
  observe: [
    { key: 'boot', label: 'at boot', unit: 'MiB', digits: 1 },
    { key: 'down', label: 'after mem-set 8', unit: 'MiB', digits: 1 },
    { key: 'up', label: 'after the second mem-set', unit: 'MiB', digits: 1 },
    { key: 'afterMax', label: 'after mem-max 4', unit: 'MiB', digits: 1 },
    { key: 'told', label: 'the balloon driver reacted to mem-max' },
  ],
  answer: (obs) => Math.round(Number(obs['up']) * 10) / 10,
  checks(obs) {
    const near = (v: number, want: number): boolean => Math.abs(v - want) <= 0.75;
    const target = Number(obs['target']);
    return [
      { label: 'a target below the boot size is met (8 MiB)', ok: near(Number(obs['down']), 8) },
      target > BOOT_MIB
        ? { label: `a target above the boot size is not met: the guest grows back to ${BOOT_MIB} MiB only`, ok: near(Number(obs['up']), BOOT_MIB) }
        : { label: `a target up to the boot size is met (${target} MiB)`, ok: near(Number(obs['up']), target) },
      { label: 'mem-max below what it holds takes nothing away', ok: near(Number(obs['afterMax']), Number(obs['up'])) },
      { label: 'and the guest is not told (no balloon message)', ok: obs['told'] === 'no' },
    ];
  },
  explain: `\`mem-set\` is only a request: the hypervisor does not take or give a single page. The guest's driver reads the target and decides. This one gave 2048 pages back for the 8 MiB target, but for 24 MiB it took back only what it had given: it grows to its boot size, **16 MiB**, and no further, although maxmem would allow 32. The target stays unmet, and nothing forces the guest (Linux's balloon driver behaves much the same: it cannot hot-add memory it never had).

\`mem-max 4\` lowers the hypervisor's limit below what the domain holds, and nothing happens: the limit only refuses future \`increase_reservation\` calls. No node the guest watches changes, so its driver says nothing. The toolstack, not the guest, must turn a limit into a target.`,
  tryNext: `Pick a second target of 12 MiB (at most its boot size): now the driver meets it exactly.`,
};
