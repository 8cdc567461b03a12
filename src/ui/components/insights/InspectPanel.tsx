/**
 * The inspectors: for the chosen domain, its event channels, grant table and mappings,
 * its xenstore subtree and its virtual disks (VbdInspector.tsx); for the host, the machine memory map. The data comes from
 * the hypervisor worker on demand (inspect.ts there), every second while "follow" is on,
 * or on Refresh.
 */
import { useCallback, useEffect, useState, type ReactElement } from 'react';
import type { DomainInspection, MemoryMapView } from '../../../core/tools/inspect';
import type { VbdInspection, VirtioInspection } from '../../../web/protocol/hvProtocol';
import { useLab, useLabState } from '../../labContext';
import { EvtchnTable, GrantTables } from './InspectTables';
import { MemoryMap } from './MemoryMap';
import { XenstoreTree } from './XenstoreTree';
import { VbdInspector } from './VbdInspector';
import { VirtioDiskInspector } from './VirtioDiskInspector';

const FOLLOW_MS = 1000;

export function InspectPanel(): ReactElement {
  const lab = useLab();
  const ids = useLabState((s) => s.domains.map((d) => `${d.domid}:${d.name}`).join('\n'));
  const domains = ids === '' ? [] : ids.split('\n').map((x) => ({ domid: Number(x.split(':')[0]), name: x.slice(x.indexOf(':') + 1) }));
  const [chosen, setChosen] = useState<number | null>(null);
  // The first guest by default; Domain-0 when there is none, or when the chosen one is gone.
  const domid = chosen !== null && (chosen === 0 || domains.some((d) => d.domid === chosen)) ? chosen : (domains[0]?.domid ?? 0);
  const [follow, setFollow] = useState(true);
  const [info, setInfo] = useState<DomainInspection | null>(null);
  const [map, setMap] = useState<MemoryMapView | null>(null);
  const [vbds, setVbds] = useState<{ domid: number; list: VbdInspection[] } | null>(null);
  const [virtio, setVirtio] = useState<{ domid: number; list: VirtioInspection[] } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(async (): Promise<void> => {
    try {
      const [r, m, v, vio] = await Promise.all([
        lab.inspect(domid),
        lab.memoryMap(),
        domid === 0 ? null : lab.vbds(domid),
        domid === 0 ? null : lab.virtioDisks(domid),
      ]);
      setMap(m);
      setVbds(v?.ok ? { domid, list: v.value } : null);
      setVirtio(vio?.ok ? { domid, list: vio.value } : null);
      if (r.ok) {
        setInfo(r.value);
        setError(null);
      } else {
        setError(r.error);
      }
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, [lab, domid]);

  useEffect(() => {
    void refresh();
    if (!follow) return;
    const t = setInterval(() => void refresh(), FOLLOW_MS);
    return () => clearInterval(t);
  }, [refresh, follow]);

  const shown = info && info.domid === domid ? info : null;
  return (
    <div className="inspect" data-testid="inspect-panel" data-domid={shown?.domid ?? ''}>
      <div className="row">
        <label htmlFor="inspect-domain">Domain</label>
        <select id="inspect-domain" data-testid="inspect-domain" value={domid} onChange={(e) => setChosen(Number(e.target.value))}>
          <option value={0}>Domain-0 (0)</option>
          {domains.map((d) => (
            <option key={d.domid} value={d.domid}>
              {d.name} ({d.domid})
            </option>
          ))}
        </select>
        <button type="button" data-testid="inspect-refresh" onClick={() => void refresh()}>
          Refresh
        </button>
        <label className="check">
          <input type="checkbox" data-testid="inspect-follow" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> follow (every second)
        </label>
        {shown?.p2m ? (
          <span className="muted" data-testid="inspect-p2m">
            P2M: {shown.p2m.populated} of {shown.p2m.maxFrames} guest frames populated
          </span>
        ) : null}
      </div>
      {error ? (
        <p className="error-line" role="alert" data-testid="inspect-error">
          {error}
        </p>
      ) : null}
      {shown ? (
        <div className="inspect-grid">
          <div>
            <EvtchnTable info={shown} />
            <GrantTables info={shown} />
          </div>
          <XenstoreTree key={shown.domid} tree={shown.xenstore} />
        </div>
      ) : null}
      {shown && shown.type === 'pv' && vbds?.domid === domid ? <VbdInspector domid={domid} vbds={vbds.list} /> : null}
      {shown && shown.type === 'hvm' && virtio?.domid === domid ? <VirtioDiskInspector disks={virtio.list} /> : null}
      {map ? <MemoryMap map={map} /> : null}
    </div>
  );
}
