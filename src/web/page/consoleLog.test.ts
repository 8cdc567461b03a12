import { describe, expect, it } from 'vitest';
import { ConsoleLog } from './consoleLog';

describe('ConsoleLog', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

  it('gives the current boot text with CR LF as LF, UTF-8 split across batches', () => {
    const log = new ConsoleLog();
    const euro = enc('€'); // three bytes
    log.append(Uint8Array.of(...enc('price\r\n'), euro[0]!));
    log.append(euro.subarray(1));
    expect(log.bootText()).toBe('price\n€');
  });

  it('starts the text over at a reboot but keeps the replay, marker included', () => {
    const log = new ConsoleLog();
    log.append(enc('first'));
    log.startBoot(enc('--'));
    log.append(enc('second'));
    log.appendLate(enc('!'));
    expect(log.bootText()).toBe('second');
    expect(
      log
        .replay()
        .map((c) => new TextDecoder().decode(c))
        .join(''),
    ).toBe('first--second!');
  });
});
