/**
 * One machine's console as the page keeps it: the raw bytes for a terminal to replay
 * (every boot, with a marker line between boots) and the text of the current boot for
 * automation (`consoleText`, `waitForText`).
 */

/** Scrollback kept for replay when a terminal attaches late (bytes, all boots). */
const REPLAY_LIMIT = 1 << 20;
/** Text kept of the current boot (characters); older text is dropped from the front. */
const TEXT_LIMIT = 4 << 20;

export class ConsoleLog {
  private chunks: Uint8Array[] = [];
  private replayBytes = 0;
  private text = '';
  private decoder = new TextDecoder();

  /** Bytes the guest sent. */
  append(bytes: Uint8Array): void {
    this.keep(bytes);
    this.text += this.decoder.decode(bytes, { stream: true });
    if (this.text.length > TEXT_LIMIT) this.text = this.text.slice(this.text.length - TEXT_LIMIT / 2);
  }

  /** Bytes of an earlier boot that arrived after the next one began: terminal only. */
  appendLate(bytes: Uint8Array): void {
    this.keep(bytes);
  }

  /** A new boot: its text starts empty; `marker` (terminal bytes) separates it in the replay. */
  startBoot(marker: Uint8Array): void {
    this.keep(marker);
    this.text = '';
    this.decoder = new TextDecoder();
  }

  /** The current boot's output decoded as UTF-8, with CR LF turned into LF. */
  bootText(): string {
    return this.text.replace(/\r\n/g, '\n');
  }

  /** Everything kept for a terminal, oldest first. */
  replay(): readonly Uint8Array[] {
    return this.chunks;
  }

  private keep(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.replayBytes += bytes.length;
    while (this.replayBytes > REPLAY_LIMIT && this.chunks.length > 1) {
      this.replayBytes -= this.chunks.shift()!.length;
    }
  }
}
