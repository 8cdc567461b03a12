/**
 * One guided lab: context, prediction, run, observation beside the prediction,
 * explanation, and a variation to try next; the lab's instrument and its domains'
 * consoles beside the text. The run is labsStore's (it goes on if the student looks
 * elsewhere); this is the view.
 */
import { useState, useSyncExternalStore, type ReactElement } from 'react';
import type { LabDefinition, ParamSpec } from '../../../labs/types';
import { useLabState } from '../../labContext';
import { labsStore } from '../../labsStore';
import { ConsolePanel } from '../ConsolePanel';
import { LabInstrument } from './LabInstrument';
import { LabPrediction } from './LabPrediction';
import { LabChecks, LabObservations, LabVerdict } from './LabResult';
import { LabText } from './LabText';

function ParamField({ spec, value, onChange, disabled }: { spec: ParamSpec; value: string; onChange: (v: string) => void; disabled: boolean }): ReactElement {
  const id = `lab-param-${spec.id}`;
  return (
    <div className="lab-param">
      <label htmlFor={id}>{spec.label}</label>
      {spec.kind === 'number' ? (
        <span>
          <input
            id={id}
            data-testid={id}
            type="number"
            min={spec.min}
            max={spec.max}
            step={spec.step ?? 'any'}
            value={value}
            disabled={disabled}
            onChange={(e) => onChange(e.target.value)}
          />{' '}
          {spec.unit ?? ''}
        </span>
      ) : (
        <select id={id} data-testid={id} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value)}>
          {spec.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </div>
  );
}

export function LabPage({ lab, number }: { readonly lab: LabDefinition; readonly number: string }): ReactElement {
  const run = useSyncExternalStore(labsStore.subscribe, labsStore.snapshot);
  const progress = useSyncExternalStore(labsStore.subscribe, labsStore.progressSnapshot);
  const hvRunning = useLabState((s) => s.phase.phase === 'running');
  const pcpus = useLabState((s) => s.host?.pcpus ?? null);
  const wrongHost = lab.host !== undefined && pcpus !== null && pcpus !== lab.host.pcpus;
  const mine = run.labId === lab.id;
  const status = mine ? run.status : 'idle';
  const busyElsewhere = run.status === 'running' && !mine;
  const committed = progress[lab.id]?.guess ?? null;
  const [params, setParams] = useState<Record<string, string>>(() => Object.fromEntries(lab.params.map((p) => [p.id, String(p.default)])));
  const running = status === 'running';
  const canRun = hvRunning && !wrongHost && committed !== null && !running && !busyElsewhere && window.hyperlab !== undefined;
  const why = !hvRunning
    ? 'the hypervisor is not running'
    : wrongHost
      ? `this lab needs ${lab.host?.pcpus} pCPU${lab.host?.pcpus === 1 ? '' : 's'}`
      : committed === null
        ? 'commit a prediction first'
        : busyElsewhere
          ? 'another lab is running'
          : running
            ? 'the lab is running'
            : undefined;
  const start = (variation: boolean): void => {
    const api = window.hyperlab;
    if (!canRun || !api) return;
    void labsStore.run(lab, api, committed, variation ? params : undefined);
  };
  const outcome = mine ? run.outcome : null;
  const values = outcome?.observation ?? (mine ? run.live : {});
  const instrument = mine && run.instrument ? run.instrument : { kind: lab.instrument, domid: null };
  const ranOnce = outcome !== null;

  return (
    <div className="lab-page" data-testid="lab-page" data-lab={lab.id} data-status={status}>
      <nav className="lab-breadcrumb">
        <a href="#labs" data-testid="labs-back">
          ← All labs
        </a>
      </nav>
      <header className="lab-header">
        <h2>
          <span className="lab-number">{number}</span> {lab.title}
        </h2>
        <p className="lab-card-facts">
          <span className="lab-topic">{lab.topic}</span> · about {lab.minutes} minutes · {lab.goal}
        </p>
      </header>
      <div className="lab-columns">
        <div className="lab-story">
          <section className="lab-step" aria-labelledby="lab-context">
            <h3 id="lab-context">
              <span className="step-no">1</span> What happens
            </h3>
            <LabText text={lab.context} />
          </section>
          <section className="lab-step" aria-labelledby="lab-predict">
            <h3 id="lab-predict">
              <span className="step-no">2</span> Predict
            </h3>
            <LabPrediction
              prediction={lab.prediction}
              committed={committed}
              locked={running}
              onCommit={(g) => labsStore.predict(lab, lab.prediction.kind === 'number' ? Number(g) : g)}
            />
          </section>
          <section className="lab-step" aria-labelledby="lab-run">
            <h3 id="lab-run">
              <span className="step-no">3</span> Run
            </h3>
            {wrongHost && lab.host ? (
              <p className="notice" data-testid="lab-host-notice">
                This lab needs a host with {lab.host.pcpus} pCPU{lab.host.pcpus === 1 ? '' : 's'}; this one has {pcpus}. The number of pCPUs is set when the
                page loads: <a href={`?boot=&pcpus=${lab.host.pcpus}#lab/${lab.id}`}>reload with {lab.host.pcpus}</a> (the domains running now go).
              </p>
            ) : null}
            <div className="row">
              <button
                type="button"
                className="primary"
                data-testid="lab-run"
                aria-disabled={!canRun}
                disabled={!canRun}
                title={why}
                onClick={() => start(false)}
              >
                {running ? 'Running…' : ranOnce ? 'Run again' : 'Run'}
              </button>
              {why && !running ? <span className="muted">({why})</span> : null}
            </div>
            {mine && run.steps.length > 0 ? (
              <ol className="lab-steps" data-testid="lab-steps">
                {run.steps.map((s, i) => (
                  <li key={i}>{s}</li>
                ))}
              </ol>
            ) : null}
            {mine && run.status === 'failed' ? (
              <p className="error-line" role="alert" data-testid="lab-error">
                {run.error}
              </p>
            ) : null}
          </section>
          <section className="lab-step" aria-labelledby="lab-observe">
            <h3 id="lab-observe">
              <span className="step-no">4</span> Observe
            </h3>
            {outcome && committed !== null ? <LabVerdict lab={lab} guess={mine && run.guess !== null ? run.guess : committed} outcome={outcome} /> : null}
            {mine && (running || ranOnce) ? (
              <LabObservations lab={lab} values={values} />
            ) : (
              <p className="muted">The measurements appear here, live, while the lab runs.</p>
            )}
            {outcome ? <LabChecks outcome={outcome} /> : null}
          </section>
          <section className="lab-step" aria-labelledby="lab-why">
            <h3 id="lab-why">
              <span className="step-no">5</span> Why
            </h3>
            {ranOnce ? <LabText text={lab.explain} className="lab-explain" /> : <p className="muted">The explanation opens once you have run the lab.</p>}
          </section>
          <section className="lab-step" aria-labelledby="lab-next">
            <h3 id="lab-next">
              <span className="step-no">6</span> Try next
            </h3>
            <LabText text={lab.tryNext} />
            <div className="lab-params">
              {lab.params.map((p) => (
                <ParamField key={p.id} spec={p} value={params[p.id] ?? ''} disabled={running} onChange={(v) => setParams({ ...params, [p.id]: v })} />
              ))}
            </div>
            <button
              type="button"
              data-testid="lab-rerun"
              disabled={!canRun || !ranOnce}
              title={ranOnce ? why : 'run the lab once first'}
              onClick={() => start(true)}
            >
              Run with these values
            </button>
          </section>
        </div>
        <aside className="lab-side">
          <LabInstrument kind={instrument.kind} domid={instrument.domid} active={running} />
          {mine ? run.domains.map((d) => <ConsolePanel key={d} domid={d} />) : null}
        </aside>
      </div>
    </div>
  );
}
