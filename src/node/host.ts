/**
 * `hyperlab host [options] [CONFIG...]`: a hypervisor in Node with vCPU worker threads,
 * the given domains created, and a Domain-0 prompt that takes xl commands. On a terminal
 * the prompt is interactive; otherwise commands are read from standard input, one per
 * line, and run in order (the same commands, for scripts). `--exec "cmd; cmd"` runs
 * commands without reading stdin. Host-level commands: `sleep SECONDS`, `quit`.
 * `--listen [ADDR:]PORT`: receive live migrations (`xl migrate DOM ADDR:PORT` from another
 * host, over TCP: tcpChannel.ts); a listening host serves until it is stopped (SIGINT/SIGTERM),
 * also once its commands are done.
 */
import { writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { createInterface } from 'node:readline';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { Toolstack } from '../core/tools/toolstack';
import { runXl } from '../core/tools/xl';
import { ConfigError } from '../core/tools/xlConfig';
import type { JitMode } from '../core/cpu/jit/engine';
import { HelpRequested, isHelp, parseJit, parseSize, UsageError } from './args';
import { ensureWorkerScript } from './workerScript';
import { nodeVcpuHost } from './vcpuHost';
import { readFileOrThrow } from './run';
import { MAX_CONFIG_BYTES } from '../core/tools/xlConfig';
import { openDiskFile } from './blockFile';
import { migrateReceive } from '../core/tools/migration/live/receive';
import { parseHostPort, tcpConnect, tcpListen } from './tcpChannel';
import { listenWs, parseWsListen, type WsListener } from './wsChannel';
import { linkOrMigration } from './bridgeLink';

export interface HostArgs {
  memBytes: number;
  pcpus: number;
  sched: 'credit' | 'rr';
  icountShift?: number;
  jit?: JitMode;
  configs: string[];
  exec?: string;
  /** `--listen [ADDR:]PORT`: receive live migrations. */
  listen?: string;
  /** `--listen-ws [ADDR:]PORT`: migrations to and from browser pages over WebSocket (wsChannel.ts). */
  listenWs?: string;
}

export function parseHostArgs(argv: readonly string[]): HostArgs {
  const a: HostArgs = { memBytes: 512 << 20, pcpus: 2, sched: 'credit', configs: [] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new UsageError(`${k} needs a value`);
      return x;
    };
    if (isHelp(k)) throw new HelpRequested();
    else if (k === '--mem') a.memBytes = parseSize(v());
    else if (k === '--pcpus') a.pcpus = Number(v());
    else if (k === '--sched') {
      const s = v();
      if (s !== 'credit' && s !== 'rr') throw new UsageError(`--sched is credit or rr, not '${s}'`);
      a.sched = s;
    } else if (k === '--icount') a.icountShift = Number(v());
    else if (k === '--exec') a.exec = v();
    else if (k === '--jit') a.jit = parseJit(v());
    else if (k === '--listen') {
      a.listen = v();
      try {
        parseHostPort(a.listen);
      } catch (e) {
        throw new UsageError(`--listen: ${(e as Error).message}`);
      }
    } else if (k === '--listen-ws') {
      a.listenWs = v();
      try {
        parseWsListen(a.listenWs);
      } catch (e) {
        throw new UsageError(`--listen-ws: ${(e as Error).message}`);
      }
    } else if (k.startsWith('-')) throw new UsageError(`unknown option '${k}'`);
    else a.configs.push(k);
  }
  if (!Number.isInteger(a.pcpus) || a.pcpus < 1 || a.pcpus > 16) throw new UsageError('--pcpus must be 1..16');
  if (a.memBytes < 16 << 20 || a.memBytes > 1 << 30) throw new UsageError('--mem must be 16M..1G');
  return a;
}

