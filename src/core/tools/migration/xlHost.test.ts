/**
 * xl save and xl restore at `hyperlab host`'s Domain-0 prompt (the real CLI, commands on
 * stdin): the file lands on disk, the restored domain takes the next domid and runs, and a
 * restore that fails is one line on stderr with exit status 1.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { projectRoot } from '../../../node/paths';
import { readSaveFile } from './saveFile';

const dir = mkdtempSync(join(tmpdir(), 'hyperlab-save-'));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('hyperlab host: xl save writes the file, xl restore brings the domain back, a bad restore is one line and status 1', () => {
  const file = join(dir, 'tos.save');
  const r = spawnSync(process.execPath, [join(projectRoot(), 'bin', 'hyperlab.js'), 'host', '--mem', '96M', 'examples/teaching-os-pv.cfg'], {
    cwd: projectRoot(),
    input: `sleep 2\nsave tos-pv ${file}\nlist\nrestore ${file}\nsleep 1\nlist\nrestore ${join(dir, 'missing.save')}\n`,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.stdout).toMatch(/Saved domain 1 \(tos-pv\) to .*tos\.save: \d+ bytes in \d+ ms/);
  expect(r.stdout).toMatch(/Domain 2 \(tos-pv\) restored from .*tos\.save in \d+ ms/);
  expect(r.stdout).toMatch(/tos-pv\s+2\s+16\s+1\s/);
  expect(readSaveFile(readFileSync(file), { maxPfn: 1 << 20, maxVcpus: 8 }).libxc.kind).toBe('pv');
  expect(r.stderr.split('\n').filter((l) => l.startsWith('xl: '))).toEqual([`xl: cannot read save file '${join(dir, 'missing.save')}': no such file`]);
  expect(r.stderr).toMatch(/\(XEN\) domain 1 \(tos-pv\): save: paused and vCPU states in \d+ ms/);
  expect(r.status).toBe(1);
}, 120_000);
