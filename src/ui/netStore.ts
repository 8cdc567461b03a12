/**
 * The Lab's network history (src/web/page/netHistory.ts) for the graphs and the Network
 * tab: one per Lab, fed by every statistics report from its first use on (main.tsx makes
 * it at startup, so the graphs have the minute before they are first shown).
 */
import type { Lab } from '../web/page/lab';
import { NetHistory } from '../web/page/netHistory';

export { NET_HISTORY_MS, NetHistory, type NetInterfaceHistory, type NetRatePoint } from '../web/page/netHistory';

const histories = new WeakMap<Lab, NetHistory>();

/** The lab's network history, made (and fed by every report from then on) on first use. */
export function netHistoryOf(lab: Lab): NetHistory {
  let h = histories.get(lab);
  if (!h) {
    const made = new NetHistory();
    lab.on('report', ({ report }) => made.add(report));
    histories.set(lab, made);
    h = made;
  }
  return h;
}
