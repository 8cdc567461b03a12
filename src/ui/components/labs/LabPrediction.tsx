/** The prediction step: a choice or a number the student commits to before Run is enabled. */
import { useState, type ReactElement } from 'react';
import type { Guess, Prediction } from '../../../labs/types';
import { LabInline } from './LabText';

export function describeGuess(prediction: Prediction, guess: Guess): string {
  if (prediction.kind === 'choice') return prediction.options.find((o) => o.id === guess)?.label ?? String(guess);
  return `${typeof guess === 'number' ? guess.toLocaleString('en') : guess} ${prediction.unit}`;
}

export function LabPrediction({
  prediction,
  committed,
  locked,
  onCommit,
}: {
  readonly prediction: Prediction;
  readonly committed: Guess | null;
  /** While a run goes on the prediction cannot change. */
  readonly locked: boolean;
  readonly onCommit: (guess: string) => void;
}): ReactElement {
  const [draft, setDraft] = useState<string>(committed === null ? '' : String(committed));
  const [editing, setEditing] = useState(committed === null);
  if (!editing && committed !== null)
    return (
      <div className="lab-committed" data-testid="lab-prediction-committed">
        <p>
          <span className="muted">Your prediction:</span> <strong data-testid="lab-guess">{describeGuess(prediction, committed)}</strong>
        </p>
        {locked ? null : (
          <button type="button" className="link-button" data-testid="lab-prediction-change" onClick={() => setEditing(true)}>
            change it
          </button>
        )}
      </div>
    );
  const commit = (): void => {
    if (draft.trim() === '') return;
    onCommit(draft);
    setEditing(false);
  };
  return (
    <form
      className="lab-prediction"
      data-testid="lab-prediction"
      onSubmit={(e) => {
        e.preventDefault();
        commit();
      }}
    >
      <fieldset>
        <legend>
          <LabInline text={prediction.question} />
        </legend>
        {prediction.kind === 'choice' ? (
          prediction.options.map((o) => (
            <label key={o.id} className="lab-option">
              <input type="radio" name="lab-guess" value={o.id} data-testid={`lab-option-${o.id}`} checked={draft === o.id} onChange={() => setDraft(o.id)} />{' '}
              <LabInline text={o.label} />
            </label>
          ))
        ) : (
          <label className="lab-number">
            <input
              type="number"
              inputMode="decimal"
              data-testid="lab-guess-number"
              min={prediction.min}
              max={prediction.max}
              step="any"
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
            />{' '}
            {prediction.unit}
          </label>
        )}
      </fieldset>
      <button type="submit" className="primary" data-testid="lab-commit" disabled={draft.trim() === ''}>
        Commit my prediction
      </button>
    </form>
  );
}
