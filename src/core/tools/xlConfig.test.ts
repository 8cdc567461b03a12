import { describe, expect, it } from 'vitest';
import { ConfigError, MAX_CMDLINE, parseXlConfig, validateDomainConfig } from './xlConfig';

describe('xl.cfg parsing', () => {
  it('reads a config and fills Xen defaults', () => {
    const cfg = parseXlConfig(`# a pv guest
name = "web1"
type = 'pv'
kernel = "guests/os.elf"   # the kernel
vcpus = 2
cmdline = "console=hvc0 # not a comment"
`);
    expect(cfg).toMatchObject({
      name: 'web1',
      type: 'pv',
      kernel: 'guests/os.elf',
      vcpus: 2,
      memory: 32,
      maxmem: 32,
      cpu_weight: 256,
      cap: 0,
      on_crash: 'destroy',
      on_reboot: 'restart',
      cmdline: 'console=hvc0 # not a comment',
    });
  });

  it('reads firmware for hvm domains, "none" by default', () => {
    expect(parseXlConfig('name = "a"\ntype = "hvm"\nkernel = "k"').firmware).toBe('none');
    expect(parseXlConfig('name = "a"\ntype = "hvm"\nkernel = "k"\nfirmware = "sbi"').firmware).toBe('sbi');
    expect(parseXlConfig('name = "a"\ntype = "pv"\nkernel = "k"\nfirmware = "none"').firmware).toBe('none');
  });

  it.each([
    ['name = "a"\nkernel = "k"\nfrobnicate = 1', /line 3: unknown key "frobnicate"/],
    ['name = "a"\nkernel = "k"\nmemory = "lots"', /line 3: memory must be a whole number/],
    ['name = "a"\nkernel = "k"\nvcpus = 0', /line 3: vcpus must be between 1 and 8/],
    ['name = "a"\nkernel = "k"\ntype = "pvh"', /line 3: type must be "pv" or "hvm"/],
    ['name = "a"\nkernel = "k"\non_crash = "explode"', /line 3: on_crash must be one of/],
    ['name = "a"\nkernel = "k"\nmemory 64', /line 3: expected "key = value"/],
    ['name = "a"\nmemory = 64', /no "kernel"/],
    ['name = "a"\nkernel = "k"\nmemory = 64\nmaxmem = 32', /maxmem \(32\) is below memory \(64\)/],
    ['name = "a"\nname = "b"\nkernel = "k"', /line 2: "name" is set twice/],
    ['name = "a"\ntype = "hvm"\nkernel = "k"\nfirmware = "opensbi"', /line 4: firmware must be "none" or "sbi", not "opensbi"/],
    ['name = "a"\nkernel = "k"\nfirmware = 1', /line 3: firmware must be a "string"/],
    ['name = "a"\nkernel = "k"\n\nfirmware = "sbi"\ntype = "pv"', /line 4: firmware = "sbi" is for hvm domains/],
  ])('refuses %j', (text, message) => {
    expect(() => parseXlConfig(text)).toThrow(ConfigError);
    expect(() => parseXlConfig(text)).toThrow(message);
  });

  it('caps what a config can make the parser do: size, list depth, cmdline length (issue 10 item 11)', () => {
    const deep = `name = "a"\nkernel = "k"\ncmdline = ${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(() => parseXlConfig(deep)).toThrow(/line 3: lists nested more than 8 deep/);
    const long = `name = "a"\nkernel = "k"\ncmdline = "${'x'.repeat(1 << 20)}"`;
    expect(() => parseXlConfig(long)).toThrow(/config is too large/);
    const cmd = `name = "a"\nkernel = "k"\ncmdline = "${'x'.repeat(MAX_CMDLINE + 1)}"`;
    expect(() => parseXlConfig(cmd)).toThrow(/line 3: cmdline is too long \(1024 bytes, at most 1023\)/);
    expect(parseXlConfig(`name = "a"\nkernel = "k"\ncmdline = "${'x'.repeat(MAX_CMDLINE)}"`).cmdline).toHaveLength(MAX_CMDLINE);
  });

  it.each([
    [null, /must be an object/],
    [{ name: 'x'.repeat(100_000), kernel: 'k' }, /name "x{40}\.\.\." is not allowed/],
    [{ name: 'a/b', kernel: 'k' }, /name "a\/b" is not allowed/],
    [{ name: 'a', kernel: 'k', memory: 12.5 }, /memory must be a whole number/],
    [{ name: 'a', kernel: 'k', type: 'pvh' }, /type must be "pv" or "hvm"/],
    [{ name: 'a', kernel: 'k', colour: 'blue' }, /unknown key "colour"/],
    [{ name: 'a', kernel: 'k', memory: [1] }, /memory must be a number or a string/],
  ])('a config object gets the checks of a config file: refuses %#', (obj, message) => {
    expect(() => validateDomainConfig(obj)).toThrow(message);
  });

  it('a config object that passes is completed with the defaults, like a file', () => {
    expect(validateDomainConfig({ name: 'a', kernel: 'k', memory: 16, type: 'hvm' })).toEqual(
      parseXlConfig('name = "a"\nkernel = "k"\nmemory = 16\ntype = "hvm"'),
    );
  });
});
