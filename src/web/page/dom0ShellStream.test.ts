/**
 * Domain-0's line editor and commands that print as they go (ping, tcpdump): the lines the
 * worker streams are on the screen before the command ends, and the answer, which carries
 * them all again, adds only what was not shown (nothing twice, nothing lost).
 */
import { describe, expect, it } from 'vitest';
import { DOM0_PROMPT, Dom0Shell } from './dom0Shell';
import type { XlOutput } from '../protocol/hvProtocol';

describe('Domain-0 shell, streamed lines', () => {
  it('prints streamed lines at once, then only the rest of the answer', async () => {
    let push: (lines: readonly string[]) => void = () => {};
    let finish: (r: XlOutput) => void = () => {};
    const sh = new Dom0Shell(
      {
        run: (_line, onLines) => {
          push = onLines ?? (() => {});
          return new Promise((r) => (finish = r));
        },
        attach: () => {},
      },
      'hi',
    );
    sh.input('ping -c 2 10.0.0.11\r');
    push(['PING 10.0.0.11 (10.0.0.11) 56(84) bytes of data.']);
    push(['64 bytes from 10.0.0.11: icmp_seq=1 ttl=64 time=0.5 ms']);
    const mid = sh.log.bootText();
    expect(mid.endsWith('icmp_seq=1 ttl=64 time=0.5 ms\n')).toBe(true);
    expect(mid).not.toContain(DOM0_PROMPT + '\n');
    const all = [
      'PING 10.0.0.11 (10.0.0.11) 56(84) bytes of data.',
      '64 bytes from 10.0.0.11: icmp_seq=1 ttl=64 time=0.5 ms',
      '64 bytes from 10.0.0.11: icmp_seq=2 ttl=64 time=0.4 ms',
      '\n--- 10.0.0.11 ping statistics ---',
    ].join('\n');
    finish({ status: 0, output: all });
    await new Promise((r) => setTimeout(r, 10));
    expect(sh.log.bootText()).toBe(`hi\n${DOM0_PROMPT}ping -c 2 10.0.0.11\n${all}\n${DOM0_PROMPT}`);
  });

  it('a command that streamed nothing prints its whole answer', async () => {
    const sh = new Dom0Shell({ run: () => Promise.resolve({ status: 0, output: 'one\ntwo' }), attach: () => {} }, 'hi');
    sh.input('xl list\r');
    await new Promise((r) => setTimeout(r, 10));
    expect(sh.log.bootText()).toBe(`hi\n${DOM0_PROMPT}xl list\none\ntwo\n${DOM0_PROMPT}`);
  });
});
