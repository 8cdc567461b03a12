/**
 * Domain-0's console in the page: a line editor over a terminal (the page's xterm), that
 * runs each line as a Domain-0 command (dom0Commands.ts, in the worker) and prints the
 * answer. Keys: printable characters, Backspace, Enter, Ctrl-C (drop the line), Ctrl-U
 * (erase it), Ctrl-L (clear the screen), Up and Down (history). Lines typed or pasted
 * while a command runs wait their turn. Knows no DOM: the terminal is `write`.
 */
import { ConsoleLog } from './consoleLog';
import { Emitter } from './emitter';
import type { XlOutput } from '../protocol/hvProtocol';

export const DOM0_PROMPT = 'dom0# ';
const CLEAR = '\x1b[2J\x1b[3J\x1b[H';
const HISTORY_MAX = 200;

export interface Dom0ShellIo {
  /** Run a line; `onLines` may hear the lines of a command that finishes later as they come (they are in the answer too). */
  run(line: string, onLines?: (lines: readonly string[]) => void): Promise<XlOutput>;
  /** `xl console DOM`: show that domain's console. */
  attach(domid: number): void;
}

export class Dom0Shell {
  /** What the terminal shows, for a terminal that attaches late and for consoleText(0). */
  readonly log = new ConsoleLog();
  private readonly events = new Emitter<{ output: string }>();
  private line = '';
  private readonly history: string[] = [];
  private historyAt = 0;
  private busy = false;
  private pendingInput = '';

  constructor(
    private readonly io: Dom0ShellIo,
    banner: string,
  ) {
    this.print(`${banner}\r\n${DOM0_PROMPT}`);
  }

  onOutput(listener: (text: string) => void): () => void {
    return this.events.on('output', listener);
  }

  /** Keys from the terminal (xterm's onData: characters and escape sequences). */
  input(data: string): void {
    if (this.busy) {
      this.pendingInput += data;
      return;
    }
    for (let i = 0; i < data.length; i++) {
      const c = data[i]!;
      if (c === '\x1b') {
        const seq = /^\x1b\[[0-9;]*[A-Za-z~]/.exec(data.slice(i))?.[0] ?? c;
        i += seq.length - 1;
        if (seq === '\x1b[A') this.recall(-1);
        else if (seq === '\x1b[B') this.recall(1);
      } else if (c === '\r' || c === '\n') {
        if (c === '\n' && data[i - 1] === '\r') continue;
        this.enter();
        if (this.busy) {
          this.pendingInput = data.slice(i + 1);
          return;
        }
      } else if (c === '\x7f' || c === '\b') {
        if (this.line.length > 0) {
          this.line = this.line.slice(0, -1);
          this.print('\b \b');
        }
      } else if (c === '\x03') {
        this.print('^C\r\n' + DOM0_PROMPT);
        this.line = '';
      } else if (c === '\x15') {
        this.print('\b \b'.repeat(this.line.length));
        this.line = '';
      } else if (c === '\x0c') {
        this.print(CLEAR + DOM0_PROMPT + this.line);
      } else if (c >= ' ') {
        this.line += c;
        this.print(c);
      }
    }
  }

  private enter(): void {
    const line = this.line;
    this.line = '';
    this.print('\r\n');
    if (line.trim() !== '' && this.history.at(-1) !== line) this.history.push(line);
    if (this.history.length > HISTORY_MAX) this.history.shift();
    this.historyAt = this.history.length;
    if (line.trim() === 'clear') {
      this.print(CLEAR + DOM0_PROMPT);
      return;
    }
    if (line.trim() === '') {
      this.print(DOM0_PROMPT);
      return;
    }
    this.busy = true;
    // ping and tcpdump print as they go: what came already is a prefix of the answer's output.
    let shown = '';
    const onLines = (lines: readonly string[]): void => {
      const text = lines.map((l) => `${l}\n`).join('');
      shown += text;
      this.print(text.replace(/\r?\n/g, '\r\n'));
    };
    void this.io
      .run(line, onLines)
      .catch((e: unknown): XlOutput => ({ status: 1, output: `dom0: ${e instanceof Error ? e.message : String(e)}` }))
      .then((r) => {
        const all = r.output === '' ? '' : `${r.output}\n`;
        const tail = all.startsWith(shown) ? all.slice(shown.length) : all;
        if (tail !== '') this.print(tail.replace(/\r?\n/g, '\r\n'));
        if (r.attach !== undefined) this.io.attach(r.attach);
        this.print(DOM0_PROMPT);
        this.busy = false;
        const rest = this.pendingInput;
        this.pendingInput = '';
        if (rest !== '') this.input(rest);
      });
  }

  private recall(step: number): void {
    const at = Math.min(this.history.length, Math.max(0, this.historyAt + step));
    if (at === this.historyAt) return;
    this.historyAt = at;
    const next = this.history[at] ?? '';
    this.print('\b \b'.repeat(this.line.length) + next);
    this.line = next;
  }

  private print(text: string): void {
    this.log.append(new TextEncoder().encode(text));
    this.events.emit('output', text);
  }
}
