/**
 * The page's entry: make sure of cross-origin isolation, start the Lab, show it, boot
 * the startup machines and publish window.hyperlab.
 *
 * Address parameters (docs/browser.md):
 *   ?boot=a,b   images to boot at load (default: hello and isa-selftest, else cpubench);
 *               ?boot= with nothing boots none
 *   ?coi=off    do not try the isolation service worker
 */
import '@xterm/xterm/css/xterm.css';
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createAutomation } from '../web/automation';
import { fetchGuestCatalog, guestUrl, type GuestEntry } from '../web/guestCatalog';
import { establishIsolation } from '../web/isolation';
import { Lab } from '../web/lab';
import { App } from './components/App';
import { LabContext } from './labContext';
import { createLabStore, type LabStore } from './labStore';

/** The default scenario: a greeting next to a longer self-checking guest. */
function startupImages(params: URLSearchParams, guests: readonly GuestEntry[]): string[] {
  const asked = params.get('boot');
  if (asked !== null) return asked.split(',').map((s) => s.trim()).filter(Boolean);
  const has = (name: string): boolean => guests.some((g) => g.name === name);
  const second = ['isa-selftest', 'cpubench'].find(has);
  return second ? ['hello', second] : ['hello'];
}

async function bootStartupMachines(store: LabStore, params: URLSearchParams): Promise<void> {
  let guests: readonly GuestEntry[] = [];
  try {
    guests = await fetchGuestCatalog();
    store.getState().actions.setCatalog({ status: 'ready', guests });
  } catch (e) {
    store.getState().actions.setCatalog({ status: 'error', error: e instanceof Error ? e.message : String(e) });
  }
  const { actions } = store.getState();
  await Promise.all(startupImages(params, guests).map((name) => actions.bootGuest(name)));
}

async function start(): Promise<void> {
  const root = document.getElementById('root');
  if (!root) throw new Error('index.html has no #root');
  const params = new URLSearchParams(window.location.search);
  const isolation = await establishIsolation({ serviceWorker: params.get('coi') !== 'off' });
  if (isolation === 'reloading') return; // the page comes back isolated

  const lab = new Lab((file) => guestUrl(file));
  const store = createLabStore(lab, isolation);
  createRoot(root).render(
    <StrictMode>
      <LabContext.Provider value={{ lab, store }}>
        <App />
      </LabContext.Provider>
    </StrictMode>,
  );
  const ready = bootStartupMachines(store, params);
  window.hyperlab = createAutomation({
    lab,
    ready,
    isolation: () => isolation,
    catalog: () => {
      const { catalog } = store.getState();
      return catalog.status === 'ready' ? catalog.guests : [];
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
