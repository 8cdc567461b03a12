import { describe, expect, it } from 'vitest';
import { DOM0_PROMPT, Dom0Shell } from './dom0Shell';
import type { XlOutput } from '../protocol/hvProtocol';

function shell(answer: (line: string) => XlOutput = (l) => ({ status: 0, output: `ran ${l}` })) {
  const ran: string[] = [];
  const attached: number[] = [];
  const sh = new Dom0Shell(
    {
      run: (line) => {
        ran.push(line);
        return new Promise((r) => setTimeout(() => r(answer(line)), 1));
      },
      attach: (d) => attached.push(d),
    },
    'hello',
  );
  const settle = () => new Promise((r) => setTimeout(r, 20));
  return { sh, ran, attached, settle, screen: () => sh.log.bootText() };
}

describe('Domain-0 shell', () => {
  it('echoes keys, runs the line on Enter and prints the answer and a new prompt', async () => {
    const { sh, ran, screen, settle } = shell();
    sh.input('xl lisx');
    sh.input('\x7ft');
    sh.input('\r');
    await settle();
    expect(ran).toEqual(['xl list']);
    expect(screen()).toBe(`hello\n${DOM0_PROMPT}xl lisx\b \bt\nran xl list\n${DOM0_PROMPT}`);
  });

  it('keeps lines typed while a command runs, in order; pasted lines run one by one', async () => {
    const { sh, ran, settle } = shell();
    sh.input('a\rb\r');
    sh.input('c\r');
    await settle();
    await settle();
    expect(ran).toEqual(['a', 'b', 'c']);
  });

  it('recalls history with the arrows, drops a line on Ctrl-C, attaches on xl console', async () => {
    const { sh, ran, attached, settle } = shell((l) => (l === 'console 3' ? { status: 0, output: '', attach: 3 } : { status: 0, output: '' }));
    sh.input('xl info\r');
    await settle();
    sh.input('junk\x03');
    sh.input('\x1b[A\r');
    await settle();
    sh.input('console 3\r');
    await settle();
    expect(ran).toEqual(['xl info', 'xl info', 'console 3']);
    expect(attached).toEqual([3]);
  });
});
