/**
 * A stand-in for window.hyperlab in Node tests of the labs and the runner: domains whose
 * consoles answer typed lines through a script, and statistics a test moves by hand. It
 * implements what the labs use; the rest throws, so a lab that reaches for more fails
 * loudly in its test.
 */
import type { DomainListing, DomainStats, HyperlabAutomation } from '../web/protocol/automationTypes';

/** What a fake domain answers to a typed line (without its Enter): text to print, and a change to its stats. */
export type Script = (line: string, d: FakeDomain) => string | undefined;

export interface FakeDomain {
  readonly id: number;
  readonly name: string;
  readonly type: 'pv' | 'hvm';
  console: string;
  stats: DomainStats;
}

function blankStats(id: number, name: string, type: 'pv' | 'hvm'): DomainStats {
  return {
    seq: 0,
    state: 'running',
    instret: 0,
    mips: 0,
    avgMips: 0,
    runMs: 0,
    uptimeMs: 0,
    poweroff: null,
    crash: null,
    resets: 0,
    sharedMemory: true,
    domid: id,
    name,
    type,
    xlState: 'running',
    cpuNs: 0,
    cpuPct: 0,
    memKiB: 16384,
    maxMemKiB: 16384,
    vcpus: 1,
    exits: {},
    evtchnSends: 0,
    weight: 256,
    cap: 0,
  };
}

export class FakeHyperlab {
  readonly domains = new Map<number, FakeDomain>();
  readonly destroyed: number[] = [];
  readonly xlLines: string[] = [];
  /** Domain-0's CPU time as host() reports it (a test moves it). */
  dom0CpuNs = 0;
  private next = 1;
  /** Called on every stats() read (a test moves time or counters here). */
  onStats: (d: FakeDomain) => void = (d) => {
    d.stats = { ...d.stats, seq: d.stats.seq + 1 };
  };

  constructor(
    private readonly script: Script,
    private readonly banner = (d: FakeDomain) => `${d.name}$ `,
  ) {}

  api(): HyperlabAutomation {
    const unsupported = (what: string) => () => {
      throw new Error(`the fake hyperlab has no ${what}`);
    };
    const get = (id: number): FakeDomain => {
      const d = this.domains.get(id);
      if (!d) throw new Error(`no domain with id ${id}`);
      return d;
    };
    const listing = (d: FakeDomain): DomainListing => ({
      id: d.id,
      name: d.name,
      type: d.type,
      origin: 'config',
      state: d.stats.state,
      xlState: d.stats.xlState,
      poweroff: null,
    });
    const api: Partial<HyperlabAutomation> = {
      version: 2,
      ready: async () => {},
      isolation: () => ({ isolated: true, via: 'headers', reason: null }),
      images: () => [],
      presets: () => [],
      host: () => ({ pcpus: 2, scheduler: 'credit', totalKiB: 262144, freeKiB: 131072, dom0CpuNs: this.dom0CpuNs }),
      domains: () => [...this.domains.values()].map(listing),
      machines: () => [...this.domains.values()].map(listing),
      create: async (spec) => {
        const config = typeof spec === 'string' ? `name = "${spec}"` : (spec.config ?? '');
        const name = /name = "([^"]+)"/.exec(config)?.[1] ?? 'fake';
        const type = /type = "hvm"/.test(config) ? 'hvm' : 'pv';
        const id = this.next++;
        const d: FakeDomain = { id, name, type, console: '', stats: blankStats(id, name, type) };
        d.console = this.banner(d);
        this.domains.set(id, d);
        return id;
      },
      boot: unsupported('boot'),
      consoleText: (id) => get(id).console,
      waitForText: unsupported('waitForText'),
      waitForPowerOff: unsupported('waitForPowerOff'),
      sendInput: async (id, text) => {
        const d = get(id);
        const line = String(text).replace(/[\r\n]+$/, '');
        d.console += `${line}\n`;
        const out = this.script(line, d);
        if (out !== undefined) d.console += out;
      },
      pause: async (id) => {
        const d = get(id);
        d.stats = { ...d.stats, state: 'paused', xlState: 'paused' };
        return d.stats;
      },
      unpause: unsupported('unpause'),
      resume: unsupported('resume'),
      shutdown: unsupported('shutdown'),
      reboot: unsupported('reboot'),
      reset: unsupported('reset'),
      destroy: async (id) => {
        get(id);
        this.domains.delete(id);
        this.destroyed.push(id);
      },
      stats: (id) => {
        const d = get(id);
        this.onStats(d);
        return d.stats;
      },
      setSchedParams: async (id, p) => {
        const d = get(id);
        d.stats = { ...d.stats, weight: p.weight ?? d.stats.weight, cap: p.cap ?? d.stats.cap };
        return d.stats;
      },
      pinVcpu: async (id) => get(id).stats,
      xl: async (line) => {
        this.xlLines.push(line);
        return '';
      },
      inspect: unsupported('inspect'),
      memoryMap: unsupported('memoryMap'),
      history: () => [],
      slices: () => ({ nowMs: 0, slices: [] }),
      vbds: unsupported('vbds'),
      virtioDisks: unsupported('virtioDisks'),
      disks: {
        list: unsupported('disks.list'),
        create: unsupported('disks.create'),
        upload: unsupported('disks.upload'),
        download: unsupported('disks.download'),
        remove: unsupported('disks.remove'),
        check: unsupported('disks.check'),
        attach: unsupported('disks.attach'),
      },
    };
    // Members added to window.hyperlab later (save, restore...) throw as the ones above do.
    return new Proxy(api as HyperlabAutomation, {
      get: (target, key) =>
        key in target || typeof key === 'symbol' || key === 'then' ? (target as unknown as Record<string | symbol, unknown>)[key] : unsupported(key),
    });
  }
}
