/**
 * Command-line option parsing for `hyperlab run`, without dependencies. Every mistake is a
 * UsageError with a one-line message; the CLI prints it and exits with EXIT_USAGE.
 */

import { JIT_MODES, type JitMode } from '../core/cpu/jit/engine';

export class UsageError extends Error {}

/** Thrown by a subcommand's parser on `-h` / `--help`: the CLI prints that command's usage on stdout and exits 0. */
export class HelpRequested extends Error {}

/** Whether a command-line word asks for help. */
export function isHelp(word: string): boolean {
  return word === '-h' || word === '--help';
}

export interface RunArgs {
  image: string;
  memBytes: number;
  initrd?: string;
  append?: string;
  maxInsns?: number;
  trace: boolean;
  icountShift?: number;
  jit?: JitMode;
}

/** `--jit off|on|always` (docs/jit.md). */
export function parseJit(v: string): JitMode {
  if (!(JIT_MODES as readonly string[]).includes(v)) throw new UsageError(`bad --jit '${v}' (off, on or always)`);
  return v as JitMode;
}

/** Parse a size like 64M, 512K, 1G or a plain byte count. */
export function parseSize(text: string): number {
  const m = /^(\d+)([KMG]?)i?B?$/i.exec(text.trim());
  if (!m) throw new UsageError(`bad size '${text}' (use e.g. 64M)`);
  const unit = { '': 1, K: 1 << 10, M: 1 << 20, G: 1 << 30 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(m[1]) * unit;
}

function parseCount(text: string, what: string): number {
  if (!/^\d+(e\d+)?$/i.test(text.replaceAll('_', ''))) throw new UsageError(`bad ${what} '${text}' (a whole number)`);
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`bad ${what} '${text}' (a whole number above 0)`);
  return n;
}

export function parseRunArgs(argv: readonly string[]): RunArgs {
  const args: RunArgs = { image: '', memBytes: 128 << 20, trace: false };
  let image: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (isHelp(a)) throw new HelpRequested();
    switch (a) {
      case '--mem':
        args.memBytes = parseSize(value());
        break;
      case '--initrd':
        args.initrd = value();
        break;
      case '--append':
        args.append = value();
        break;
      case '--max-insns':
        args.maxInsns = parseCount(value(), '--max-insns');
        break;
      case '--trace':
        args.trace = true;
        break;
      case '--icount': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) > 20) throw new UsageError(`bad --icount '${v}' (a shift from 0 to 20)`);
        args.icountShift = Number(v);
        break;
      }
      case '--jit':
        args.jit = parseJit(value());
        break;
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option '${a}'`);
        if (image !== undefined) throw new UsageError(`unexpected argument '${a}' (one image only)`);
        image = a;
    }
  }
  if (image === undefined) throw new UsageError('no image given');
  args.image = image;
  const mib = args.memBytes / (1 << 20);
  if (!Number.isInteger(mib) || mib < 4 || mib > 1024) throw new UsageError(`--mem must be a whole number of MiB from 4M to 1G`);
  return args;
}
