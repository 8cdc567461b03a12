/**
 * window.hyperlab: a small typed API for scripts, tests and benchmarks that drive the
 * page (Playwright's page.evaluate, the devtools console). docs/automation.md is its
 * manual; automationTypes.ts has its types. Every method works on the same Lab the UI
 * shows. Domain ids are domids; id 0 is Domain-0's console (text and input only).
 */
import type { CreateOptions, DomainStats, HyperlabAutomation, PowerOff, RunState } from '../protocol/automationTypes';
import type { Dom0Shell } from './dom0Shell';
import type { DomainState, GuestFile, Result } from '../protocol/hvProtocol';
import type { IsolationStatus } from './isolation';
import type { DomainView, Lab } from './lab';

export type * from '../protocol/automationTypes';

export const AUTOMATION_VERSION = 2;

export interface AutomationContext {
  readonly lab: Lab;
  readonly shell: Dom0Shell;
  readonly ready: Promise<void>;
  readonly isolation: () => IsolationStatus;
  readonly catalog: () => readonly GuestFile[];
}

const DEFAULT_TIMEOUT_MS = 10_000;
const RUN_STATE: Record<DomainState, RunState> = {
  running: 'running',
  blocked: 'waiting',
  paused: 'paused',
  shutdown: 'off',
  crashed: 'crashed',
  dying: 'off',
};

function toBytes(image: Uint8Array | ArrayBuffer | readonly number[]): Uint8Array {
  if (image instanceof Uint8Array) return image;
  if (image instanceof ArrayBuffer) return new Uint8Array(image);
  return Uint8Array.from(image);
}

function tail(text: string, n = 200): string {
  return JSON.stringify(text.length > n ? `…${text.slice(-n)}` : text);
}

function poweroffOf(v: DomainView): PowerOff | null {
  const s = v.row.shutdown;
  if (s?.reason !== 'poweroff') return null;
  const fail = /^FAIL (\d+)/.exec(s.detail);
  return fail ? { kind: 'fail', code: Number(fail[1]) } : { kind: 'pass', code: 0 };
}

export function statsOf(v: DomainView): DomainStats {
  const r = v.row;
  return {
    seq: r.seq,
    state: RUN_STATE[r.state],
    instret: r.instret,
    mips: r.mips,
    avgMips: r.cpuNs > 0 ? r.instret / (r.cpuNs / 1000) : 0,
    runMs: r.cpuNs / 1e6,
    uptimeMs: r.uptimeMs,
    poweroff: poweroffOf(v),
    crash: r.shutdown?.reason === 'crash' ? r.shutdown.detail : null,
    resets: r.restarts,
    sharedMemory: true,
    domid: r.domid,
    name: r.name,
    type: r.type,
    xlState: r.state,
    cpuNs: r.cpuNs,
    cpuPct: r.cpuPct,
    memKiB: r.memKiB,
    maxMemKiB: r.maxMemKiB,
    vcpus: r.vcpus.length,
    exits: r.exits,
    evtchnSends: r.evtchnSends,
    weight: r.weight,
    cap: r.cap,
  };
}

const CREATE_KEYS: readonly string[] = ['config', 'preset', 'image', 'name', 'type', 'memory'] satisfies readonly (keyof CreateOptions)[];
const CREATE_USAGE = 'create takes a preset name, xl.cfg text or { config, preset, image, name, type, memory }';

/**
 * What `create` was given, as options: a string is a preset's name or config text. Only
 * the shape is checked here, in one line; the values (a name of at most 64 characters
 * without '/', a whole number of MiB, pv or hvm...) get the checks of an xl.cfg file in
 * the worker, as every create does (worker/createRequest.ts).
 */
