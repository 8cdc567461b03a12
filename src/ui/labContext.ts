/** How React views reach the Lab, Domain-0's shell and the store: one context, small hooks. */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { Dom0Shell } from '../web/page/dom0Shell';
import type { Lab } from '../web/page/lab';
import type { LabState, LabStore } from './labStore';

export interface LabContextValue {
  readonly lab: Lab;
  readonly shell: Dom0Shell;
  readonly store: LabStore;
}

export const LabContext = createContext<LabContextValue | null>(null);

function useLabContext(): LabContextValue {
  const value = useContext(LabContext);
  if (!value) throw new Error('hyperlab views must be rendered inside <LabContext.Provider>');
  return value;
}

export function useLab(): Lab {
  return useLabContext().lab;
}

export function useDom0Shell(): Dom0Shell {
  return useLabContext().shell;
}

/** The store itself, for views that subscribe on their own terms (useHistoryTick). */
export function useLabStore(): LabStore {
  return useLabContext().store;
}

/** Select a slice of the lab's state; the view re-renders when that slice changes. */
export function useLabState<T>(selector: (state: LabState) => T): T {
  return useStore(useLabContext().store, selector);
}
