/**
 * The page's views: the lab (domain list, consoles) and the pv-vs-hvm comparison. The
 * view is the address's hash (#compare), so a link, a bookmark or a script can open it
 * and Back returns; switching never reloads, so the hypervisor and its domains stay.
 */
import { useSyncExternalStore, type ReactElement } from 'react';

export type View = 'lab' | 'compare' | 'labs';

const VIEWS: readonly { readonly view: View; readonly label: string; readonly title: string }[] = [
  { view: 'lab', label: 'Lab', title: 'Domains, Domain-0 and the consoles' },
  { view: 'compare', label: 'pv vs hvm', title: 'The same workload in a pv and an hvm domain, measured side by side' },
  { view: 'labs', label: 'Guided labs', title: 'Short experiments: predict, run, observe, and why (#labs, #lab/ID)' },
];

function currentView(): View {
  const hash = window.location.hash;
  if (hash === '#compare') return 'compare';
  // The guided labs: their list (#labs) and one lab each (#lab/credit-cap; src/ui/components/labs/).
  return hash === '#labs' || hash.startsWith('#lab/') ? 'labs' : 'lab';
}

function subscribe(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

export function useView(): View {
  return useSyncExternalStore(subscribe, currentView);
}

/** Links to the views (plain links: Tab reaches them, Enter follows them). */
export function ViewTabs({ view }: { readonly view: View }): ReactElement {
  return (
    <nav className="view-tabs" aria-label="Views">
      {VIEWS.map((v) => (
        <a key={v.view} href={`#${v.view}`} data-testid={`view-${v.view}`} title={v.title} aria-current={v.view === view ? 'page' : undefined}>
          {v.label}
        </a>
      ))}
    </nav>
  );
}
