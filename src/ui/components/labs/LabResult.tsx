/**
 * The observation: the student's prediction next to what was measured (and whether they
 * match), the measured values (live while the run goes on), and the explanation's claims
 * checked against them.
 */
import type { ReactElement } from 'react';
import type { LabOutcome } from '../../../labs/runner';
import type { Guess, LabDefinition, ObservedValue } from '../../../labs/types';
import { describeGuess } from './LabPrediction';
import { LabInline } from './LabText';

function formatValue(o: ObservedValue, v: number | string | undefined): string {
  if (v === undefined) return '…';
  const text = typeof v === 'number' ? v.toLocaleString('en', { maximumFractionDigits: o.digits ?? 0, minimumFractionDigits: 0 }) : v;
  return o.unit ? `${text} ${o.unit}` : text;
}

export function LabVerdict({ lab, guess, outcome }: { readonly lab: LabDefinition; readonly guess: Guess; readonly outcome: LabOutcome }): ReactElement {
  return (
    <div className={`lab-verdict ${outcome.correct ? 'right' : 'wrong'}`} data-testid="lab-verdict" data-correct={outcome.correct}>
      <div className="lab-verdict-side">
        <span className="lab-verdict-label">You predicted</span>
        <span className="lab-verdict-value" data-testid="lab-verdict-guess">
          {describeGuess(lab.prediction, guess)}
        </span>
      </div>
      <div className="lab-verdict-mark" aria-hidden="true">
        {outcome.correct ? '=' : '≠'}
      </div>
      <div className="lab-verdict-side">
        <span className="lab-verdict-label">Observed</span>
        <span className="lab-verdict-value" data-testid="lab-verdict-answer">
          {describeGuess(lab.prediction, outcome.answer)}
        </span>
      </div>
      <p className="lab-verdict-words" role="status">
        {outcome.correct ? 'Your prediction holds.' : 'Not what you predicted: the explanation below says why.'}
      </p>
    </div>
  );
}

export function LabObservations({ lab, values }: { readonly lab: LabDefinition; readonly values: Readonly<Record<string, number | string>> }): ReactElement {
  return (
    <table className="lab-observations" data-testid="lab-observations">
      <tbody>
        {lab.observe.map((o) => (
          <tr key={o.key} data-testid={`lab-obs-${o.key}`} data-value={values[o.key] ?? ''}>
            <th scope="row">
              <LabInline text={o.label} />
            </th>
            <td>{formatValue(o, values[o.key])}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function LabChecks({ outcome }: { readonly outcome: LabOutcome }): ReactElement {
  return (
    <div className="lab-checks" data-testid="lab-checks" data-consistent={outcome.consistent}>
      <p className="lab-checks-title">
        {outcome.consistent ? 'The observation agrees with the explanation:' : 'The observation does not agree with every claim of the explanation:'}
      </p>
      <ul>
        {outcome.checks.map((c) => (
          <li key={c.label} className={c.ok ? 'ok' : 'not-ok'} data-ok={c.ok}>
            <span className="lab-check-mark" aria-label={c.ok ? 'holds' : 'does not hold'}>
              {c.ok ? '✓' : '✗'}
            </span>{' '}
            <LabInline text={c.label} />
          </li>
        ))}
      </ul>
    </div>
  );
}
