/**
 * What every ByteStore must do, as a check any implementation can run: MemoryStore and the
 * Node FileStore in vitest, the browser's OPFS store in a worker under Playwright. Throws
 * an Error naming the first broken rule. `make` returns a new, empty, writable store;
 * `reopen` (optional) opens the same storage again after close, read-only.
 */
import type { ByteStore } from './store';

export function checkByteStore(make: () => ByteStore, reopen?: () => ByteStore): void {
  const must = (ok: boolean, rule: string): void => {
    if (!ok) throw new Error(`ByteStore: ${rule}`);
  };
  const s = make();
  must(s.size === 0, 'a new store is empty');
  must(!s.readOnly, 'a new store is writable');
  const buf = new Uint8Array(16).fill(0xff);
  must(s.read(0, buf) === 0, 'read of an empty store returns 0 bytes');
  must(
    buf.every((b) => b === 0),
    'read past the end fills zeros',
  );
  s.write(4096, new Uint8Array([1, 2, 3, 4]));
  must(s.size === 4100, 'a write past the end grows the store to its end');
  const gap = new Uint8Array(4100).fill(0xff);
  must(s.read(0, gap) === 4100, 'read returns the bytes that came from the store');
  must(
    gap.subarray(0, 4096).every((b) => b === 0),
    'the gap before a write past the end reads as zeros',
  );
  must(gap[4096] === 1 && gap[4099] === 4, 'written bytes read back');
  const tail = new Uint8Array(8).fill(0xff);
  must(s.read(4098, tail) === 2, 'a read across the end returns the bytes before it');
  must(tail[0] === 3 && tail[1] === 4 && tail.subarray(2).every((b) => b === 0), 'a read across the end fills zeros after it');
  s.write(4097, new Uint8Array([9]));
  s.read(4096, tail.subarray(0, 4));
  must(tail[0] === 1 && tail[1] === 9 && tail[2] === 3, 'an overwrite changes only its bytes');
  s.truncate(4098);
  must(s.size === 4098, 'truncate shrinks');
  s.truncate(8192);
  must(s.size === 8192, 'truncate grows');
  s.read(4096, tail);
  must(tail[0] === 1 && tail[1] === 9 && tail.subarray(2).every((b) => b === 0), 'bytes cut by truncate read as zeros when it grows again');
  const big = new Uint8Array(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  s.write(3 << 20, big);
  const back = new Uint8Array(1 << 20);
  s.read(3 << 20, back);
  let same = true;
  for (let i = 0; i < big.length && same; i++) same = back[i] === big[i];
  must(same, 'a 1 MiB write reads back');
  s.flush();
  s.close();
  if (reopen !== undefined) {
    const r = reopen();
    must(r.size === 4 << 20, 'a reopened store keeps its size');
    must(r.readOnly, 'a store reopened read-only says so');
    r.read(3 << 20, back);
    same = true;
    for (let i = 0; i < big.length && same; i++) same = back[i] === big[i];
    must(same, 'a reopened store keeps its bytes');
    let refused = false;
    try {
      r.write(0, new Uint8Array(1));
    } catch {
      refused = true;
    }
    must(refused, 'a read-only store refuses writes');
    r.close();
  }
}
