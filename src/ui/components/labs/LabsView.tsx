/**
 * The guided labs' view: the list (#labs) or one lab (#lab/ID). The labs themselves are
 * src/labs/*.ts; nothing here knows any one of them.
 */
import { useSyncExternalStore, type ReactElement } from 'react';
import { LABS, labById } from '../../../labs';
import { labsStore } from '../../labsStore';
import { LabPage } from './LabPage';
import './labs.css';

function labIdFromHash(): string | null {
  const m = /^#lab\/([^/?#]+)$/.exec(window.location.hash);
  return m ? decodeURIComponent(m[1]!) : null;
}

function subscribe(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

function LabList(): ReactElement {
  const progress = useSyncExternalStore(labsStore.subscribe, labsStore.progressSnapshot);
  const done = LABS.filter((l) => progress[l.id]?.done).length;
  return (
    <div className="labs-list" data-testid="labs-list">
      <header className="labs-intro">
        <h2>Guided labs</h2>
        <p>
          Each lab asks one question about a mechanism of the hypervisor. You <strong>predict</strong> the answer, <strong>run</strong> the experiment on the
          live hypervisor, compare what you <strong>observe</strong> with your prediction, and read <strong>why</strong>. Then change a parameter and run it
          again.
        </p>
        <p className="muted" data-testid="labs-progress">
          {done} of {LABS.length} done · your progress stays in this browser
        </p>
      </header>
      <ol className="lab-cards">
        {LABS.map((lab, i) => {
          const p = progress[lab.id];
          const status = p?.done ? 'done' : p?.guess !== undefined ? 'started' : 'new';
          return (
            <li key={lab.id} className={`lab-card status-${status}`} data-testid={`lab-card-${lab.id}`} data-status={status}>
              <a href={`#lab/${lab.id}`} className="lab-card-link">
                <span className="lab-number">{lab.number ?? i + 1}</span>
                <span className="lab-card-title">{lab.title}</span>
              </a>
              <p className="lab-card-facts">
                <span className="lab-topic">{lab.topic}</span> · {lab.minutes} min ·{' '}
                <span className={`lab-status status-${status}`}>
                  {status === 'done' ? (p?.correct ? 'done · predicted right' : 'done') : status === 'started' ? 'predicted, not run' : 'not started'}
                </span>
              </p>
              <p className="lab-card-goal">{lab.goal}</p>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

export function LabsView(): ReactElement {
  const id = useSyncExternalStore(subscribe, labIdFromHash);
  if (id === null) return <LabList />;
  const lab = labById(id);
  if (!lab)
    return (
      <div className="labs-list">
        <p className="error-line" role="alert" data-testid="lab-missing">
          There is no lab called “{id}”. <a href="#labs">All labs</a>
        </p>
      </div>
    );
  return <LabPage key={lab.id} lab={lab} number={lab.number ?? String(LABS.indexOf(lab) + 1)} />;
}
