/**
 * hyperlab's command line (bin/hyperlab.js bundles and calls `main`).
 *
 *   hyperlab run IMAGE [--mem 64M] [--initrd FILE] [--append "ARGS"] [--max-insns N]
 *                      [--trace] [--icount SHIFT]
 *   hyperlab bench [--runs N] [--out FILE] [--browser | --linux]
 */
import { parseRunArgs, UsageError } from './args';
import { EXIT_USAGE, runImage } from './run';

const USAGE = `usage: hyperlab run IMAGE [--mem 64M] [--initrd FILE] [--append "ARGS"] [--max-insns N] [--trace] [--icount SHIFT]
       hyperlab host [--mem 512M] [--pcpus 2] [--sched credit|rr] [--icount SHIFT] [--exec "CMD; CMD"] [CONFIG...]
       hyperlab bench [--runs N] [--out FILE] [--browser | --linux]`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await runImage(parseRunArgs(rest), nodeIo());
      case 'host': {
        const { parseHostArgs, runHost } = await import('./host');
        return await runHost(parseHostArgs(rest));
      }
      case 'bench': {
        const { benchMain } = await import('../../bench/main');
        return await benchMain(rest);
      }
      case undefined:
      case '-h':
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? EXIT_USAGE : 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`hyperlab: ${e.message}\n${USAGE}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}

function nodeIo(): Parameters<typeof runImage>[1] {
  return {
    stdout: (bytes) => process.stdout.write(bytes),
    stderr: (text) => process.stderr.write(text),
    stdin: (onData, onEnd) => {
      const stdin = process.stdin;
      // On a terminal, pass keys straight to the guest; Ctrl-A x quits, as in QEMU.
      const tty = stdin.isTTY === true;
      if (tty) stdin.setRawMode(true);
      let ctrlA = false;
      const data = (chunk: Buffer): void => {
        if (tty) {
          for (const b of chunk) {
            if (ctrlA && b === 0x78) {
              process.stderr.write('\nhyperlab: terminated (Ctrl-A x)\n');
              process.exit(0);
            }
            ctrlA = b === 0x01;
          }
        }
        onData(chunk);
      };
      stdin.on('data', data);
      stdin.on('end', onEnd);
      stdin.resume();
      return () => {
        stdin.off('data', data);
        stdin.off('end', onEnd);
        if (tty) stdin.setRawMode(false);
        stdin.pause();
      };
    },
  };
}
