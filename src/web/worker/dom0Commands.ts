/**
 * Domain-0's command line in the browser: the `xl` commands of `hyperlab host` (xl.ts,
 * the same code), plus the few shell commands a lab needs to find its files (ls, cat).
 * As on the Node host, `xl` in front is optional. Text in, text out.
 */
import type { Toolstack } from '../../core/tools/toolstack';
import { configWithOverrides, runXl, type XlIo } from '../../core/tools/xl';
import { parseXlConfig } from '../../core/tools/xlConfig';
import { parseDiskSpec } from '../../core/tools/xlDisk';
import type { Dom0Files } from './dom0Files';
import type { XlOutput } from '../protocol/hvProtocol';

export const SHELL_HELP = `Domain-0 shell:
  xl COMMAND ...     the xl toolstack ("xl" may be left out): try  xl help
  ls                 the preset configs, guest images, uploads and disk images
  cat FILE           show a file (e.g. cat hello.cfg)
  xenstore-read PATH          read a xenstore node (as Domain-0: every node)
  xenstore-write PATH VALUE   write one (VALUE: one word)
  clear              clear the screen
  help               this text`;

/** The words of a command line (no quoting: xl's arguments have no spaces). */
export function splitWords(line: string): string[] {
  return line
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
}

/** Opens what attaching disk images will need, asynchronously (diskLibrary.ts); resolves with the release. */
export type PrepareDisks = (disks: readonly { target: string; backing?: string }[]) => Promise<() => void>;

/** What a command may do besides printing, where the host offers it. */
export interface Dom0CommandHooks {
  /**
   * The lines of a command that finishes later (ping, tcpdump, network-capture), as they
   * come; the answer still carries them all (a late reader, window.hyperlab.xl).
   */
  stream?: (lines: string[]) => void;
  /** Keep a file a command wrote (`xl network-capture ... FILE`); resolves with where it went. */
  writeFile?: (path: string, bytes: Uint8Array) => Promise<string>;
  /** Check a file name before a command spends time making it (throws a one-line reason). */
  checkFileName?: (path: string) => void;
  /** `xl migrate DOM HOST`: a channel to HOST (another tab, a Node host; migrateService.ts). */
  migrationChannel?: XlIo['migrationChannel'];
}

export async function runDom0Command(
  ts: Toolstack,
  files: Dom0Files,
  line: string,
  prepareDisks?: PrepareDisks,
  hooks: Dom0CommandHooks = {},
): Promise<XlOutput> {
  const words = splitWords(line);
  const out: string[] = [];
  let streaming = false;
  const print = (t: string): void => {
    out.push(t);
    if (streaming) hooks.stream?.([t]);
  };
  const writes: { path: string; bytes: Uint8Array }[] = [];
  if (words.length === 0) return { status: 0, output: '' };
  const explicitXl = words[0] === 'xl';
  if (explicitXl) words.shift();
  const [cmd, ...args] = words;
  try {
    if (!explicitXl) {
      switch (cmd) {
        case 'help':
          return { status: 0, output: SHELL_HELP };
        case 'ls':
          return { status: 0, output: files.list().join('\n') };
        case 'cat':
          if (args.length !== 1) throw new Error('usage: cat FILE');
          await files.load(args[0]!);
          return { status: 0, output: files.readText(args[0]!).replace(/\n$/, '') };
        // Xen's xenstore-read/-write (tools/xenstore), as Domain-0 (the guided labs' other writer).
        case 'xenstore-read':
          if (args.length !== 1) throw new Error('usage: xenstore-read PATH');
          return { status: 0, output: await ts.hv.xsDom0().read(args[0]!) };
        case 'xenstore-write':
          if (args.length !== 2) throw new Error('usage: xenstore-write PATH VALUE');
          await ts.hv.xsDom0().write(args[0]!, args[1]!);
          return { status: 0, output: '' };
      }
    }
    let targets: { target: string; backing?: string }[] = [];
    if (cmd === 'create' && args[0] !== undefined) targets = await prefetchImages(files, args);
    if (cmd === 'block-attach' && args.length >= 2) targets = diskTargets(args.slice(1).join(','));
    if (cmd === 'network-capture' && hooks.checkFileName && args.length > 0) hooks.checkFileName(args[args.length - 1]!);
    const release = targets.length > 0 && prepareDisks ? await prepareDisks(targets) : () => {};
    try {
      const io: XlIo = {
        out: print,
        readFile: (p: string) => files.readText(p),
        ...(hooks.migrationChannel ? { migrationChannel: hooks.migrationChannel } : {}),
      };
      const { writeFile } = hooks;
      const r = runXl(ts, words, writeFile ? { ...io, writeBytes: (path: string, bytes: Uint8Array) => void writes.push({ path, bytes }) } : io);
      // Commands that finish later (ping, tcpdump): their lines as they come, then their status.
      if (r.pending && hooks.stream) {
        streaming = true;
        if (out.length > 0) hooks.stream([...out]);
      }
      let status = r.pending ? await r.pending : r.status;
      streaming = false;
      for (const w of writes) {
        try {
          out.push(`saved as ${await writeFile!(w.path, w.bytes)}`);
        } catch (e) {
          out.push(`xl: ${w.path}: ${e instanceof Error ? e.message : String(e)}`);
          status = 1;
        }
      }
      return { status, output: out.join('\n'), ...(r.attach !== undefined ? { attach: r.attach } : {}) };
    } finally {
      release();
    }
  } catch (e) {
    streaming = false;
    out.push(`xl: ${e instanceof Error ? e.message : String(e)}`);
    return { status: 1, output: out.join('\n') };
  }
}

/**
 * `xl create FILE [key=value ...]` reads its images synchronously: fetch them first. A
 * config that does not parse is left for xl to report.
 */
async function prefetchImages(files: Dom0Files, args: readonly string[]): Promise<{ target: string; backing?: string }[]> {
  await files.load(args[0]!);
  let cfg;
  try {
    cfg = parseXlConfig(configWithOverrides(files.readText(args[0]!), args.slice(1)));
  } catch {
    return [];
  }
  await files.load(cfg.kernel);
  if (cfg.ramdisk !== undefined) await files.load(cfg.ramdisk);
  return cfg.disk ?? [];
}

/** The image a block-attach spec names (a spec that does not parse is left for xl to report). */
function diskTargets(spec: string): { target: string; backing?: string }[] {
  try {
    return [parseDiskSpec(spec)];
  } catch {
    return [];
  }
}