export async function runHost(args: HostArgs): Promise<number> {
  const hv = new Hypervisor({
    memoryMiB: args.memBytes >> 20,
    pcpus: args.pcpus,
    host: nodeVcpuHost(await ensureWorkerScript(), { spare: true }), // a long-lived host: new vCPUs start at once
    scheduler: args.sched,
    ...(args.icountShift !== undefined ? { icountShift: args.icountShift } : {}),
    ...(args.jit !== undefined ? { jit: args.jit } : {}),
  });
  const ts = new Toolstack(hv, {
    readFile: (p, maxBytes) => readFileOrThrow(p, 'image', maxBytes),
    // Disks are image files; a raw image is never probed (a guest could write a qcow2 header into it).
    // backing= (hyperlab's key) creates a missing overlay first (openDiskFile).
    openDisk: (spec) => openDiskFile(spec),
  });
  hv.on('log', (line) => process.stderr.write(`(XEN) ${line}\n`));
  hv.start();
  const server = args.listen === undefined ? undefined : await listen(ts, args.listen);
  let wsServer: WsListener | undefined;
  if (args.listenWs !== undefined) {
    wsServer = await listenWs(ts, args.listenWs, { log: (l) => void process.stderr.write(`${l}\n`), info: (l) => void process.stdout.write(`${l}\n`) });
    process.stderr.write(`hyperlab host: listening for migrations from browser pages on ${wsServer.url}\n`);
  }
  let failed = false;
  const exec = async (line: string): Promise<boolean> => {
    const ok = await command(ts, line);
    failed ||= !ok;
    return ok;
  };
  try {
    for (const c of args.configs) await exec(`create ${c}`);
    if (args.exec !== undefined) {
      for (const c of args.exec.split(';')) if (!(await exec(c))) break;
    } else if (process.stdin.isTTY) {
      await interactive(ts);
    } else {
      const rl = createInterface({ input: process.stdin });
      for await (const line of rl) {
        if (line.trim() === 'quit') break;
        await exec(line);
      }
    }
    if (server || wsServer) await new Promise<void>((resolve) => ['SIGINT', 'SIGTERM'].forEach((sig) => process.once(sig, () => resolve())));
  } finally {
    server?.close();
    await wsServer?.close();
    hv.shutdownHost();
  }
  return failed ? 1 : 0;
}

/** Run one command line; false if it failed (the message is printed). */
async function command(ts: Toolstack, line: string, attach?: (domid: number) => Promise<void>): Promise<boolean> {
  const words = line
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  if (words[0] === 'xl') words.shift();
  if (words.length === 0) return true;
  if (words[0] === 'sleep') {
    await new Promise((r) => setTimeout(r, Number(words[1] ?? 1) * 1000));
    return true;
  }
  try {
    const r = runXl(ts, words, {
      out: (t) => process.stdout.write(`${t}\n`),
      readFile: (p) => Buffer.from(readFileOrThrow(p, 'config', MAX_CONFIG_BYTES)).toString('utf8'),
      readBytes: (p) => readFileOrThrow(p, 'save file', ts.hv.memory.nrFrames * 4096 * 2),
      writeBytes: (p, bytes) => writeFileSync(p, bytes),
      migrationChannel: (host) => tcpConnect(host),
    });
    if (r.pending) return (await r.pending) === 0;
    if (r.attach !== undefined) {
      if (attach) await attach(r.attach);
      else process.stdout.write(String.fromCharCode(...ts.hv.getDomain(r.attach).console));
    }
    return r.status === 0;
  } catch (e) {
    const msg = e instanceof ConfigError || e instanceof Error ? e.message : String(e);
    process.stderr.write(`xl: ${msg}\n`);
    return false;
  }
}

/** `--listen`: a receiver (Xen's `xl migrate-receive`) for each connection; its lines go to stderr as xl's do. */
async function listen(ts: Toolstack, where: string): Promise<Server> {
  const server = await tcpListen(where, (raw, peer) => {
    const log = (line: string): void => void process.stderr.write(`${line}\n`);
    // The same port takes bridge links (`xl network-link BRIDGE ADDR:PORT`): bridgeLink.ts.
    const ch = linkOrMigration(ts, raw, peer);
    migrateReceive(ts, ch, { log: ch.logVia(log) }).then(
      (d) => process.stdout.write(`Domain ${d.domid} (${d.name}) migrated in from ${peer}\n`),
      (e: unknown) => ch.diverted || process.stderr.write(`xl: ${(e as Error).message}\n`),
    );
  });
  const a = server.address();
  process.stderr.write(`hyperlab host: listening for migrations on ${typeof a === 'object' && a ? `${a.address}:${a.port}` : where}\n`);
  return server;
}

async function interactive(ts: Toolstack): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: 'dom0# ' });
  const attach = async (domid: number): Promise<void> => {
    rl.pause();
    process.stdout.write(String.fromCharCode(...ts.hv.getDomain(domid).console));
    const off = ts.hv.on('console', (d, bytes) => d === domid && process.stdout.write(bytes));
    process.stdin.setRawMode(true);
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer): void => {
        const esc = chunk.indexOf(0x1d); // Ctrl-]
        const keys = esc >= 0 ? chunk.subarray(0, esc) : chunk;
        if (keys.length > 0 && ts.hv.domains.has(domid)) ts.hv.consoleInput(domid, keys);
        if (esc >= 0 || !ts.hv.domains.has(domid)) {
          process.stdin.off('data', onData);
          resolve();
        }
      };
      process.stdin.on('data', onData);
      process.stdin.resume();
    });
    off();
    process.stdin.setRawMode(false);
    process.stdout.write('\n');
    rl.resume();
  };
  rl.prompt();
  for await (const line of rl) {
    if (line.trim() === 'quit' || line.trim() === 'exit') break;
    await command(ts, line, attach);
    rl.prompt();
  }
}
