/**
 * `hyperlab run IMAGE`: boot an image on the hvm board in Node, console on stdout, stdin to
 * the UART. The exit status is the guest's (docs/cli.md):
 *
 *   0      the guest wrote PASS (0x5555) to the finisher
 *   N      the guest wrote FAIL (0x3333 | N << 16); like QEMU, N is the status as is
 *   2      usage error, or the image could not be loaded (one line on stderr)
 *   124    --max-insns ran out first (as timeout(1) reports a timeout)
 *   125    the guest waits for an interrupt that can never come: no timer armed and
 *          standard input closed
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { VirtMachine } from '../core/board/virt';
import { ImageError } from '../core/loader/imageError';
import { InstructionCountClock } from '../core/devices/clocks';
import { type RunArgs, UsageError } from './args';
import { traceStep } from './trace';
import { warmUpInterpreter } from '../core/cpu/warmup';

export const EXIT_USAGE = 2;
export const EXIT_MAX_INSNS = 124;
export const EXIT_IDLE_FOREVER = 125;

/** Instructions per slice between looks at stdin and stdout. */
const SLICE = 1_000_000;

export interface RunIo {
  stdout: (bytes: Uint8Array) => void;
  stderr: (text: string) => void;
  /** Subscribes to input; returns a function that unsubscribes. */
  stdin?: (onData: (bytes: Uint8Array) => void, onEnd: () => void) => () => void;
}

/**
 * Read a file named on the command line or in a config. Only regular files (a FIFO or a
 * device such as /dev/zero would be read forever), and at most `maxBytes`.
 */
export function readFileOrThrow(path: string, what: string, maxBytes = 1 << 30): Uint8Array {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UsageError(`cannot read ${what} '${path}': not a regular file`);
    if (st.size > maxBytes) throw new UsageError(`${what} '${path}' is too large: ${st.size} bytes, at most ${maxBytes}`);
    const buf = new Uint8Array(st.size);
    let done = 0;
    while (done < st.size) {
      const n = readSync(fd, buf, done, st.size - done, done);
      if (n === 0) break; // the file shrank meanwhile
      done += n;
    }
    return buf.subarray(0, done);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${what} '${path}': ${code === 'ENOENT' ? 'no such file' : (code ?? String(e))}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function createMachine(args: RunArgs, onConsole: (byte: number) => void): VirtMachine {
  const kernel = readFileOrThrow(args.image, 'image');
  const initrd = args.initrd !== undefined ? readFileOrThrow(args.initrd, 'initrd') : undefined;
  try {
    return new VirtMachine({
      kernel,
      memSize: args.memBytes,
      onConsole,
      ...(initrd ? { initrd } : {}),
      ...(args.append !== undefined ? { bootargs: args.append } : {}),
      ...(args.icountShift !== undefined ? { icountShift: args.icountShift } : {}),
      ...(args.jit !== undefined ? { jit: args.jit } : {}),
    });
  } catch (e) {
    if (e instanceof ImageError || e instanceof RangeError) throw new UsageError(`${args.image}: ${e.message}`);
    throw e;
  }
}

export async function runImage(args: RunArgs, io: RunIo): Promise<number> {
  warmUpInterpreter(); // complete type feedback before the guest (cpu/warmup.ts): a Linux boot 0.8 -> 0.65 s
  const out: number[] = [];
  let machine = createMachine(args, (b) => out.push(b));
  const input: number[] = [];
  let inputClosed = io.stdin === undefined;
  let wake: (() => void) | undefined;
  const unsubscribe = io.stdin?.(
    (bytes) => {
      for (const b of bytes) input.push(b);
      wake?.();
    },
    () => {
      inputClosed = true;
      wake?.();
    },
  );
  const flush = (): void => {
    if (out.length > 0) io.stdout(Uint8Array.from(out.splice(0)));
  };
  let left = args.maxInsns ?? Infinity;
  try {
    for (;;) {
      while (input.length > 0 && machine.sendInput(input[0]!)) input.shift();
      const budget = Math.min(left, args.trace ? 1 : SLICE);
      if (args.trace) io.stderr(traceStep(machine.hart));
      const before = machine.hart.executed; // executed, not retired: a trap storm must use up the budget too
      const why = machine.run(budget);
      left -= machine.hart.executed - before;
      flush();
      if (why === 'stop') {
        const f = machine.finished!;
        if (f.kind !== 'reset') return f.kind === 'pass' ? 0 : f.code;
        machine = createMachine(args, (b) => out.push(b)); // 0x7777: reboot, as QEMU does
        continue;
      }
      if (left <= 0) {
        io.stderr(`hyperlab: --max-insns ${args.maxInsns} reached at pc 0x${(machine.hart.pc >>> 0).toString(16)}\n`);
        return EXIT_MAX_INSNS;
      }
      if (why === 'wfi') {
        const deadline = machine.nextDeadline();
        if (!Number.isFinite(deadline) && inputClosed) {
          io.stderr('hyperlab: the guest waits for an interrupt, but no timer is armed and input has ended\n');
          return EXIT_IDLE_FOREVER;
        }
        await sleepUntil(machine, deadline, inputClosed ? undefined : (f) => (wake = f));
        wake = undefined;
      } else {
        await new Promise<void>((r) => setImmediate(r)); // let stdin events in
      }
    }
  } finally {
    flush();
    unsubscribe?.();
  }
}

/**
 * The hart sleeps in WFI: wait until the next timer deadline (with the instruction-count
 * clock, warp time to it at once, like QEMU's icount) or until input arrives.
 */
async function sleepUntil(m: VirtMachine, deadline: number, onInput?: (wake: () => void) => void): Promise<void> {
  if (m.clock instanceof InstructionCountClock && Number.isFinite(deadline)) {
    m.clock.advanceTo(deadline);
    await new Promise<void>((r) => setImmediate(r)); // time jumped: still let input arrive
    return;
  }
  const ms = Number.isFinite(deadline) ? Math.max(0, ((deadline - m.clock.now()) * 1000) / m.clock.frequency) : Infinity;
  await new Promise<void>((resolve) => {
    const timer = Number.isFinite(ms) ? setTimeout(resolve, Math.min(Math.ceil(ms), 2 ** 31 - 1)) : undefined;
    onInput?.(() => {
      if (timer !== undefined) clearTimeout(timer);
      resolve();
    });
  });
}
