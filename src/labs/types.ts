/**
 * What a guided lab is (docs/labs.md): a declarative file with text for the student and a
 * small script that drives the hypervisor through window.hyperlab. The UI
 * (src/ui/components/labs/) shows any lab of this shape; a teacher adds a lab by adding a
 * file and a line in index.ts, never by touching the UI.
 *
 * Labs know no DOM: they run against `LabApi` (window.hyperlab's type), so the runner and
 * the labs' logic are tested in Node with a fake (runner.test.ts).
 */
import type { HyperlabAutomation } from '../web/protocol/automationTypes';

/** The automation API a lab drives: window.hyperlab (docs/automation.md). */
export type LabApi = HyperlabAutomation;

/** The instruments a lab can open and highlight while it runs. */
export type Instrument = 'scheduler' | 'graphs' | 'evtchn' | 'grants' | 'xenstore' | 'vbd' | 'memory' | 'console' | 'domains';

export type ParamValue = number | string;
export type Params = Readonly<Record<string, ParamValue>>;

/** A parameter of the lab's "try next" variation: a number in a range, or one of a few choices. */
export type ParamSpec =
  | {
      readonly id: string;
      readonly label: string;
      readonly kind: 'number';
      readonly default: number;
      readonly min: number;
      readonly max: number;
      readonly step?: number;
      readonly unit?: string;
    }
  | {
      readonly id: string;
      readonly label: string;
      readonly kind: 'choice';
      readonly default: string;
      readonly options: readonly { readonly value: string; readonly label: string }[];
    };

/**
 * What the student commits to before Run. A choice is right when it is the option the
 * observation points at; a number when it is within `tolerance` of the measured one
 * (relative, 0.25 = 25 %) or within `absolute` of it, whichever is wider.
 */
export type Prediction =
  | {
      readonly kind: 'choice';
      readonly question: string;
      readonly options: readonly { readonly id: string; readonly label: string }[];
    }
  | {
      readonly kind: 'number';
      readonly question: string;
      readonly unit: string;
      readonly min: number;
      readonly max: number;
      readonly tolerance: number;
      readonly absolute?: number;
    };

/** What the student predicted: an option's id, or a number. */
export type Guess = string | number;

/** Measured values, by key (shown in `observe`'s order). */
export type Observation = Readonly<Record<string, number | string>>;

/** One row of the observation table. */
export interface ObservedValue {
  readonly key: string;
  readonly label: string;
  readonly unit?: string;
  /** Digits after the point (default 0 for numbers). */
  readonly digits?: number;
}

/** A statement of the explanation, checked against the observation (the e2e tests assert them all). */
export interface Check {
  readonly label: string;
  readonly ok: boolean;
}

/** How a running lab talks to the page. */
export interface LabReport {
  /** A line of the run's log ("creating the pv domain…"). */
  step(text: string): void;
  /** Open and highlight an instrument (of a domain, where it has one). */
  show(instrument: Instrument, domid?: number): void;
  /** A live value of the observation (shown while the run goes on). */
  measure(key: string, value: number | string): void;
  /** The domains the student should look at (their consoles are shown). */
  domains(ids: readonly number[]): void;
}

export interface LabDefinition {
  /** The deep link's name: `#lab/<id>`; lower case, digits and dashes. */
  readonly id: string;
  /** Its number in the course (issue 17's list: "2a"); default: its place in index.ts. */
  readonly number?: string;
  readonly title: string;
  /** The mechanism, in a few words ("scheduling", "event channels"). */
  readonly topic: string;
  /** How long the lab takes a student (5 to 15). */
  readonly minutes: number;
  /** One sentence: what the student learns (the list and docs/labs.md show it). */
  readonly goal: string;
  /** A few paragraphs (LabText: blank lines, `code`, **bold**, [links](https://...)), with the source cited. */
  readonly context: string;
  readonly prediction: Prediction;
  /** The variation's parameters; the first run uses their defaults. */
  readonly params: readonly ParamSpec[];
  /**
   * The host the lab needs, when it matters: the number of pCPUs is fixed when the page
   * loads (`?pcpus=N`), so the page offers a reload with it.
   */
  readonly host?: { readonly pcpus: number };
  /** The instrument opened when the lab page opens, before any run. */
  readonly instrument: Instrument;
  /** Sets up the domains and measures; resolves with the observation. */
  run(api: LabApi, params: Params, report: LabReport): Promise<Observation>;
  /** The rows of the observation table. */
  readonly observe: readonly ObservedValue[];
  /** The answer the observation gives to the prediction's question: an option id, or the measured number. */
  answer(obs: Observation, params: Params): Guess;
  /** The explanation's claims, checked against this observation. */
  checks(obs: Observation, params: Params): readonly Check[];
  /** Why (shown after the run). */
  readonly explain: string;
  /** The variation to try next, in words (its parameters are `params`). */
  readonly tryNext: string;
}
