/**
 * The credit scheduler's knobs per domain (`xl sched-credit`: weight and cap) and the
 * hard affinity of each vCPU (`xl vcpu-pin`: one checkbox per pCPU), with where each vCPU
 * runs now. Edits go to the hypervisor on Apply (weight, cap) or at once (pinning); a
 * refusal is written under the table.
 */
import { useEffect, useState, type ReactElement } from 'react';
import type { DomainView } from '../../../web/page/lab';
import { useLabState } from '../../labContext';
import { domainColour } from './colors';

/** "0,2" from the checked pCPUs; "all" when every one is. */
export function cpusOf(mask: number, pcpus: number): string {
  const list: number[] = [];
  for (let p = 0; p < pcpus; p++) if (mask & (1 << p)) list.push(p);
  return list.length === pcpus ? 'all' : list.join(',');
}

function DomainSched({ d, pcpus, say }: { readonly d: DomainView; readonly pcpus: number; readonly say: (m: string | null) => void }): ReactElement {
  const actions = useLabState((s) => s.actions);
  const [weight, setWeight] = useState(String(d.row.weight));
  const [cap, setCap] = useState(String(d.row.cap));
  // What the hypervisor says wins when it changes (xl sched-credit typed in Domain-0, say).
  useEffect(() => setWeight(String(d.row.weight)), [d.row.weight]);
  useEffect(() => setCap(String(d.row.cap)), [d.row.cap]);
  const dirty = weight !== String(d.row.weight) || cap !== String(d.row.cap);
  const apply = (): void => {
    void actions.setSchedParams(d.domid, { weight: Number(weight), cap: Number(cap) }).then((err) => say(err ? `${d.name}: ${err}` : null));
  };
  const pin = (vcpu: number, mask: number): void => {
    if (mask === 0) {
      say(`${d.name}: vCPU ${vcpu} needs at least one pCPU`);
      return;
    }
    void actions.pinVcpu(d.domid, vcpu, cpusOf(mask, pcpus)).then((err) => say(err ? `${d.name}: ${err}` : null));
  };
  return (
    <tr data-testid={`sched-row-${d.domid}`}>
      <th scope="row">
        <span className="swatch" style={{ borderColor: domainColour(d.domid) }} aria-hidden="true" /> {d.name} <span className="domid">{d.domid}</span>
      </th>
      <td>
        <input
          type="number"
          min={1}
          max={65535}
          value={weight}
          aria-label={`Weight of ${d.name}`}
          data-testid={`weight-${d.domid}`}
          onChange={(e) => setWeight(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && apply()}
        />
      </td>
      <td>
        <input
          type="number"
          min={0}
          max={100 * pcpus}
          value={cap}
          aria-label={`Cap of ${d.name} (% of one pCPU, 0 = none)`}
          data-testid={`cap-${d.domid}`}
          onChange={(e) => setCap(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && apply()}
        />
      </td>
      <td>
        <button
          type="button"
          data-testid={`sched-apply-${d.domid}`}
          aria-disabled={!dirty}
          onClick={dirty ? apply : undefined}
          title="xl sched-credit -d DOM -w WEIGHT -c CAP"
        >
          Apply
        </button>
      </td>
      <td>
        {d.row.vcpus.map((v) => (
          <fieldset key={v.vcpuId} className="pins" data-testid={`pins-${d.domid}-${v.vcpuId}`}>
            <legend>
              vCPU {v.vcpuId} <span className="muted">{v.pcpu >= 0 ? `on pCPU ${v.pcpu}` : v.runstate}</span>
            </legend>
            {Array.from({ length: pcpus }, (_, p) => (
              <label key={p} title={`May vCPU ${v.vcpuId} of ${d.name} run on pCPU ${p}?`}>
                <input
                  type="checkbox"
                  data-testid={`pin-${d.domid}-${v.vcpuId}-${p}`}
                  checked={(v.affinity & (1 << p)) !== 0}
                  onChange={(e) => pin(v.vcpuId, e.target.checked ? v.affinity | (1 << p) : v.affinity & ~(1 << p))}
                />
                {p}
              </label>
            ))}
          </fieldset>
        ))}
      </td>
    </tr>
  );
}

export function SchedControls(): ReactElement {
  const domains = useLabState((s) => s.domains);
  const pcpus = useLabState((s) => s.host?.pcpus ?? 0);
  const [message, setMessage] = useState<string | null>(null);
  const live = domains.filter((d) => d.row.state !== 'shutdown' && d.row.state !== 'crashed' && d.row.state !== 'dying');
  return (
    <div className="sched-controls" data-testid="sched-controls">
      <table>
        <thead>
          <tr>
            <th scope="col">Domain</th>
            <th scope="col" title="Share of CPU against other domains (credit scheduler, default 256)">
              Weight
            </th>
            <th scope="col" title="At most this % of one pCPU; 0 means no cap">
              Cap %
            </th>
            <th scope="col">
              <span className="visually-hidden">Apply</span>
            </th>
            <th scope="col" title="The pCPUs each vCPU may run on (xl vcpu-pin)">
              Pinning (pCPUs)
            </th>
          </tr>
        </thead>
        <tbody>
          {live.map((d) => (
            <DomainSched key={d.domid} d={d} pcpus={pcpus} say={setMessage} />
          ))}
        </tbody>
      </table>
      {live.length === 0 ? <p className="muted">No running domains.</p> : null}
      {message ? (
        <p className="error-line" role="alert" data-testid="sched-message">
          {message}
        </p>
      ) : null}
    </div>
  );
}
