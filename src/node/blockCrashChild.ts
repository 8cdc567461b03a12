/**
 * Child process of the crash test in blockFile.test.ts: opens IMAGE (and its backing chain),
 * writes ROUNDS blocks of 8 KiB with a known pattern, flushes, prints "flushed", then either
 * waits ("idle") or keeps writing without flushing ("busy") until it is killed.
 * Usage: node --import tsx blockCrashChild.ts IMAGE ROUNDS idle|busy
 */
import { openImageFile } from './blockFile';

export function crashPattern(round: number): { offset: number; data: Uint8Array } {
  const data = new Uint8Array(8192);
  for (let i = 0; i < data.length; i++) data[i] = (round * 37 + i * 13 + (i >> 8)) & 0xff;
  return { offset: ((round * 7919) % 500) * 8192, data };
}

function main(argv: string[]): void {
  const [path, roundsArg, mode] = argv;
  if (path === undefined || roundsArg === undefined) throw new Error('usage: IMAGE ROUNDS idle|busy');
  const img = openImageFile(path, { format: 'qcow2' });
  const rounds = Number(roundsArg);
  for (let r = 0; r < rounds; r++) {
    const { offset, data } = crashPattern(r);
    img.write(offset, data);
  }
  img.flush();
  process.stdout.write('flushed\n');
  if (mode === 'busy') {
    let r = 1_000_000;
    const junk = new Uint8Array(65536).fill(0xee);
    const step = (): void => {
      for (let k = 0; k < 16; k++) {
        // Past the flushed area: new clusters, allocations that never reach a flush.
        img.write((4 << 20) + (r++ % 64) * 65536, junk);
      }
      setImmediate(step);
    };
    step();
  } else setInterval(() => {}, 1000);
}

if (process.argv[1]?.endsWith('blockCrashChild.ts')) main(process.argv.slice(2));
