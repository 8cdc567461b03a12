/**
 * Domain-0's commands for links between hosts' bridges (netLinks.ts, net/link.ts):
 *   xl network-link                    the links: state, peers, counters, where they go
 *   xl network-link BRIDGE ADDR:PORT   link BRIDGE to the bridge of the host listening there
 *                                      (`hyperlab host --listen`, which takes migrations on the same port)
 *   xl network-unlink LINK|all         close a link (the port leaves the bridge; the peer's too)
 */
import { linkOverChannel, linksOf } from './netLinks';
import type { Toolstack } from './toolstack';
import type { XlIo, XlResult } from './xl';

export const LINK_HELP = `  network-link [BRIDGE ADDR:PORT]   link a bridge to another host's (hyperlab host --listen); alone: list links
  network-unlink LINK|all       close a link between hosts' bridges`;

export function runLinkCommand(ts: Toolstack, cmd: string, args: readonly string[], io: XlIo): XlResult | undefined {
  const set = linksOf(ts);
  switch (cmd) {
    case 'network-link': {
      if (args.length === 0) {
        io.out(set.list());
        return { status: 0 };
      }
      if (args.length !== 2) throw new Error('usage: xl network-link [BRIDGE ADDR:PORT]');
      const [bridge, where] = args as [string, string];
      if (!ts.nets.bridges.has(bridge)) throw new Error(`no bridge ${bridge}`);
      if (!io.migrationChannel) throw new Error('network-link: this host cannot connect to another (use the Network tab to link tabs)');
      const connect = (w: string): ReturnType<NonNullable<XlIo['migrationChannel']>> => io.migrationChannel!(w);
      return {
        status: 0,
        pending: (async () => {
          const ch = await connect(where);
          const link = linkOverChannel(set, bridge, ch, 'join', `tcp ${where}`);
          // Wait for the peer's HELLO (or its refusal) so that the command says how it went.
          for (let i = 0; i < 100 && link.state === 'connecting'; i++) await new Promise<void>((r) => setTimeout(r, 50));
          if (link.state === 'up') {
            io.out(`${link.name}: ${bridge} linked to ${where}`);
            return 0;
          }
          if (link.state === 'connecting') link.close('no HELLO from the peer within 5 s');
          io.out(`network-link: ${link.reason ?? 'failed'}`);
          return 1;
        })(),
      };
    }
    case 'network-unlink': {
      if (args.length !== 1) throw new Error('usage: xl network-unlink LINK|all');
      const which = args[0] === 'all' ? [...set.links] : [set.find(args[0]!)];
      for (const l of which) l.close('unlinked');
      return { status: 0 };
    }
    default:
      return undefined;
  }
}
