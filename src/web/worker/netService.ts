/**
 * HypervisorApi.net in the worker: one switch over the operations of netTypes.ts, over the
 * network monitor (netMonitor.ts) and the capture files (netCaptureFiles.ts). Errors come
 * back as one line, as every control does.
 */
import type { NetOp, NetReplies, NetRequestOf } from '../protocol/netTypes';
import type { CaptureFiles } from './netCaptureFiles';
import type { NetMonitor } from './netMonitor';
import { linksOfNets } from '../../core/tools/netLinks';
import { linkRow, linksView, linkTabs, linkWebSocket, type LinkBus } from './netLink';
import type { WebSocketLike } from './migrateWebSocket';

/** The worker's BroadcastChannel and WebSocket (absent in a test's Node: the operation says so). */
const openBus = (name: string): LinkBus => {
  const B = (globalThis as { BroadcastChannel?: new (name: string) => LinkBus }).BroadcastChannel;
  if (!B) throw new Error('this host has no BroadcastChannel');
  return new B(name);
};
const openWs = (url: string): WebSocketLike => {
  const W = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (!W) throw new Error('this host has no WebSocket');
  return new W(url);
};

export async function serveNet<K extends NetOp>(monitor: NetMonitor, files: CaptureFiles | undefined, req: NetRequestOf<K>): Promise<NetReplies[K]> {
  const r = req as NetRequestOf<NetOp>;
  const keep = (): CaptureFiles => {
    if (!files) throw new Error('this host keeps no capture files');
    return files;
  };
  let out: NetReplies[NetOp];
  switch (r.op) {
    case 'view':
      out = monitor.view();
      break;
    case 'interfaces':
      out = monitor.interfaces();
      break;
    case 'packets':
      if (typeof r.iface !== 'string' || !Number.isInteger(r.after)) throw new Error('packets needs an interface name and a whole number after');
      out = monitor.packets(r.iface, r.after);
      break;
    case 'unwatch':
      monitor.unwatch(r.iface);
      out = null;
      break;
    case 'captureStart':
      if (typeof r.iface !== 'string') throw new Error('captureStart needs an interface name');
      out = monitor.captureStart(r.iface);
      break;
    case 'captureStop':
      out = monitor.captureStop(r.id);
      break;
    case 'files':
      out = await keep().list();
      break;
    case 'file':
      out = await keep().read(r.name);
      break;
    case 'deleteFile':
      await keep().remove(r.name);
      out = null;
      break;
    case 'links':
      out = linksView(linksOfNets(monitor.nets));
      break;
    case 'link': {
      if (typeof r.bridge !== 'string' || typeof r.to !== 'string') throw new Error('link needs a bridge and where to (tabs, or a ws:// URL)');
      if (!monitor.nets.bridges.has(r.bridge)) throw new Error(`no bridge ${JSON.stringify(r.bridge.slice(0, 20))}`);
      const set = linksOfNets(monitor.nets);
      out = linkRow(r.to === 'tabs' ? linkTabs(set, r.bridge, openBus) : await linkWebSocket(set, r.bridge, r.to, openWs));
      break;
    }
    case 'unlink': {
      const set = linksOfNets(monitor.nets);
      for (const l of r.name === 'all' ? [...set.links] : [set.find(String(r.name))]) l.close('unlinked');
      out = null;
      break;
    }
    default:
      throw new Error(`no network operation ${JSON.stringify((r as { op?: unknown }).op)}`);
  }
  return out as NetReplies[K];
}
