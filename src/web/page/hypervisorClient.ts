/**
 * The page's end of the hypervisor worker: starts workers/hypervisor.worker.ts, checks
 * that it speaks this page's protocol version, starts a hypervisor in it and hands back
 * its control plane as an `HvPort` (every call a promise). The Lab talks to an HvPort
 * only, so tests can give it the service itself.
 */
import * as Comlink from 'comlink';
import { HV_API_METHOD_NAMES, type HostSettings, type HvSink, type HypervisorApi, type HypervisorFactory, type HypervisorInit } from '../protocol/hvProtocol';
import { HV_PROTOCOL_VERSION } from '../protocol/version';

type Call<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

/** HypervisorApi with every method asynchronous (what a comlink Remote offers). */
export type HvPort = { readonly [K in keyof HypervisorApi]: Call<HypervisorApi[K]> };

/** Wrap an in-thread service as a port (tests, and a page without workers one day). */
export function localPort(api: HypervisorApi): HvPort {
  const port: Record<string, unknown> = {};
  for (const key of HV_API_METHOD_NAMES) {
    port[key] = (...args: unknown[]) => Promise.resolve((api[key] as (...a: unknown[]) => unknown).apply(api, args));
  }
  return port as HvPort;
}

/**
 * Refuse a worker of another protocol version, in one line. A worker from before
 * versions were reported has no `protocolVersion` (undefined).
 */
export function checkProtocolVersion(reported: unknown): void {
  if (reported === HV_PROTOCOL_VERSION) return;
  const theirs = typeof reported === 'number' ? `protocol version ${reported}` : 'no protocol version (an older build)';
  throw new Error(
    `the hypervisor worker speaks ${theirs} but this page speaks version ${HV_PROTOCOL_VERSION}: ` +
      'the browser ran a worker script from another build (a stale cache?); reload the page',
  );
}

/**
 * Connect to a hypervisor factory exposed with comlink on `endpoint`: check its protocol
 * version, start it, and wrap its control plane as a port.
 */
export async function connectHypervisor(endpoint: Comlink.Endpoint, settings: HostSettings): Promise<HvPort> {
  const factory = Comlink.wrap<HypervisorFactory>(endpoint);
  checkProtocolVersion(await factory.protocolVersion);
  const remote = (await factory.start(settings)) as unknown as Comlink.Remote<HypervisorApi>;
  const calls = remote as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const port: Record<string, unknown> = {};
  for (const key of HV_API_METHOD_NAMES) port[key] = (...args: unknown[]) => calls[key]!(...args);
  // A function crosses to the worker as a proxy: each batch is one message back.
  port['attach'] = (init: HypervisorInit, sink: HvSink) => remote.attach(init, Comlink.proxy(sink));
  return port as HvPort;
}

export interface WorkerPort {
  readonly port: HvPort;
  terminate(): void;
}

/** Start the hypervisor worker; rejects with the reason it could not start. */
export async function startHypervisorWorker(settings: HostSettings): Promise<WorkerPort> {
  const worker = new Worker(new URL('../../../workers/hypervisor.worker.ts', import.meta.url), { type: 'module', name: 'hypervisor' });
  const failed = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (e) => reject(new Error(`the hypervisor worker failed to start: ${e.message || 'script error'}`)));
  });
  try {
    const port = await Promise.race([connectHypervisor(worker, settings), failed]);
    return { port, terminate: () => worker.terminate() };
  } catch (e) {
    worker.terminate();
    throw e instanceof Error ? e : new Error(String(e));
  }
}
