/**
 * The hypervisor worker: one Hypervisor with its Toolstack (src/web/worker/hypervisorService.ts)
 * exposed to the page over comlink; vCPUs run in nested workers (src/web/worker/vcpuHostWeb.ts).
 * This is the only file of the pair that knows it runs in a Web Worker.
 */
import * as Comlink from 'comlink';
import type { HostSettings, HvEvent, HvSink, HypervisorFactory, HypervisorInit } from '../src/web/protocol/hvProtocol';
import { HV_PROTOCOL_VERSION } from '../src/web/protocol/version';
import { HypervisorService } from '../src/web/worker/hypervisorService';
import { webVcpuHost } from '../src/web/worker/vcpuHostWeb';
import { opfsDirectory, type FileDirectory } from '../src/web/worker/opfsDir';
import { MIGRATION_BUS, type BusLike } from '../src/web/worker/migrateBroadcast';

class HypervisorWorker extends HypervisorService {
  override attach(init: HypervisorInit, sink: HvSink): ReturnType<HypervisorService['attach']> {
    // Console bytes are transferred, not copied; each batch is one message.
    const send = (events: readonly HvEvent[]): void => {
      const buffers = events.flatMap((e) => (e.type === 'console' ? [e.bytes.buffer as ArrayBuffer] : []));
      void sink(Comlink.transfer(events, buffers));
    };
    return super.attach(init, send);
  }
}

let started = false;
const factory: HypervisorFactory = {
  protocolVersion: HV_PROTOCOL_VERSION,
  start(settings: HostSettings) {
    if (started) throw new Error('this worker runs a hypervisor already');
    if (typeof SharedArrayBuffer !== 'function' || !self.crossOriginIsolated) {
      throw new Error('the hypervisor needs SharedArrayBuffer, which this page does not have (it is not cross-origin isolated)');
    }
    started = true;
    // Disk images live in OPFS disks/; this is a dedicated worker, so their synchronous access handles work here.
    let disks: Promise<FileDirectory> | undefined;
    const diskDirectory = (): Promise<FileDirectory> => (disks ??= opfsDirectory('disks'));
    let snapshots: Promise<FileDirectory> | undefined;
    const snapshotDirectory = (): Promise<FileDirectory> => (snapshots ??= opfsDirectory('snapshots'));
    // Capture files (xl network-capture ... FILE) live in OPFS captures/ (netCaptureFiles.ts opens it once).
    const captureDirectory = (): Promise<FileDirectory> => opfsDirectory('captures');
    return Comlink.proxy(
      new HypervisorWorker({
        host: webVcpuHost(),
        memoryMiB: settings.memoryMiB,
        pcpus: settings.pcpus,
        scheduler: settings.scheduler,
        ...(settings.jit !== undefined ? { jit: settings.jit } : {}),
        diskDirectory,
        captureDirectory,
        snapshotDirectory,
        // Live migration to the other tabs of the origin: their hypervisor workers share this bus.
        // (The DOM types its onmessage with a full MessageEvent; the bus reads only `data`.)
        migrationBus: () => new BroadcastChannel(MIGRATION_BUS) as unknown as BusLike,
      }),
    );
  },
};
Comlink.expose(factory);
