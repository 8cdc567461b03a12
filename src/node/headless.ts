/**
 * Run an image headless in-process and collect what it printed: the hyperlab side of the
 * differential tests (src/node/qemu.ts is the QEMU side), with the same exit statuses as
 * `hyperlab run` (docs/cli.md).
 */
import { parseRunArgs } from './args';
import { runImage } from './run';

export interface HeadlessOptions {
  /** Bytes typed on the UART; input then ends, as with QEMU's stdin. */
  input?: string;
  maxInsns?: number;
  memMiB?: number;
  /** Deterministic time (instructions retired) with this shift. */
  icountShift?: number;
}

export interface HeadlessResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export async function runHeadless(image: string, opts: HeadlessOptions = {}): Promise<HeadlessResult> {
  const argv = [image, '--mem', `${opts.memMiB ?? 128}M`];
  if (opts.maxInsns !== undefined) argv.push('--max-insns', String(opts.maxInsns));
  if (opts.icountShift !== undefined) argv.push('--icount', String(opts.icountShift));
  const out: string[] = [];
  const err: string[] = [];
  const exitCode = await runImage(parseRunArgs(argv), {
    stdout: (bytes) => out.push(Buffer.from(bytes).toString('latin1')),
    stderr: (text) => err.push(text),
    stdin: (onData, onEnd) => {
      const t = setTimeout(() => {
        if (opts.input) onData(Buffer.from(opts.input, 'latin1'));
        onEnd();
      }, 0);
      return () => clearTimeout(t);
    },
  });
  return { stdout: out.join(''), stderr: err.join(''), exitCode };
}
