/**
 * Helpers the labs share: typing a command at a guest's console and waiting for its answer,
 * creating a teaching OS or hostile guest, waiting for a condition, sums of exit counters.
 * Waits poll the console or the statistics every 50 ms with a deadline; they are
 * conditions, never fixed delays (a busy machine only makes them slower).
 */
import type { LabApi } from './types';

const POLL_MS = 50;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `probe` until it returns a value other than undefined; rejects after `timeoutMs` with `what`. */
export async function waitUntil<T>(what: string, timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

/** The teaching OS's prompt (`NAME$ `) or the hostile guest's (`> ` on a line of its own) at the end of the console. */
export const TOS_PROMPT = /\$ $/;
/** The teaching OS's prompt anywhere in a command's output (a watch or balloon line may follow it). */
export const TOS_PROMPT_LINE = /(^|\n)[\w.-]+\$ /;
export const HOSTILE_PROMPT = /(^|\n)> \n$/;

/**
 * Type `line` (and Enter) at domain `id`'s console and wait until what it printed since
 * matches `until` (default: the teaching OS's prompt is back, at the start of a line). Resolves with that output.
 */
export async function command(api: LabApi, id: number, line: string, until: RegExp = TOS_PROMPT_LINE, timeoutMs = 30_000, enter = '\r'): Promise<string> {
  const from = api.consoleText(id).length;
  await api.sendInput(id, `${line}${enter}`);
  return waitUntil(`"${line}" in domain ${id}`, timeoutMs, () => {
    const out = api.consoleText(id).slice(from);
    // The echo of the line itself is part of `out`; the answer follows it.
    const echo = out.indexOf(line);
    const after = echo < 0 ? out : out.slice(echo + line.length);
    return until.test(after) ? after : undefined;
  });
}

/** Type a line without waiting for its answer (a command that runs on: `burn`). */
export async function type(api: LabApi, id: number, line: string): Promise<void> {
  await api.sendInput(id, `${line}\r`);
}

/** Create a teaching OS domain (`type` pv or hvm) from an xl config and wait for its prompt. */
export async function teachingOs(api: LabApi, type: 'pv' | 'hvm', name: string, extra: readonly string[] = [], memory = 16): Promise<number> {
  const config = [`name = "${name}"`, `type = "${type}"`, `memory = ${memory}`, `kernel = "guests/teaching-os-${type}.elf"`, ...extra, ''].join('\n');
  const id = await api.create({ config });
  await waitUntil(`the prompt of ${name}`, 60_000, () => (TOS_PROMPT.test(api.consoleText(id)) ? true : undefined));
  return id;
}

/**
 * Create a domain running the hostile pv guest (guests/hostile: one low-level command per
 * line, answered `= ok ...`, `= fault ...` or `= error ...`) and wait for its prompt.
 */
export async function hostile(api: LabApi, name: string, memory = 8): Promise<number> {
  const config = [
    `name = "${name}"`,
    'type = "pv"',
    `memory = ${memory}`,
    'kernel = "guests/hostile.elf"',
    'on_poweroff = "preserve"',
    'on_crash = "preserve"',
    '',
  ].join('\n');
  const id = await api.create({ config });
  await waitUntil(`the prompt of ${name}`, 60_000, () => (HOSTILE_PROMPT.test(api.consoleText(id)) ? true : undefined));
  return id;
}

/** One answer of the hostile guest: ok, fault or error, and its key=value fields. */
export interface HostileAnswer {
  readonly result: 'ok' | 'fault' | 'error';
  readonly line: string;
  readonly fields: Readonly<Record<string, number | string>>;
}

/** Type a command at a hostile guest and parse its answer line. */
export async function hostileCommand(api: LabApi, id: number, line: string, timeoutMs = 30_000): Promise<HostileAnswer> {
  // It reads lines ended by LF and does not echo them.
  const out = await command(api, id, line, /^= (ok|fault|error)\b.*\n> \n$/m, timeoutMs, '\n');
  const m = /^= (ok|fault|error)\b(.*)$/m.exec(out)!;
  const fields: Record<string, number | string> = {};
  for (const kv of m[2]!.trim().split(/\s+/)) {
    const i = kv.indexOf('=');
    if (i <= 0) continue;
    const v = kv.slice(i + 1).replace(/\r$/, '');
    fields[kv.slice(0, i)] = /^-?(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : v;
  }
  return { result: m[1] as HostileAnswer['result'], line: m[0].replace(/\r$/, ''), fields };
}

/** The sum of a domain's exit counters whose reason starts with `prefix` ('' for all). */
export function exitCount(exits: Readonly<Record<string, number>>, prefix = ''): number {
  let n = 0;
  for (const [k, v] of Object.entries(exits)) if (k.startsWith(prefix)) n += v;
  return n;
}

/** Counter deltas, by reason, between two snapshots (reasons that did not move left out). */
export function exitDelta(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

/** The biggest entries of a counter map as "reason n, reason n" (for an observation's text). */
export function topReasons(counts: Readonly<Record<string, number>>, n = 3): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}
