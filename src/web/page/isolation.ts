/**
 * Cross-origin isolation, which browsers require before they hand out SharedArrayBuffer
 * (guest RAM shared between workers and the page).
 *
 * The server should send COOP: same-origin and COEP: require-corp (Vite does, in dev and
 * preview). A static host that cannot set headers gets them from public/coi-serviceworker.js:
 * the page registers it, reloads once so that the worker controls it, and from then on
 * every response carries the headers. When neither works the page says why and runs the
 * machines on private memory instead of failing.
 */
import type { IsolationStatus, IsolationVia } from '../protocol/automationTypes';

export type { IsolationStatus, IsolationVia } from '../protocol/automationTypes';

const SERVICE_WORKER_URL = 'coi-serviceworker.js';
/** Set before the one reload that lets the service worker take control; guards against loops. */
const RELOAD_FLAG = 'hyperlab:coi-reload';
const READY_TIMEOUT_MS = 5000;

const NO_HEADERS = 'The server does not send the Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers';

function readFlag(): boolean {
  try {
    return sessionStorage.getItem(RELOAD_FLAG) !== null;
  } catch {
    return false;
  }
}

function writeFlag(on: boolean): boolean {
  try {
    if (on) sessionStorage.setItem(RELOAD_FLAG, String(Date.now()));
    else sessionStorage.removeItem(RELOAD_FLAG);
    return true;
  } catch {
    return false;
  }
}

function notIsolated(reason: string): IsolationStatus {
  return { isolated: false, via: 'none', reason };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);
}

/**
 * Find out whether the page is isolated and, if it is not, try the service worker.
 * Returns 'reloading' when the page is about to reload to get isolated.
 */
export async function establishIsolation(options: { serviceWorker: boolean }): Promise<IsolationStatus | 'reloading'> {
  if (window.crossOriginIsolated) {
    writeFlag(false);
    const via: IsolationVia = navigator.serviceWorker?.controller ? 'service-worker' : 'headers';
    return { isolated: true, via, reason: null };
  }
  if (!options.serviceWorker) {
    return notIsolated(`${NO_HEADERS}, and the service-worker fallback is turned off (coi=off in the address).`);
  }
  if (!window.isSecureContext) {
    return notIsolated(
      `${NO_HEADERS}, and this page is not a secure context (plain http from a host other than localhost), ` +
        'where browsers offer neither isolation nor service workers. Serve it over https.',
    );
  }
  if (!('serviceWorker' in navigator)) {
    return notIsolated(`${NO_HEADERS}, and this browser offers no service workers here (a private window?) to add them.`);
  }
  try {
    await navigator.serviceWorker.register(SERVICE_WORKER_URL);
    const ready = await withTimeout(navigator.serviceWorker.ready, READY_TIMEOUT_MS);
    if (ready === 'timeout') return notIsolated(`${NO_HEADERS}, and the isolation service worker did not start in time.`);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return notIsolated(`${NO_HEADERS}, and the isolation service worker could not be installed: ${why}`);
  }
  if (readFlag()) {
    writeFlag(false);
    return notIsolated(
      `${NO_HEADERS}. The isolation service worker is installed, but the browser still does not isolate the page ` +
        '(embedded in a frame from another site, or a hard reload that bypassed the worker?).',
    );
  }
  if (!writeFlag(true)) return notIsolated(`${NO_HEADERS}, and this page cannot keep session storage to reload safely.`);
  window.location.reload();
  return 'reloading';
}
