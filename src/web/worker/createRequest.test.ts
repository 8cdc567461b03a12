/**
 * Every create goes through configOf: the request's shape, then the checks of an xl.cfg
 * file for the config and for the request's overrides (issue 10 item 12).
 */
import { describe, expect, it } from 'vitest';
import { presetsFor } from '../protocol/presets';
import { checkCreateRequest, configOf } from './createRequest';

const PRESETS = presetsFor([{ name: 'hello', file: 'hello.elf', size: 100 }]);
const of = (req: unknown, upload?: string): ReturnType<typeof configOf> => configOf(req as never, PRESETS, upload);
const error = (req: unknown, upload?: string): string => {
  const r = of(req, upload);
  if (r.ok) throw new Error('accepted');
  expect(r.error).not.toContain('\n');
  expect(r.error.length).toBeLessThan(160);
  return r.error;
};

describe('create requests', () => {
  it.each([
    [null, /^a create request must be an object/],
    [[], /^a create request must be an object/],
    ['hello', /^a create request must be an object/],
    [{ preset: 'hello', colour: 'blue' }, /^a create request has no field "colour"$/],
    [{ preset: 5 }, /^preset must be a preset name/],
    [{ config: { name: 'a' } }, /^config must be xl.cfg text/],
    [{ image: { name: 'a', bytes: [1, 2] } }, /^image must be \{ name: string, bytes: Uint8Array \}$/],
    [{ preset: 'hello', memory: '16' }, /^memory must be a number of MiB$/],
    [{ preset: 'hello', uniqueName: 1 }, /^uniqueName must be true or false$/],
  ])('refuses a malformed request in one line: %#', (req, message) => {
    expect(error(req)).toMatch(message);
    expect(checkCreateRequest(req).ok).toBe(false);
  });

  it.each([
    [{ preset: 'hello', name: 'x'.repeat(100_000) }, /^name "x{40}\.\.\." is not allowed \(1 to 64 letters, digits, _ \. -\)$/],
    [{ preset: 'hello', name: 'x'.repeat(65) }, /^name "x{40}\.\.\." is not allowed/],
    [{ preset: 'hello', name: 'a/b' }, /^name "a\/b" is not allowed/],
    [{ preset: 'hello', name: '' }, /^name "" is not allowed/],
    [{ preset: 'hello', memory: 12.5 }, /^memory must be a whole number$/],
    [{ preset: 'hello', memory: 0 }, /^memory must be between 4 and 1024, not 0$/],
    [{ preset: 'hello', memory: -16 }, /^memory must be between 4 and 1024/],
    [{ preset: 'hello', memory: Number.NaN }, /^memory must be a whole number$/],
    [{ preset: 'hello', memory: 1 << 20 }, /^memory must be between 4 and 1024/],
    [{ image: { name: 'a.elf', bytes: new Uint8Array(4) }, type: 'pvh' }, /^type must be "pv" or "hvm", not "pvh"$/],
  ])('gives the overrides the checks of xl.cfg: %#', (req, message) => {
    expect(error(req, 'uploads/a.elf')).toMatch(message);
  });

  it('gives config text the checks of xl.cfg, with the line', () => {
    const r = of({ config: `name = "${'x'.repeat(65)}"\nkernel = "guests/hello.elf"` });
    expect(r).toMatchObject({ ok: false, line: 1, error: expect.stringMatching(/^line 1: name "x{40}\.\.\." is not allowed/) });
    expect(of({ config: 'name = "a"\nkernel = "k"\ntype = "pvh"' })).toMatchObject({ ok: false, line: 3 });
  });

  it('accepts a name of 64 characters and whole MiB; memory above maxmem raises maxmem', () => {
    const r = of({ preset: 'hello', name: 'a'.repeat(64), memory: 48 });
    expect(r.ok && r.value.cfg).toMatchObject({ name: 'a'.repeat(64), memory: 48, maxmem: 48, type: 'hvm', kernel: 'guests/hello.elf' });
    const image = of({ image: { name: 'my image.elf', bytes: new Uint8Array(4) }, type: 'pv' }, 'uploads/my image.elf');
    expect(image.ok && image.value.cfg).toMatchObject({ name: 'my-image.elf', type: 'pv', kernel: 'uploads/my image.elf' });
  });
});
