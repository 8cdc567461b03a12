/**
 * A domain's "Save ▾" menu in the domain table: Save (download the xl save file), Snapshot
 * (OPFS snapshots/) and Migrate (the Migration panel). One button in the row keeps the
 * controls on one line at 1440 px, as xl's own verbs fit one screen; the menu closes on a
 * choice, on Escape and on a click elsewhere.
 */
import { useEffect, useRef, useState, type ReactElement } from 'react';
import { SnapshotsButtons } from './SnapshotsButtons';
import { MigrateButton } from './MigrateButton';

export function LifecycleMenu(props: { readonly domid: number; readonly name: string; readonly enabled: boolean; readonly migratable: boolean }): ReactElement {
  // Where the menu goes: fixed to the viewport under the button, since the table scrolls
  // sideways in its box and would clip (or scroll to) anything that sticks out of it.
  const [open, setOpen] = useState<{ top: number; right: number } | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const isOpen = open !== null;
  useEffect(() => {
    if (!isOpen) return;
    const away = (e: MouseEvent): void => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(null);
    };
    const escape = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') setOpen(null);
    };
    // The page scrolls (Playwright scrolls a button into view before clicking it): the menu follows its button.
    const follow = (): void => {
      const r = box.current?.firstElementChild?.getBoundingClientRect();
      if (r) setOpen({ top: r.bottom + 3, right: window.innerWidth - r.right });
    };
    document.addEventListener('mousedown', away);
    document.addEventListener('keydown', escape);
    window.addEventListener('scroll', follow, true);
    window.addEventListener('resize', follow);
    return () => {
      document.removeEventListener('mousedown', away);
      document.removeEventListener('keydown', escape);
      window.removeEventListener('scroll', follow, true);
      window.removeEventListener('resize', follow);
    };
  }, [isOpen]);
  return (
    <div className="lifecycle" ref={box}>
      <button
        type="button"
        data-testid={`lifecycle-${props.domid}`}
        aria-haspopup="menu"
        aria-expanded={isOpen}
        title="Save it to a file, keep a snapshot, or migrate it (xl save, xl migrate)"
        onClick={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          setOpen((o) => (o ? null : { top: r.bottom + 3, right: window.innerWidth - r.right }));
        }}
      >
        Save ▾
      </button>
      {open ? (
        // A click on any item closes the menu after the item has acted.
        <div className="lifecycle-menu" role="menu" style={open} data-testid={`lifecycle-menu-${props.domid}`} onClick={() => setOpen(null)}>
          <SnapshotsButtons domid={props.domid} name={props.name} enabled={props.enabled} />
          <MigrateButton domid={props.domid} enabled={props.migratable} />
        </div>
      ) : null}
    </div>
  );
}
