/**
 * Lab 11: binary translation. The same loop interpreted, then translated by the
 * translation tier (docs/jit.md); the speed-up and the tier's counters.
 */
import { command, teachingOs, waitUntil } from './guest';
import type { LabApi, LabDefinition } from './types';

/** `burn N` and its rate from the teaching OS's timing line (million iterations per second). */
async function burnRate(api: LabApi, id: number, millions: number): Promise<number> {
  const out = await command(api, id, `burn ${millions}`, /timing: burn[^\n]*\n[^]*\$ /, 180_000);
  const m = /timing: burn \d+ million iterations in [\d.]+ s \(([\d.]+) million\/s\)/.exec(out);
  if (!m) throw new Error(`no timing line in: ${out.slice(-200)}`);
  return Number(m[1]);
}

export const translation: LabDefinition = {
  id: 'translation',
  number: '11',
  title: 'Binary translation: the same loop, interpreted and translated',
  topic: 'emulation',
  minutes: 8,
  goal: 'An interpreter pays for decoding and dispatch on every instruction; translating a hot block once into host code removes that cost from every later run.',
  context: `hyperlab's vCPUs are emulated RISC-V harts. The **interpreter** fetches, decodes and dispatches every guest instruction, every time it runs. The **translation tier** (docs/jit.md) notices hot code, translates a block of guest instructions once into a JavaScript function the browser's own JIT then compiles to machine code, and runs that instead; it keeps the interpreter as the reference and falls back to it for what it does not translate. This is the idea of QEMU's TCG ("QEMU, a Fast and Portable Dynamic Translator", Bellard, USENIX 2005) and of VMware's binary translator (Adams and Agesen, ASPLOS 2006).

A translation is only valid while the guest code under it is unchanged: a store into a translated page invalidates it (the write watch shared with live migration).

The lab runs the teaching OS's \`burn\` (a xorshift loop) in one hvm domain, first with the tier **off**, then **always** on (\`window.hyperlab.jit.set\`), and compares the rates the guest itself reports. Then, still translated, \`smc\` rewrites its own code: a two-instruction function alone in a page (\`addi a0, a0, IMM; ret\`) gets a new immediate, a \`fence.i\` (the RISC-V Zifencei extension: the program's promise that it wrote code) and 50 calls, and the guest checks that the sum of the answers is the new code's.`,
  prediction: {
    kind: 'number',
    question: 'How many times faster will the loop run translated than interpreted?',
    unit: '× faster',
    min: 0,
    max: 1000,
    tolerance: 0.5,
    absolute: 0.5,
  },
  params: [
    { id: 'millions', label: 'Iterations', kind: 'number', default: 10, min: 1, max: 100, step: 1, unit: 'million' },
    { id: 'rewrites', label: 'smc: rewrites', kind: 'number', default: 200, min: 1, max: 5000, step: 1, unit: 'rewrites' },
  ],
  instrument: 'graphs',
  async run(api, params, report) {
    const n = Number(params['millions']);
    report.step('creating an hvm domain of the teaching OS');
    const d = await teachingOs(api, 'hvm', 'jit-lab');
    report.domains([d]);
    report.show('graphs');
    report.step(`translation tier off; burn ${n}`);
    await api.jit.set(d, 'off');
    const interpreted = await burnRate(api, d, n);
    report.measure('interpreted', interpreted);
    report.step(`translation tier always on; burn ${n}`);
    const before = await api.jit.set(d, 'always');
    const translated = await burnRate(api, d, n);
    const after = await api.jit.stats(d);
    report.measure('translated', translated);
    // Self-modifying code: each rewrite of a translated page throws its translations away.
    const rewrites = Number(params['rewrites']);
    report.step(`smc ${rewrites}: the guest rewrites its own code`);
    const s0 = await api.jit.stats(d);
    const smc = await command(api, d, `smc ${rewrites}`, /timing: smc[^\n]*\n[^]*\$ /, 180_000);
    // The counters come with each slice's end: wait until they show the rewrites (or give up and show what came).
    const s1 = await waitUntil('the invalidations to be reported', 5_000, async () => {
      const s = await api.jit.stats(d);
      return s.invalidations - s0.invalidations >= rewrites / 2 ? s : undefined;
    }).catch(() => api.jit.stats(d));
    report.measure('smcInvalidations', s1.invalidations - s0.invalidations);
    return {
      interpreted,
      translated,
      speedup: translated / Math.max(1e-6, interpreted),
      translations: after.translations - before.translations,
      ranTranslated: ((after.translated - before.translated) >>> 0) / 1e6,
      invalidations: after.invalidations - before.invalidations,
      rewrites,
      smcInvalidations: s1.invalidations - s0.invalidations,
      smcResult: /smc: .*: ok\r?$/m.test(smc) ? 'ok' : /STALE CODE RAN/.test(smc) ? 'stale code ran' : 'no answer',
    };
  },
  observe: [
    { key: 'interpreted', label: 'interpreted', unit: 'million iterations/s', digits: 1 },
    { key: 'translated', label: 'translated', unit: 'million iterations/s', digits: 1 },
    { key: 'speedup', label: 'speed-up', unit: '×', digits: 1 },
    { key: 'translations', label: 'blocks translated' },
    { key: 'ranTranslated', label: 'instructions run translated', unit: 'million', digits: 1 },
    { key: 'invalidations', label: 'translations invalidated during burn' },
    { key: 'rewrites', label: 'smc: rewrites of its own code' },
    { key: 'smcInvalidations', label: 'smc: translations invalidated' },
    { key: 'smcResult', label: 'smc: the new code ran every time' },
  ],
  answer: (obs) => Math.round(Number(obs['speedup']) * 10) / 10,
  checks: (obs) => [
    { label: 'translated code runs faster than the interpreter', ok: Number(obs['speedup']) > 1.2 },
    { label: 'blocks were translated and ran millions of instructions', ok: Number(obs['translations']) > 0 && Number(obs['ranTranslated']) > 1 },
  ],
  explain: `The loop is a handful of instructions run millions of times. Interpreted, each one is fetched, decoded (a table lookup on its encoding) and dispatched through a switch, and its operands are read and written in the register array. Translated, the block is decoded **once**; the browser compiles the generated function, and each iteration is a few host instructions with the guest registers in local variables. The speed-up is the share of the interpreter's time that went into decode and dispatch.

Only a few hundred blocks were translated (the loop, the shell, the console output), a few KiB of guest code, and one of them ran nearly every instruction: that is why translation pays for itself, compile a little and run it a lot. Code that changes (a JIT inside the guest, a loader) invalidates its translations on the first write to the page, and falls back to the interpreter until it is hot again.

\`smc\` shows it: every rewrite of the page hit the first-write path (the write watch that live migration's log-dirty uses too) and threw away the page's translations, about one invalidation per rewrite, and the sum proves the guest always ran its new code. A store by the hart into its own translated code is caught at once (the page's write generation moves, docs/jit.md); \`fence.i\`, which the ISA asks of a program before it runs code it wrote, makes the translations recheck their words too. Code that rewrites itself this often gains nothing from translation: each rewrite costs an invalidation and a new translation (compare the two \`timing: smc\` lines if you run it with the tier off).`,
  tryNext: `Try 1 million iterations: the translation's start-up shows in a smaller speed-up. Try 2000 rewrites: the invalidations follow the rewrites one for one.`,
};
