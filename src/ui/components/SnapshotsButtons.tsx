/**
 * A domain's Save and Snapshot buttons (in the domain table): Save downloads the xl save
 * file (`xl save -c`: the bytes `xl save` writes on a Node host; the domain runs on),
 * Snapshot keeps one in OPFS snapshots/ (the Snapshots panel). What they did, or why not,
 * shows in the Snapshots panel's message line.
 */
import type { ReactElement } from 'react';
import { useStore } from 'zustand';
import { useLab } from '../labContext';
import { snapshotStoreOf } from '../snapshotStore';

export function sizeText(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? Math.round(v) : Math.round(v * 10) / 10} ${units[u]}`;
}

/** Hand bytes to the browser as a download named `name`. */
export function downloadBytes(name: string, data: Uint8Array): void {
  const url = URL.createObjectURL(new Blob([data as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function SnapshotsButtons(props: { readonly domid: number; readonly name: string; readonly enabled: boolean }): ReactElement {
  const store = snapshotStoreOf(useLab());
  const busy = useStore(store, (s) => s.busy);
  const actions = store.getState().actions;
  const on = props.enabled && !busy;
  const why = props.enabled ? undefined : 'Only a domain that has not shut down can be saved';
  return (
    <>
      <button
        type="button"
        data-testid={`save-${props.domid}`}
        aria-disabled={!on}
        title={why ?? 'Download its save file (xl save -c: the domain runs on)'}
        onClick={
          on
            ? () =>
                void (async () => {
                  const data = await actions.save(props.domid, true);
                  if (data) downloadBytes(`${props.name}.save`, data);
                })()
            : undefined
        }
      >
        Save
      </button>
      <button
        type="button"
        data-testid={`snapshot-${props.domid}`}
        aria-disabled={!on}
        title={why ?? 'Keep a snapshot in the browser (OPFS snapshots/; xl save -c)'}
        onClick={on ? () => void actions.take(props.domid) : undefined}
      >
        Snapshot
      </button>
    </>
  );
}