export function createOptionsOf(spec: unknown, isPreset: (name: string) => boolean): CreateOptions {
  if (typeof spec === 'string') return isPreset(spec) ? { preset: spec } : { config: spec };
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new Error(`${CREATE_USAGE}, not ${spec === null ? 'null' : Array.isArray(spec) ? 'an array' : typeof spec}`);
  }
  const unknown = Object.keys(spec).find((k) => !CREATE_KEYS.includes(k));
  if (unknown !== undefined) throw new Error(`${CREATE_USAGE}: there is no option "${unknown.length > 40 ? `${unknown.slice(0, 40)}...` : unknown}"`);
  const image: unknown = (spec as CreateOptions).image;
  if (
    image !== undefined &&
    !(image instanceof Uint8Array || image instanceof ArrayBuffer || (Array.isArray(image) && image.every((b) => Number.isInteger(b))))
  ) {
    throw new Error('image must be a Uint8Array, an ArrayBuffer or an array of bytes');
  }
  return spec;
}

/** The value of a Result, or an Error whose message names the config line. */
function unwrap<T>(r: Result<T>): T {
  if (r.ok) return r.value;
  throw new Error(r.line !== undefined && !r.error.startsWith('line ') ? `line ${r.line}: ${r.error}` : r.error);
}

export function createAutomation(ctx: AutomationContext): HyperlabAutomation {
  const { lab, shell } = ctx;
  const text = (id: number): string => (id === 0 ? shell.log.bootText() : lab.console(id).bootText());

  /**
   * Re-check `test` whenever the lab hears anything, until it settles or time runs out.
   * `id` names the domain waited on (0: Domain-0's console).
   */
  function watch<T>(id: number, timeoutMs: number, what: string, test: () => T | undefined | Error): Promise<T> {
    if (id !== 0) lab.domain(id); // throws for an unknown id
    return new Promise<T>((resolve, reject) => {
      const unsubscribers = [
        lab.on('console', (e) => e.domid === id && check()),
        lab.on('rows', () => check()),
        lab.on('domain-added', () => check()),
        lab.on('domain-removed', (e) => e.domid === id && settle(new Error(`domain ${id} was destroyed while waiting for ${what}`))),
        ...(id === 0 ? [shell.onOutput(() => check())] : []),
      ];
      const timer = setTimeout(() => {
        const state = id === 0 ? 'running' : lab.has(id) ? lab.domain(id).row.state : 'gone';
        settle(new Error(`timed out after ${timeoutMs} ms waiting for ${what} on domain ${id} (${state}); console ends ${tail(text(id))}`));
      }, timeoutMs);
      function settle(result: T | Error): void {
        clearTimeout(timer);
        for (const u of unsubscribers) u();
        if (result instanceof Error) reject(result);
        else resolve(result);
      }
      function check(): void {
        const r = test();
        if (r !== undefined) settle(r);
      }
      check();
    });
  }

  async function create(spec: string | CreateOptions): Promise<number> {
    const o = createOptionsOf(spec, (name) => lab.presets.some((p) => p.name === name));
    const image = o.image !== undefined ? { name: o.name ?? 'upload', bytes: toBytes(o.image) } : undefined;
    const origin = o.config !== undefined ? 'config' : o.preset !== undefined ? 'catalog' : 'upload';
    const r = await lab.create(
      {
        ...(o.config !== undefined ? { config: o.config } : {}),
        ...(o.preset !== undefined ? { preset: o.preset, uniqueName: o.name === undefined } : {}),
        ...(image ? { image } : {}),
        ...(o.name !== undefined ? { name: o.name } : {}),
        ...(o.type !== undefined ? { type: o.type } : {}),
        ...(o.memory !== undefined ? { memory: o.memory } : {}),
      },
      origin,
    );
    return unwrap(r).domid;
  }

  const stats = (id: number): DomainStats => statsOf(lab.domain(id));
  const listing = (): ReturnType<HyperlabAutomation['domains']> =>
    lab.domains().map((v) => ({
      id: v.domid,
      name: v.name,
      type: v.type,
      origin: v.origin,
      state: RUN_STATE[v.row.state],
      xlState: v.row.state,
      poweroff: poweroffOf(v),
    }));

  return {
    version: AUTOMATION_VERSION,
    ready: () => ctx.ready,
    isolation: ctx.isolation,
    images: () => ctx.catalog().map((g) => g.name),
    presets: () => lab.presets.map((p) => p.name),
    host: () => lab.host,
    domains: listing,
    machines: listing,
    create,
    async boot(image, options) {
      if (options === undefined || options === null) options = {};
      if (typeof options !== 'object') throw new Error('boot options must be { name, memSize, type }');
      const memory = options.memSize !== undefined ? Math.max(4, Math.round(options.memSize / (1 << 20))) : undefined;
      const common = {
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(memory !== undefined ? { memory } : {}),
        ...(options.type ? { type: options.type } : {}),
      };
      if (typeof image !== 'string') return create({ image: toBytes(image), ...common });
      const base = image.endsWith('.elf') ? image.slice(0, -4) : image;
      if (!lab.presets.some((p) => p.name === base))
        throw new Error(
          `${base}.elf: not found on the server (images: ${ctx
            .catalog()
            .map((g) => g.name)
            .join(', ')})`,
        );
      return create({ preset: base, ...common });
    },
    consoleText: (id) => text(id),
    waitForText(id, wanted, timeoutMs = DEFAULT_TIMEOUT_MS) {
      return watch(id, timeoutMs, JSON.stringify(wanted), () => {
        const out = text(id);
        if (out.includes(wanted)) return out;
        const state = id === 0 ? 'running' : lab.domain(id).row.state;
        if (state === 'shutdown' || state === 'crashed')
          return new Error(`domain ${id} is ${state} and never printed ${JSON.stringify(wanted)}; console ends ${tail(out)}`);
        return undefined;
      });
    },
    waitForPowerOff(id, timeoutMs = DEFAULT_TIMEOUT_MS) {
      return watch(id, timeoutMs, 'power-off', () => {
        const v = lab.domain(id);
        const p = poweroffOf(v);
        if (p) return p;
        if (v.row.state === 'crashed') return new Error(`domain ${id} crashed: ${v.row.shutdown?.detail ?? ''}`);
        return undefined;
      });
    },
    async sendInput(id, input) {
      const data = typeof input === 'string' ? input : new TextDecoder().decode(Uint8Array.from(input));
      if (id === 0) shell.input(data);
      else unwrap(await lab.sendInput(id, typeof input === 'string' ? input : Uint8Array.from(input)));
    },
    pause: async (id) => (unwrap(await lab.pause(id)), stats(id)),
    unpause: async (id) => (unwrap(await lab.unpause(id)), stats(id)),
    resume: async (id) => (unwrap(await lab.unpause(id)), stats(id)),
    shutdown: async (id) => void unwrap(await lab.shutdown(id)),
    reboot: async (id) => unwrap(await lab.reboot(id)),
    async reset(id) {
      const next = unwrap(await lab.reboot(id));
      // A hard reset made a new domain: the page hears of it in the next batch.
      if (!lab.has(next)) await watch(0, DEFAULT_TIMEOUT_MS, `domain ${next}`, () => (lab.has(next) ? true : undefined));
      return stats(next);
    },
    destroy: async (id) => void unwrap(await lab.destroy(id)),
    stats,
    setSchedParams: async (id, params) => (unwrap(await lab.setSchedParams(id, params)), stats(id)),
    pinVcpu: async (id, vcpu, cpus) => (unwrap(await lab.pinVcpu(id, vcpu, cpus)), stats(id)),
    async xl(line) {
      return (await lab.xl(line)).output;
    },
    inspect: async (id) => unwrap(await lab.inspect(id)),
    memoryMap: () => lab.memoryMap(),
    history(id) {
      if (id === undefined) return [...lab.history.host];
      lab.domain(id); // throws for an unknown id
      return [...(lab.history.domains.get(id)?.samples ?? [])];
    },
    slices: () => ({ nowMs: lab.history.nowMs, slices: [...lab.history.slices] }),
    vbds: async (id) => unwrap(await lab.vbds(id)),
    virtioDisks: async (id) => unwrap(await lab.virtioDisks(id)),
    net: {
      view: async () => unwrap(await lab.net({ op: 'view' })),
      interfaces: async () => [...unwrap(await lab.net({ op: 'interfaces' }))],
      async counters(iface) {
        const { bridges } = unwrap(await lab.net({ op: 'view' }));
        const port = bridges.flatMap((b) => b.ports).find((p) => p.name === iface);
        if (!port) throw new Error(`no interface ${JSON.stringify(iface)}`);
        return port.counters;
      },
      packets: async (iface, after = 0) => unwrap(await lab.net({ op: 'packets', iface, after })),
      unwatch: async (iface) => void unwrap(await lab.net({ op: 'unwatch', iface })),
      captureStart: async (iface) => unwrap(await lab.net({ op: 'captureStart', iface })),
      captureStop: async (id) => unwrap(await lab.net({ op: 'captureStop', id })).bytes,
      files: async () => [...unwrap(await lab.net({ op: 'files' }))],
      file: async (name) => unwrap(await lab.net({ op: 'file', name })),
      removeFile: async (name) => void unwrap(await lab.net({ op: 'deleteFile', name })),
      links: async () => unwrap(await lab.net({ op: 'links' })),
      link: async (to = 'tabs', bridge = 'xenbr0') => unwrap(await lab.net({ op: 'link', bridge, to })),
      unlink: async (name = 'all') => void unwrap(await lab.net({ op: 'unlink', name })),
    },
    disks: {
      list: async () => unwrap(await lab.disks()),
      create: async (req) => unwrap(await lab.diskCreate(req)),
      upload: async (name, bytes) => unwrap(await lab.diskUpload(name, toBytes(bytes))),
      download: async (name) => unwrap(await lab.diskDownload(name)),
      remove: async (name) => void unwrap(await lab.diskDelete(name)),
      check: async () => unwrap(await lab.diskSelfCheck()),
      async attach(id, name, options = {}) {
        lab.domain(id); // throws for an unknown id
        const list = unwrap(await lab.disks());
        const image = list.images.find((i) => i.name === name);
        if (!image) throw new Error(`${name}: no such image in ${list.where}`);
        unwrap(await lab.diskAttach(id, name, image.format, options.vdev ?? 'xvdb', options.access ?? 'rw'));
      },
    },
    save: async (id, options = {}) => unwrap(await lab.saveDomain(id, options.checkpoint === true)).bytes,
    restore: async (bytes, options = {}) => unwrap(await lab.restoreDomain(toBytes(bytes), options)).row.domid,
    snapshots: {
      list: async () => unwrap(await lab.snapshots()),
      take: async (id, name) => unwrap(await lab.snapshotTake(id, name)),
      restore: async (name, options = {}) => unwrap(await lab.snapshotRestore(name, options)).row.domid,
      download: async (name) => unwrap(await lab.snapshotDownload(name)),
      remove: async (name) => void unwrap(await lab.snapshotDelete(name)),
    },
    jit: {
      stats: async (id) => unwrap(await lab.jit(id)),
      set: async (id, mode) => unwrap(await lab.jit(id, mode)),
      translations: async (id, vcpu) => unwrap(await lab.jitTranslations(id, vcpu)),
    },
    migrate: {
      peers: async () => unwrap(await lab.migrationPeers()),
      send: async (id, peer) => unwrap(await lab.migrateDomain(id, peer)),
      toHost: async (id, url) => unwrap(await lab.migrateToHost(id, url)),
      fromHost: async (url, dom) => unwrap(await lab.migrateFromHost(url, dom)).domid,
      notices: () => [...lab.migrations],
    },
  };
}
