import { describe, expect, it } from 'vitest';
import { ConfigError, parseXlConfig } from './xlConfig';

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
      name: 'web1', type: 'pv', kernel: 'guests/os.elf', vcpus: 2, memory: 32, maxmem: 32,
      cpu_weight: 256, cap: 0, on_crash: 'destroy', on_reboot: 'restart', cmdline: 'console=hvc0 # not a comment',
    });
  });

  it('reads firmware for hvm domains, "none" by default', () => {
    expect(parseXlConfig('name = "a"\ntype = "hvm"\nkernel = "k"').firmware).toBe('none');
    expect(parseXlConfig('name = "a"\ntype = "hvm"\nkernel = "k"\nfirmware = "sbi"').firmware).toBe('sbi');
    expect(parseXlConfig('name = "a"\ntype = "pv"\nkernel = "k"\nfirmware = "none"').firmware).toBe('none');
  });

  it.each([
    ['name = "a"\nkernel = "k"\nfrobnicate = 1', /line 3: unknown key "frobnicate"/],
    ['name = "a"\nkernel = "k"\nmemory = "lots"', /line 3: memory must be a number/],
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
});
