/**
 * The page's entry: make sure of cross-origin isolation, show the lab, start the
 * hypervisor worker, create the startup domains and publish window.hyperlab.
 *
 * Address parameters (docs/browser.md):
 *   ?boot=a,b   presets to create at load (default: the teaching OS as pv and hvm, or
 *               hello and isa-selftest); ?boot= with nothing creates none
 *   ?pcpus=N    physical CPUs of the host (default: the browser's cores, at most 4)
 *   ?mem=MiB    machine memory (default 256)
 *   ?jit=MODE   the translation tier for every vCPU: off, on (default) or always (docs/jit.md)
 *   ?coi=off    do not try the isolation service worker
 */
import '@xterm/xterm/css/xterm.css';
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createAutomation } from '../web/page/automation';
import { Dom0Shell } from '../web/page/dom0Shell';
import { fetchGuestCatalog, guestUrl } from '../web/page/guestCatalog';
import type { GuestFile, HostSettings } from '../web/protocol/hvProtocol';
import { startHypervisorWorker } from '../web/page/hypervisorClient';
import { establishIsolation, type IsolationStatus } from '../web/page/isolation';
import { Lab } from '../web/page/lab';
import { defaultScenario } from '../web/protocol/presets';
import { App } from './components/App';
import { LabContext } from './labContext';
import { createLabStore, type LabStore } from './labStore';
import { netHistoryOf } from './netStore';

function hostSettings(params: URLSearchParams): HostSettings {
  const int = (key: string, min: number, max: number, fallback: number): number => {
    const v = Number(params.get(key));
    return params.has(key) && Number.isInteger(v) && v >= min && v <= max ? v : fallback;
  };
  const cores = Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 4));
  const jit = params.get('jit');
  return {
    pcpus: int('pcpus', 1, 16, cores),
    memoryMiB: int('mem', 64, 1024, 256),
    scheduler: 'credit',
    ...(jit === 'off' || jit === 'on' || jit === 'always' ? { jit } : {}),
  };
}

/**
 * Start the hypervisor (its worker loads while the guest list is fetched) and create the
 * startup domains: their images load side by side, their domids follow the list's order.
 */
async function boot(
  lab: Lab,
  store: LabStore,
  shell: Dom0Shell,
  params: URLSearchParams,
  isolation: IsolationStatus,
  catalog: Promise<GuestFile[]>,
): Promise<void> {
  if (!isolation.isolated) {
    await catalog;
    lab.fail('the page is not cross-origin isolated, so it has no SharedArrayBuffer for machine memory (see the notice above)');
    return;
  }
  let guests: GuestFile[];
  try {
    const [worker, list] = await Promise.all([startHypervisorWorker(hostSettings(params)), catalog]);
    guests = list;
    await lab.connect(worker.port, { guestBaseUrl: guestUrl(''), catalog: guests });
  } catch (e) {
    lab.fail(e instanceof Error ? e.message : String(e));
    return;
  }
  const asked = params.get('boot');
  const names =
    asked !== null
      ? asked
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : defaultScenario(guests);
  await Promise.all(names.map((name) => store.getState().actions.createPreset(name)));
  // The default scenario shows a newcomer what Domain-0 is for.
  if (asked === null && names.length > 0) shell.input('xl list\r');
}

async function start(): Promise<void> {
  const root = document.getElementById('root');
  if (!root) throw new Error('index.html has no #root');
  const params = new URLSearchParams(window.location.search);
  const isolation = await establishIsolation({ serviceWorker: params.get('coi') !== 'off' });
  if (isolation === 'reloading') return; // the page comes back isolated

  const lab = new Lab();
  const store = createLabStore(lab, isolation);
  netHistoryOf(lab); // the network graphs' history starts with the first report, not when the graphs are first shown
  const shell = new Dom0Shell(
    { run: (line, onLines) => lab.xl(line, onLines), attach: (domid) => store.getState().actions.focusConsole(domid) },
    'hyperlab Domain-0. Type xl commands (xl list, xl help) or help.',
  );
  createRoot(root).render(
    <StrictMode>
      <LabContext.Provider value={{ lab, shell, store }}>
        <App />
      </LabContext.Provider>
    </StrictMode>,
  );
  const catalog = fetchGuestCatalog().then(
    (guests) => {
      store.getState().actions.setCatalog({ status: 'ready', guests });
      return guests;
    },
    (e: unknown) => {
      store.getState().actions.setCatalog({ status: 'error', error: e instanceof Error ? e.message : String(e) });
      return [];
    },
  );
  const ready = boot(lab, store, shell, params, isolation, catalog);
  window.hyperlab = createAutomation({
    lab,
    shell,
    ready,
    isolation: () => isolation,
    catalog: () => {
      const c = store.getState().catalog;
      return c.status === 'ready' ? c.guests : [];
    },
  });
}

start().catch((e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  const root = document.getElementById('root');
  if (root) root.innerHTML = '';
  const p = document.createElement('p');
  p.className = 'notice fail';
  p.setAttribute('role', 'alert');
  p.dataset['testid'] = 'startup-error';
  p.textContent = `hyperlab could not start: ${message}`;
  (root ?? document.body).append(p);
});
