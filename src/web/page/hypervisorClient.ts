/**
 * The page's end of the hypervisor worker: starts workers/hypervisor.worker.ts, starts a
 * hypervisor in it and hands back its control plane as an `HvPort` (every call a
 * promise). The Lab talks to an HvPort only, so tests can give it the service itself.
 */
import * as Comlink from 'comlink';
import type { HostSettings, HvSink, HypervisorApi, HypervisorFactory, HypervisorInit } from '../protocol/hvProtocol';

type Call<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

/** HypervisorApi with every method asynchronous (what a comlink Remote offers). */
export type HvPort = { readonly [K in Exclude<keyof HypervisorApi, 'protocolVersion'>]: Call<HypervisorApi[K]> };

/** Wrap an in-thread service as a port (tests, and a page without workers one day). */
export function localPort(api: HypervisorApi): HvPort {
  const port: Record<string, unknown> = {};
  for (const key of ['attach', 'createDomain', 'destroy', 'pause', 'unpause', 'shutdown', 'reboot', 'consoleInput', 'consoleHistory', 'xl', 'list', 'setSchedParams', 'pinVcpu', 'stats', 'inspect', 'memoryMap'] as const) {
    port[key] = (...args: unknown[]) => Promise.resolve((api[key] as (...a: unknown[]) => unknown).apply(api, args));
  }
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
    const factory = Comlink.wrap<HypervisorFactory>(worker);
    const remote = (await Promise.race([factory.start(settings), failed])) as unknown as Comlink.Remote<HypervisorApi>;
    const calls = remote as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const port: Record<string, unknown> = {};
    for (const key of ['createDomain', 'destroy', 'pause', 'unpause', 'shutdown', 'reboot', 'consoleInput', 'consoleHistory', 'xl', 'list', 'setSchedParams', 'pinVcpu', 'stats', 'inspect', 'memoryMap']) {
      port[key] = (...args: unknown[]) => calls[key]!(...args);
    }
    // A function crosses to the worker as a proxy: each batch is one message back.
    port['attach'] = (init: HypervisorInit, sink: HvSink) => remote.attach(init, Comlink.proxy(sink));
    return { port: port as HvPort, terminate: () => worker.terminate() };
  } catch (e) {
    worker.terminate();
    throw e instanceof Error ? e : new Error(String(e));
  }
}
