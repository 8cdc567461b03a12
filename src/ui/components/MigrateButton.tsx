/**
 * A domain's Migrate button (in the domain table): it chooses the domain in the Migration
 * panel, opens the panel and brings it into view, where the user picks the other tab.
 */
import type { ReactElement } from 'react';
import { createStore } from 'zustand/vanilla';

/** The panel's choice of domain and whether it is open: one per page, shared with the button. */
export const migrateChoice = createStore<{ domid: number | null; open: boolean; nonce: number }>()(() => ({ domid: null, open: false, nonce: 0 }));

export function MigrateButton(props: { readonly domid: number; readonly enabled: boolean }): ReactElement {
  return (
    <button
      type="button"
      data-testid={`migrate-${props.domid}`}
      aria-disabled={!props.enabled}
      title={props.enabled ? 'Live-migrate it to another tab of this site (xl migrate)' : 'Only a domain that has not shut down can be migrated'}
      onClick={
        props.enabled
          ? () => {
              migrateChoice.setState((s) => ({ domid: props.domid, open: true, nonce: s.nonce + 1 }));
              document.getElementById('migration-title')?.scrollIntoView({ block: 'center' });
            }
          : undefined
      }
    >
      Migrate
    </button>
  );
}
