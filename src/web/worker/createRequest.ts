/**
 * What a CreateRequest asks for, as xl.cfg text and the config parsed from it, with the
 * request's overrides applied. Errors name the config line where there is one.
 */
import { ConfigError, parseXlConfig, type DomainConfig } from '../../core/tools/xlConfig';
import type { CreateRequest, PresetInfo, Result } from '../protocol/hvProtocol';
import { domainConfig, domainNameFrom } from '../protocol/presets';

/** The line of `key = ...` in config text, for an error about that key. */
export function lineOf(text: string, key: string): number | undefined {
  const i = text.split(/\r?\n/).findIndex((l) => new RegExp(`^\\s*${key}\\s*=`).test(l));
  return i >= 0 ? i + 1 : undefined;
}

/** @param upload the path the request's image was stored under, if it has one */
export function configOf(req: CreateRequest, presets: readonly PresetInfo[], upload: string | undefined): Result<{ text: string; cfg: DomainConfig }> {
  let text: string;
  if (req.config !== undefined) text = req.config;
  else if (req.preset !== undefined) {
    const preset = presets.find((p) => p.name === req.preset || `${p.name}.elf` === req.preset);
    if (!preset) return { ok: false, error: `${req.preset}: no such preset (there are: ${presets.map((p) => p.name).join(', ')})` };
    text = preset.config;
  } else if (req.image && upload !== undefined) {
    text = domainConfig({ name: domainNameFrom(req.image.name), type: req.type ?? 'hvm', kernel: upload });
  } else return { ok: false, error: 'nothing to create: give a config, a preset or an image' };

  let cfg: DomainConfig;
  try {
    cfg = { ...parseXlConfig(text) };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    return e instanceof ConfigError && e.line > 0 ? { ok: false, error, line: e.line } : { ok: false, error };
  }
  if (req.name !== undefined) cfg.name = req.name;
  if (req.memory !== undefined) cfg = { ...cfg, memory: req.memory, maxmem: Math.max(cfg.maxmem, req.memory) };
  return { ok: true, value: { text, cfg } };
}
