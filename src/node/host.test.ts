import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from './paths';

const root = projectRoot();

function host(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'hyperlab.js'), 'host', ...args], {
    cwd: root,
    input: input ?? '',
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('hyperlab host', () => {
  it('creates domains from configs and answers xl commands read from stdin', () => {
    const r = host(
      ['examples/hello-hvm.cfg', 'examples/selftest-hvm.cfg'],
      'sleep 3\nlist\nconsole hello\nconsole selftest\nsched-credit -d hello -w 512 -c 50\nsched-credit\nvcpu-pin selftest 0 1\nvcpu-list selftest\ninfo\n',
    );
    expect(r.stderr).not.toMatch(/xl: /);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Domain-0\s+0\s+0\s+0\s+r-----/);
    expect(r.stdout).toMatch(/hello\s+1\s+16\s+1\s+---s--/); // powered off, preserved
    expect(r.stdout).toContain('Hello from hyperlab');
    expect(r.stdout).toContain('isa-selftest: PASS');
    expect(r.stdout).toMatch(/hello\s+1\s+512\s+50/);
    expect(r.stdout).toMatch(/selftest\s+2\s+0\s+-\s+off\s+[\d.]+ 1 \/ all/);
    expect(r.stdout).toMatch(/nr_cpus\s+: 2/);
  });

  it('a bad config names its line; a failed command makes the exit status 1', () => {
    const r = host(['--exec', 'create examples/hello-hvm.cfg vcpus=0; list']);
    expect(r.stderr).toMatch(/xl: line \d+: vcpus must be between 1 and 8/);
    expect(r.status).toBe(1);
  });

  it('destroy frees the memory: free_memory comes back', () => {
    const r = host(['--mem', '64M', '--exec', 'create examples/cpubench-hvm.cfg; info; destroy cpubench; info']);
    const free = [...r.stdout.matchAll(/free_memory\s+: (\d+)/g)].map((m) => Number(m[1]));
    expect(free).toEqual([48, 64]);
    expect(r.status).toBe(0);
  });

  it('usage errors are one line with status 2', () => {
    const r = host(['--pcpus', '99']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--pcpus must be 1..16/);
  });

  it('two pv and one hvm teaching-OS domains at once; xl sched-credit and mem-set act on them', () => {
    const r = host(
      ['--mem', '256M', 'examples/teaching-os-pv.cfg', 'examples/teaching-os-pv2.cfg', 'examples/teaching-os-hvm.cfg'],
      'sleep 2\nsched-credit -d tos-pv -w 512\nsched-credit\nmem-set tos-pv2 8\nsleep 2\nlist\nconsole tos-pv2\nconsole tos-hvm\n',
    );
    expect(r.stderr).not.toMatch(/xl: /);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/tos-pv\s+1\s+512\s+0/);
    expect(r.stdout).toMatch(/tos-pv2\s+2\s+8\s+1\s/); // ballooned to 8 MiB
    expect(r.stdout).toMatch(/tos-hvm\s+3\s+16\s+1/);
    expect(r.stdout).toContain('balloon: target 8192 KiB: gave 2048 pages back');
    expect(r.stdout).toContain('teaching-os 0.1 (hvm)');
  });
});
