/**
 * HypervisorApi.net in the worker: one switch over the operations of netTypes.ts, over the
 * network monitor (netMonitor.ts) and the capture files (netCaptureFiles.ts). Errors come
 * back as one line, as every control does.
 */
import type { NetOp, NetReplies, NetRequestOf } from '../protocol/netTypes';
import type { CaptureFiles } from './netCaptureFiles';
import type { NetMonitor } from './netMonitor';

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
    default:
      throw new Error(`no network operation ${JSON.stringify((r as { op?: unknown }).op)}`);
  }
  return out as NetReplies[K];
}
