/** Lab 1: trap and emulate. The same console output from a pv and an hvm guest; exits per KiB. */
import { command, exitCount, exitDelta, teachingOs, topReasons, waitUntil } from './guest';
import type { LabApi, LabDefinition } from './types';

/** The domain's exit counters once a statistics report newer than now has come in (reports are ~100 ms apart). */
async function settledExits(api: LabApi, id: number): Promise<Readonly<Record<string, number>>> {
  const seq = api.stats(id).seq;
  await waitUntil(`a statistics report of domain ${id}`, 5000, () => (api.stats(id).seq >= seq + 2 ? true : undefined));
  return api.stats(id).exits;
}

async function measureWrite(api: LabApi, id: number, bytes: number): Promise<Record<string, number>> {
  const before = await settledExits(api, id);
  await command(api, id, `write ${bytes}`, /timing: write[^\n]*\n[^]*\$ /, 120_000);
  return exitDelta(before, await settledExits(api, id));
}

export const trapAndEmulate: LabDefinition = {
  id: 'trap-and-emulate',
  number: '1',
  title: 'Trap and emulate: what one KiB of console output costs',
  topic: 'full virtualization vs paravirtualization',
  minutes: 8,
  goal: 'An emulated device costs an exit per register access; a paravirtual ring costs one notification per batch.',
  context: `A fully virtualized (hvm) guest believes it drives a real 16550 UART at 0x10000000. Every load or store to that address is not memory: the hart **traps** to the hypervisor, which **emulates** the register (a device model) and resumes the guest. Popek and Goldberg's 1974 paper ("Formal requirements for virtualizable third generation architectures") calls this trap-and-emulate; a driver that writes one byte polls the line status register (LSR) and then writes the byte to THR: two accesses.

A paravirtualized (pv) guest knows it runs on a hypervisor. It writes its output into a shared ring page (Xen's \`xencons_interface\`, \`xen/include/public/io/console.h\`: 2048 bytes out) and tells the console backend with one event-channel notification (the \`event_channel_op\` hypercall, \`EVTCHNOP_send\`) when it flushes its 512-byte buffer.

The lab types \`write N\` in a pv and an hvm domain of the teaching OS: both print exactly N bytes. It counts the exits each domain takes meanwhile, by reason. The pv guest takes about **two notifications per KiB**, and some exits for its timer (a tick every 10 ms, whatever it does): about **ten exits per KiB** in all.`,
  prediction: {
    kind: 'number',
    question: 'How many exits per KiB of output will the hvm guest take?',
    unit: 'exits per KiB',
    min: 0,
    max: 1_000_000,
    tolerance: 0.5,
  },
  params: [{ id: 'kib', label: 'Output per guest', kind: 'number', default: 16, min: 1, max: 256, step: 1, unit: 'KiB' }],
  instrument: 'graphs',
  async run(api, params, report) {
    const bytes = Number(params['kib']) * 1024;
    report.step('creating a pv and an hvm domain of the teaching OS');
    const pv = await teachingOs(api, 'pv', 'trap-pv');
    const hvm = await teachingOs(api, 'hvm', 'trap-hvm');
    report.domains([pv, hvm]);
    report.show('graphs');
    report.step(`write ${bytes} in the pv domain (${pv})`);
    const pvExits = await measureWrite(api, pv, bytes);
    report.measure('pvPerKiB', exitCount(pvExits) / (bytes / 1024));
    report.step(`write ${bytes} in the hvm domain (${hvm})`);
    const hvmExits = await measureWrite(api, hvm, bytes);
    report.measure('hvmPerKiB', exitCount(hvmExits) / (bytes / 1024));
    const p = exitCount(pvExits),
      h = exitCount(hvmExits);
    return {
      pvNotifyPerKiB: exitCount(pvExits, 'hypercall:event_channel_op') / (bytes / 1024),
      pvExits: p,
      hvmExits: h,
      pvPerKiB: p / (bytes / 1024),
      hvmPerKiB: h / (bytes / 1024),
      ratio: h / Math.max(1, p),
      pvTop: topReasons(pvExits),
      hvmTop: topReasons(hvmExits),
      hvmTopReason: Object.entries(hvmExits).sort((a, b) => b[1] - a[1])[0]?.[0] ?? '',
    };
  },
  observe: [
    { key: 'pvPerKiB', label: 'pv: exits per KiB', digits: 1 },
    { key: 'pvNotifyPerKiB', label: 'pv: of which event channel notifications', digits: 1 },
    { key: 'hvmPerKiB', label: 'hvm: exits per KiB', digits: 0 },
    { key: 'ratio', label: 'hvm / pv', unit: '×', digits: 0 },
    { key: 'pvTop', label: 'pv: most frequent exits' },
    { key: 'hvmTop', label: 'hvm: most frequent exits' },
  ],
  answer: (obs) => Math.round(Number(obs['hvmPerKiB'])),
  checks: (obs) => [
    { label: 'the hvm guest exits at least once per byte it prints (1024 per KiB)', ok: Number(obs['hvmPerKiB']) >= 1024 },
    { label: "the hvm guest's exits are the UART's (mmio:uart0)", ok: obs['hvmTopReason'] === 'mmio:uart0' },
    { label: 'the pv guest exits fewer than 32 times per KiB', ok: Number(obs['pvPerKiB']) < 32 },
    { label: 'hvm takes at least 50 times as many exits as pv for the same output', ok: Number(obs['ratio']) >= 50 },
  ],
  explain: `Each byte the hvm guest prints is at least two MMIO accesses (LSR, to see that THR is empty, then THR), and each access is an exit: the vCPU stops, the hypervisor decodes the access, the UART model updates its registers, the vCPU resumes. That is about **2048 exits per KiB**, all \`mmio:uart0\`.

The pv guest copies 512 bytes at a time into the ring and sends one event: about two \`hypercall:event_channel_op\` exits per KiB. Its other exits are its timer's (\`set_timer_op\` and \`sched_op\` block, every 10 ms) and do not grow with the output. The backend (in Domain-0) does the copying out; the guest never traps on a device register.

This is why Xen's pv drivers exist, and why hvm guests get paravirtual drivers too (PVHVM, virtio): the device model is exact but every register access costs a round trip through the hypervisor.`,
  tryNext: `Change the amount of output. The exits per KiB hardly move: the cost is per byte for the emulated UART and per 512-byte batch for the ring. With 1 KiB the timer's exits (one \`set_timer_op\` per 10 ms tick) show more in the pv figure.`,
};
