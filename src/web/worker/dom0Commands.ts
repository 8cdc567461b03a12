/**
 * Domain-0's command line in the browser: the `xl` commands of `hyperlab host` (xl.ts,
 * the same code), plus the few shell commands a lab needs to find its files (ls, cat).
 * As on the Node host, `xl` in front is optional. Text in, text out.
 */
import type { Toolstack } from '../../core/tools/toolstack';
import { configWithOverrides, runXl } from '../../core/tools/xl';
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

export async function runDom0Command(ts: Toolstack, files: Dom0Files, line: string, prepareDisks?: PrepareDisks): Promise<XlOutput> {
  const words = splitWords(line);
  const out: string[] = [];
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
    const release = targets.length > 0 && prepareDisks ? await prepareDisks(targets) : () => {};
    try {
      const r = runXl(ts, words, { out: (t) => out.push(t), readFile: (p) => files.readText(p) });
      // Commands that finish later (ping, tcpdump): their lines and status once they have.
      const status = r.pending ? await r.pending : r.status;
      return { status, output: out.join('\n'), ...(r.attach !== undefined ? { attach: r.attach } : {}) };
    } finally {
      release();
    }
  } catch (e) {
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
