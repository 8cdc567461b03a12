/**
 * What a CreateRequest asks for, as xl.cfg text and the config parsed from it, with the
 * request's overrides applied. Every create the page asks for (the create panel, the
 * presets, window.hyperlab) comes through here: the request's shape is checked first
 * (it crossed from the page), and the config, overrides included, gets the checks of an
 * xl.cfg file (xlConfig.ts). Errors are one line, and name the config line where there is
 * one.
 */
import { ConfigError, parseXlConfig, validateDomainConfig, type DomainConfig } from '../../core/tools/xlConfig';
import type { CreateRequest, PresetInfo, Result } from '../protocol/hvProtocol';
import { domainConfig, domainNameFrom } from '../protocol/presets';

/** The line of `key = ...` in config text, for an error about that key. */
export function lineOf(text: string, key: string): number | undefined {
  const i = text.split(/\r?\n/).findIndex((l) => new RegExp(`^\\s*${key}\\s*=`).test(l));
  return i >= 0 ? i + 1 : undefined;
}

const REQUEST_FIELDS: Readonly<Record<keyof CreateRequest, (v: unknown) => boolean>> = {
  config: (v) => typeof v === 'string',
  preset: (v) => typeof v === 'string',
  image: (v) =>
    typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string' && (v as { bytes?: unknown }).bytes instanceof Uint8Array,
  type: (v) => typeof v === 'string',
  name: (v) => typeof v === 'string',
  memory: (v) => typeof v === 'number',
  uniqueName: (v) => typeof v === 'boolean',
};
const FIELD_TYPES: Readonly<Record<keyof CreateRequest, string>> = {
  config: 'xl.cfg text (a string)',
  preset: 'a preset name (a string)',
  image: '{ name: string, bytes: Uint8Array }',
  type: '"pv" or "hvm"',
  name: 'a string',
  memory: 'a number of MiB',
  uniqueName: 'true or false',
};

/** The request's shape, as it crossed from the page: an object of known fields, each of its type. */
export function checkCreateRequest(req: unknown): Result<CreateRequest> {
  if (typeof req !== 'object' || req === null || Array.isArray(req))
    return { ok: false, error: 'a create request must be an object ({ config, preset, image, name, type, memory })' };
  for (const [key, v] of Object.entries(req)) {
    if (v === undefined) continue;
    const check = Object.hasOwn(REQUEST_FIELDS, key) ? REQUEST_FIELDS[key as keyof CreateRequest] : undefined;
    if (!check) return { ok: false, error: `a create request has no field "${key.length > 40 ? `${key.slice(0, 40)}...` : key}"` };
    if (!check(v)) return { ok: false, error: `${key} must be ${FIELD_TYPES[key as keyof CreateRequest]}` };
  }
  return { ok: true, value: req };
}

const configError = (e: unknown): { ok: false; error: string; line?: number } => {
  const error = e instanceof Error ? e.message : String(e);
  return e instanceof ConfigError && e.line > 0 ? { ok: false, error, line: e.line } : { ok: false, error };
};

/** @param upload the path the request's image was stored under, if it has one */
export function configOf(req: CreateRequest, presets: readonly PresetInfo[], upload: string | undefined): Result<{ text: string; cfg: DomainConfig }> {
  const shape = checkCreateRequest(req);
  if (!shape.ok) return shape;
  let text: string;
  if (req.config !== undefined) text = req.config;
  else if (req.preset !== undefined) {
    const preset = presets.find((p) => p.name === req.preset || `${p.name}.elf` === req.preset);
    if (!preset) return { ok: false, error: `${req.preset}: no such preset (there are: ${presets.map((p) => p.name).join(', ')})` };
    text = preset.config;
  } else if (req.image && upload !== undefined) {
    text = domainConfig({ name: domainNameFrom(req.image.name), type: req.type === 'pv' ? 'pv' : 'hvm', kernel: upload });
  } else return { ok: false, error: 'nothing to create: give a config, a preset or an image' };
  // An image booted without a config takes its type from the request: checked as a config's would be.
  const type: unknown = req.type;
  if (type !== undefined && type !== 'pv' && type !== 'hvm')
    return { ok: false, error: `type must be "pv" or "hvm", not ${typeof type === 'string' ? `"${type.slice(0, 40)}"` : `a ${typeof type}`}` };

  let parsed: DomainConfig;
  try {
    parsed = parseXlConfig(text);
  } catch (e) {
    return configError(e);
  }
  // The overrides get the checks of the keys they override (a name of at most 64
  // characters without '/', a whole number of MiB...): the config object is checked again.
  const overrides: Partial<DomainConfig> = {
    ...(req.name !== undefined ? { name: req.name } : {}),
    ...(req.memory !== undefined ? { memory: req.memory, maxmem: Math.max(parsed.maxmem, req.memory) } : {}),
  };
  try {
    return { ok: true, value: { text, cfg: validateDomainConfig({ ...parsed, ...overrides }) } };
  } catch (e) {
    return configError(e);
  }
}
