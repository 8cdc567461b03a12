/**
 * Re-render with the statistics history at most every `minMs`. Reports arrive about 10
 * times a second; a minute-long graph gains nothing from being redrawn that often, and
 * eight SVG charts redrawn at 10 Hz took a third of the main thread in headless Chromium
 * (docs/browser.md, "Measured"). The last report always gets drawn: a trailing timer
 * catches the one that arrived too soon.
 */
import { useEffect, useState } from 'react';
import type { StatsHistory } from '../../../web/page/statsHistory';
import { useLabStore } from '../../labContext';

export function useHistoryTick(minMs: number): StatsHistory {
  const store = useLabStore();
  const [, setVersion] = useState(0);
  useEffect(() => {
    let last = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const draw = (): void => {
      timer = undefined;
      last = performance.now();
      setVersion(store.getState().historyVersion);
    };
    const unsubscribe = store.subscribe((s, prev) => {
      if (s.historyVersion === prev.historyVersion || timer !== undefined) return;
      const wait = last + minMs - performance.now();
      if (wait <= 0) draw();
      else timer = setTimeout(draw, wait);
    });
    return () => {
      unsubscribe();
      clearTimeout(timer);
    };
  }, [store, minMs]);
  return store.getState().history;
}
