/**
 * FLUSH reaches stable storage before the guest hears it completed (issue 13): a host
 * process runs the pv teaching OS on a qcow2 overlay (guestFlushChild.ts); the guest
 * writes sectors, `disk flush`es, and the moment it prints the flush's completion the
 * process is killed with SIGKILL while the guest goes on writing. The image then holds
 * every flushed sector, is clean for the image layer's check, and qemu-img check finds
 * no error (leaked clusters from the unflushed writes are allowed, as after a QEMU crash).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkQcow2 } from '../core/block/check';
import { createOverlayFile, FileStore, openImageFile } from './blockFile';
import { flushText } from './guestFlushChild';

const dir = mkdtempSync(join(tmpdir(), 'hyperlab-guestflush-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const QEMU_IMG = spawnSync('qemu-img', ['--version'], { stdio: 'ignore' }).status === 0;

describe('a host killed right after a guest flush', () => {
  it('the flushed sectors are on the image, and the image checks clean', async () => {
    const base = join(dir, 'base.raw');
    writeFileSync(base, new Uint8Array(4 << 20).fill(0x5a));
    const img = join(dir, 'disk.qcow2');
    createOverlayFile(img, 'base.raw', { backingFormat: 'raw' });
    const rounds = 12;
    const child = join(import.meta.dirname, 'guestFlushChild.ts');
    const proc = spawn(process.execPath, ['--import', 'tsx', child, img, String(rounds)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((res, rej) => {
      let out = '';
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('flushed\n')) res();
      });
      proc.on('exit', (code) => rej(new Error(`the host exited (${code}) before the flush: ${err}`)));
    });
    proc.kill('SIGKILL');
    await new Promise((r) => proc.on('exit', r));

    const q = openImageFile(img, { readOnly: true });
    const sector = new Uint8Array(512);
    for (let r = 0; r < rounds; r++) {
      q.readSectors(100 + r, sector);
      const text = flushText(r);
      expect(Buffer.from(sector.subarray(0, text.length)).toString(), `sector ${100 + r}`).toBe(text);
      expect(sector.subarray(text.length).every((b) => b === 0)).toBe(true);
    }
    q.readSectors(99, sector);
    expect(sector.every((b) => b === 0x5a)).toBe(true); // the base shows through where nothing was written
    q.close();
    expect(checkQcow2(new FileStore(img, true)).errors).toEqual([]);
    if (QEMU_IMG) {
      const r = spawnSync('qemu-img', ['check', '-f', 'qcow2', img], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).not.toMatch(/ERROR/);
      expect([0, 3]).toContain(r.status);
    }
  }, 120_000);
});
