/**
 * Bridge links on `hyperlab host`'s listeners (src/core/net/link.ts, core/tools/netLinks.ts).
 * One port serves both migrations and links: `--listen`'s receiver says Xen's migration banner
 * first; a migration source then sends its stream, a linking host (`xl network-link BRIDGE
 * ADDR:PORT`) a link HELLO. `linkOrMigration` gives the receiver a channel that hands the
 * connection to a link when the first message is a HELLO (the receiver's attempt ends with
 * LINK_DIVERTED, which is not an error). Over `--listen-ws`, a page's first text message is
 * `link BRIDGE` instead of `push` or `pull DOM`.
 */
import { ChannelError, type MigrationChannel } from '../core/tools/migration/live/channel';
import { decodeLinkPdu, LINK_HELLO } from '../core/net/linkFraming';
import { linkOverChannel, linksOf } from '../core/tools/netLinks';
import type { Toolstack } from '../core/tools/toolstack';

export const LINK_DIVERTED = 'the connection is a bridge link, not a migration';

/** Is this message a link HELLO (the first thing a linking host sends)? */
export function isLinkHello(m: Uint8Array): boolean {
  const p = decodeLinkPdu(m);
  return typeof p !== 'string' && p.type === LINK_HELLO;
}

/** A channel for the migration receiver that turns into a link if the peer's first message is a HELLO. */
export class LinkOrMigration implements MigrationChannel {
  diverted = false;
  private first = true;
  private held: string[] | undefined = [];

  /** The receiver's log: held until the first message tells a migration (then written) from a link (then dropped). */
  logVia(out: (line: string) => void): (line: string) => void {
    this.flush = out;
    return (l) => (this.held ? this.held.push(l) : this.diverted || out(l));
  }
  private flush: (line: string) => void = () => {};

  constructor(
    private readonly inner: MigrationChannel,
    private readonly onLink: (hello: Uint8Array) => void,
  ) {}

  get closed(): string | undefined {
    return this.diverted ? LINK_DIVERTED : this.inner.closed;
  }

  send(msg: Uint8Array): Promise<void> {
    return this.diverted ? Promise.reject(new ChannelError(LINK_DIVERTED)) : this.inner.send(msg);
  }

  async receive(timeoutMs?: number): Promise<Uint8Array> {
    if (this.diverted) throw new ChannelError(LINK_DIVERTED);
    let m: Uint8Array;
    try {
      m = await this.inner.receive(timeoutMs);
    } catch (e) {
      this.decide();
      throw e;
    }
    if (this.first) {
      this.first = false;
      if (isLinkHello(m)) {
        this.diverted = true;
        this.held = undefined;
        this.onLink(m);
        throw new ChannelError(LINK_DIVERTED);
      }
      this.decide();
    }
    return m;
  }

  /** A migration after all (or a failure before the first message): the held lines go out. */
  private decide(): void {
    const h = this.held;
    this.held = undefined;
    if (h && !this.diverted) h.forEach((l) => this.flush(l));
  }

  close(reason?: string): void {
    if (!this.diverted) this.inner.close(reason);
  }
}

/** The channel `--listen` gives its migration receiver: a link on the host's links if the peer turns out to be one. */
export function linkOrMigration(ts: Toolstack, ch: MigrationChannel, peer: string): LinkOrMigration {
  return new LinkOrMigration(ch, (hello) => {
    // The bridge of the same name as the joiner's, or xenbr0 (a tunnel may join bridges of any names).
    const p = decodeLinkPdu(hello);
    const want = typeof p !== 'string' && p.type === LINK_HELLO ? p.hello.bridge : 'xenbr0';
    linkOverChannel(linksOf(ts), ts.nets.bridges.has(want) ? want : 'xenbr0', ch, 'accept', `tcp ${peer}`, hello);
  });
}

/** A page's `link BRIDGE` over `--listen-ws`: the rest of the connection is the link. Throws one line if BRIDGE does not exist. */
export function acceptWsLink(ts: Toolstack, ch: MigrationChannel, request: string, peer: string): void {
  const w = request.trim().split(/\s+/);
  const bridge = w[1] ?? 'xenbr0';
  if (w.length > 2 || !ts.nets.bridges.has(bridge)) throw new Error(`no bridge ${JSON.stringify(bridge.slice(0, 20))} to link`);
  linkOverChannel(linksOf(ts), bridge, ch, 'accept', `websocket ${peer}`);
}
