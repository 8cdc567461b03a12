/**
 * hyperlab's command line (bin/hyperlab.js bundles and calls `main`).
 *
 *   hyperlab run IMAGE [--mem 64M] [--initrd FILE] [--append "ARGS"] [--max-insns N]
 *                      [--trace] [--icount SHIFT] [--jit off|on|always]
 *   hyperlab host [--mem 512M] [--pcpus 2] [--sched credit|rr] [--icount SHIFT] [--jit MODE] [--exec "CMD; CMD"] [--listen [ADDR:]PORT] [--listen-ws [ADDR:]PORT] [CONFIG...]
 *   hyperlab bench [--runs N] [--out FILE] [--browser | --linux | --disk | --net]
 *   hyperlab help [COMMAND]
 *
 * Every command takes -h / --help: its usage on stdout, exit status 0.
 */
import { HelpRequested, isHelp, parseRunArgs, UsageError } from './args';
import { EXIT_USAGE, runImage } from './run';

/** Each command's usage (docs/cli.md says more). */
const COMMANDS = {
  run: `usage: hyperlab run IMAGE [options]

Boots IMAGE (an ELF32 RISC-V executable or a flat binary) as an hvm guest on the virt
board: the console on stdout, stdin to the UART (Ctrl-A x quits on a terminal). The exit
status is the guest's: 0 on PASS, N on FAIL with code N, 2 on a usage or load error,
124 when --max-insns runs out, 125 when the guest sleeps with nothing left to wake it.

options:
  --mem SIZE        guest RAM, whole MiB from 4M to 1G (default 128M)
  --initrd FILE     an initial ramdisk, placed as QEMU places it
  --append "ARGS"   the kernel command line (/chosen/bootargs)
  --max-insns N     stop after N instructions
  --trace           print each instruction with its disassembly on stderr
  --icount SHIFT    deterministic time: each instruction lasts 2^SHIFT ns (0..20)
  --jit MODE        the translation tier: on (default), off, or always (translate
                    everything on first execution); docs/jit.md
  -h, --help        this text`,
  host: `usage: hyperlab host [options] [CONFIG...]

Starts a hypervisor with vCPU worker threads, creates a domain from each xl CONFIG, and
reads xl commands at a Domain-0 prompt (interactive on a terminal, else one per line from
stdin). Host commands: sleep SECONDS, quit.

options:
  --mem SIZE        machine memory, 16M to 1G (default 512M)
  --pcpus N         physical CPUs the scheduler hands out, 1..16 (default 2)
  --sched NAME      scheduler: credit or rr (default credit)
  --icount SHIFT    deterministic time: each instruction lasts 2^SHIFT ns
  --jit MODE        the translation tier in every vCPU: on (default), off, always
  --exec "CMD; CMD" run these commands instead of reading stdin
  --listen [ADDR:]PORT  receive live migrations (xl migrate DOM ADDR:PORT from another
                    host; ADDR defaults to 127.0.0.1); serves until stopped
  --listen-ws [ADDR:]PORT  migrations to and from browser pages over WebSocket (the
                    page's Migration panel connects to ws://ADDR:PORT)
  -h, --help        this text`,
  bench: `usage: hyperlab bench [options]

Runs the benchmarks and prints their JSON (also written to bench/results/; docs/bench.md).

options:
  --runs N          runs of each measurement (default 5)
  --out FILE        where to write the JSON (default bench/results/cpu.json)
  --browser         then the lab in Chromium (bench/browser.ts)
  --linux           only the Linux boot benchmark (bench/results/linux.json)
  --disk            only the disk benchmarks, image layer and pv blkfront (bench/results/disk.json; 3 runs unless --runs)
  --net             only the network benchmark: ping pv/hvm, Linux TCP and UDP (bench/results/net.json; 3 runs unless --runs)
  --jit             only the translation tier: cpubench interpreter / tier / QEMU, Linux both ways (bench/results/jit.json)
  -h, --help        this text`,
  help: `usage: hyperlab help [COMMAND]

Prints the usage of hyperlab, or of one of its commands.`,
} as const;

type Command = keyof typeof COMMANDS;

const USAGE = `usage: hyperlab COMMAND [options]

commands:
  run IMAGE          boot one image headless on the virt board
  host [CONFIG...]   a hypervisor with a Domain-0 xl prompt
  bench              the benchmarks
  help [COMMAND]     this text, or a command's

'hyperlab COMMAND --help' prints a command's options.`;

function isCommand(word: string | undefined): word is Command {
  return word !== undefined && Object.hasOwn(COMMANDS, word);
}

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
      case 'help': {
        const [topic, ...extra] = rest;
        if (topic !== undefined && isHelp(topic)) throw new HelpRequested();
        if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
        if (topic !== undefined && !isCommand(topic)) throw new UsageError(`unknown command '${topic}'`);
        process.stdout.write(`${topic === undefined ? USAGE : COMMANDS[topic]}\n`);
        return 0;
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
    if (e instanceof HelpRequested && isCommand(command)) {
      process.stdout.write(`${COMMANDS[command]}\n`);
      return 0;
    }
    if (e instanceof UsageError) {
      const hint = isCommand(command) ? `${COMMANDS[command].split('\n')[0]}\n'hyperlab ${command} --help' lists the options.` : USAGE;
      process.stderr.write(`hyperlab: ${e.message}\n${hint}\n`);
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
