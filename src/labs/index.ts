/**
 * The labs, in the order the Labs view lists them. A new lab is a file in this folder
 * (types.ts says what it holds; docs/labs.md how to write one) and a line here.
 */
import { ballooning } from './ballooning';
import { creditCap, creditPinning, creditWeights } from './credit';
import { dom0Time } from './dom0-time';
import { eventChannels } from './event-channels';
import { grantTables } from './grant-tables';
import { isolation } from './isolation';
import { migration } from './migration';
import { networking } from './networking';
import { splitDrivers } from './split-drivers';
import { trapAndEmulate } from './trap-and-emulate';
import { translation } from './translation';
import type { LabDefinition } from './types';
import { xenstore } from './xenstore';

export const LABS: readonly LabDefinition[] = [
  trapAndEmulate,
  creditWeights,
  creditCap,
  creditPinning,
  dom0Time,
  eventChannels,
  grantTables,
  ballooning,
  xenstore,
  splitDrivers,
  networking,
  migration,
  translation,
  isolation,
];

export function labById(id: string): LabDefinition | undefined {
  return LABS.find((l) => l.id === id);
}
