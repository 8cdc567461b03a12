/**
 * The page's state: a zustand store that knows nothing about React. It is a projection
 * of the Lab's events (domains and their xentop rows, the host) plus what only the page
 * has (the guest catalog, isolation, the last error of a create or a control, which
 * console to bring forward). Views read it; its actions call the Lab, which stays the
 * source of truth.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { GuestFile, HostRow, PresetInfo, Result } from '../web/protocol/hvProtocol';
import type { IsolationStatus } from '../web/page/isolation';
import type { DomainView, Lab, LabPhase } from '../web/page/lab';
import type { StatsHistory } from '../web/page/statsHistory';

export type CatalogState =
  { readonly status: 'loading' } | { readonly status: 'ready'; readonly guests: readonly GuestFile[] } | { readonly status: 'error'; readonly error: string };

/** Where a create was asked from: its error is shown there. */
export type CreateSource = 'preset' | 'editor' | 'upload';

export interface CreateState {
  readonly pending: number;
  readonly error: { readonly source: CreateSource; readonly message: string; readonly line: number | null } | null;
}

export interface LabActions {
  /** Each create resolves with the new domid, or null (the error is in `create`). */
  createPreset(name: string): Promise<number | null>;
  createConfig(text: string, image?: { name: string; bytes: Uint8Array }): Promise<number | null>;
  createUpload(name: string, bytes: Uint8Array, type: 'pv' | 'hvm'): Promise<number | null>;
  pause(domid: number): void;
  unpause(domid: number): void;
  shutdown(domid: number): void;
  reboot(domid: number): void;
  destroy(domid: number): void;
  setCatalog(catalog: CatalogState): void;
  /** Show a create error that never reached the worker (a file too large, say). */
  reportCreateError(source: CreateSource, message: string): void;
  clearCreateError(): void;
  /** Bring a domain's console forward and give it the keyboard (`xl console`). */
  focusConsole(domid: number): void;
  /** `xl sched-credit` and `xl vcpu-pin`: resolve with the refusal, or null when done. */
  setSchedParams(domid: number, params: { weight?: number; cap?: number }): Promise<string | null>;
  pinVcpu(domid: number, vcpu: number, cpus: string): Promise<string | null>;
}

export interface LabState {
  readonly isolation: IsolationStatus;
  readonly phase: LabPhase;
  readonly host: HostRow | null;
  readonly presets: readonly PresetInfo[];
  readonly catalog: CatalogState;
  /** Domains in domid order (Domain-0 is not one of them). */
  readonly domains: readonly DomainView[];
  readonly create: CreateState;
  /** What the last control said (a refusal, or what a request to a guest means), next to the domain list. */
  readonly controlMessage: { readonly domid: number; readonly message: string; readonly error: boolean } | null;
  /** The console to bring forward; `nonce` makes asking twice work. */
  readonly focus: { readonly domid: number; readonly nonce: number } | null;
  /**
   * The graphs' and the scheduler view's data: mutable (see statsHistory.ts), one object
   * for the store's life; `historyVersion` changes with every report, so a view that
   * selects it re-renders ~10 times a second, and only such views do.
   */
  readonly history: StatsHistory;
  readonly historyVersion: number;
  readonly actions: LabActions;
}

export type LabStore = StoreApi<LabState>;

export function createLabStore(lab: Lab, isolation: IsolationStatus): LabStore {
  return createStore<LabState>()((set, get) => {
    const created = (source: CreateSource, r: Result<DomainView>): number | null => {
      set((s) => ({
        create: { pending: s.create.pending - 1, error: r.ok ? null : { source, message: r.error, line: r.line ?? null } },
      }));
      return r.ok ? r.value.domid : null;
    };
    const begin = (): void => set((s) => ({ create: { pending: s.create.pending + 1, error: null } }));
    const guard = async (source: CreateSource, op: () => Promise<Result<DomainView>>): Promise<number | null> => {
      begin();
      try {
        return created(source, await op());
      } catch (e) {
        return created(source, { ok: false, error: e instanceof Error ? e.message : String(e) });
      }
    };
    /** Run a control; a refusal (or `done`, said on success) is shown beside the list. */
    const control = (domid: number, op: () => Promise<Result<unknown>>, done?: () => string | null): void => {
      set({ controlMessage: null });
      op()
        .then((r) => {
          const message = r.ok ? done?.() : r.error;
          if (message) set({ controlMessage: { domid, message, error: !r.ok } });
        })
        .catch((e: unknown) => set({ controlMessage: { domid, message: e instanceof Error ? e.message : String(e), error: true } }));
    };
    /** pv guests are asked through xenstore; say so, since a guest may not listen. */
    const asked = (domid: number, what: string) => (): string | null => {
      const d = get().domains.find((x) => x.domid === domid);
      return d && d.type === 'pv' && d.row.shutdown === null
        ? `asked ${d.name} to ${what} (control/shutdown in xenstore): the guest acts on it if it watches that node`
        : null;
    };

    const actions: LabActions = {
      createPreset: (name) => guard('preset', () => lab.create({ preset: name, uniqueName: true }, 'catalog')),
      createConfig: (text, image) => guard('editor', () => lab.create({ config: text, ...(image ? { image } : {}) }, 'config')),
      createUpload: (name, bytes, type) => guard('upload', () => lab.create({ image: { name, bytes }, type, uniqueName: true }, 'upload')),
      pause: (domid) => control(domid, () => lab.pause(domid)),
      unpause: (domid) => control(domid, () => lab.unpause(domid)),
      shutdown: (domid) => control(domid, () => lab.shutdown(domid), asked(domid, 'power off')),
      reboot: (domid) => control(domid, () => lab.reboot(domid), asked(domid, 'reboot')),
      destroy: (domid) => {
        if (get().domains.some((d) => d.domid === domid)) control(domid, () => lab.destroy(domid));
      },
      setCatalog: (catalog) => set({ catalog }),
      reportCreateError: (source, message) => set((s) => ({ create: { ...s.create, error: { source, message, line: null } } })),
      clearCreateError: () => set((s) => (s.create.error ? { create: { ...s.create, error: null } } : s)),
      focusConsole: (domid) => set((s) => ({ focus: { domid, nonce: (s.focus?.nonce ?? 0) + 1 } })),
      setSchedParams: (domid, params) => refusal(() => lab.setSchedParams(domid, params)),
      pinVcpu: (domid, vcpu, cpus) => refusal(() => lab.pinVcpu(domid, vcpu, cpus)),
    };

    const refusal = async (op: () => Promise<Result<unknown>>): Promise<string | null> => {
      try {
        const r = await op();
        return r.ok ? null : r.error;
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
    };
    const history = lab.history;
    lab.on('report', () => set({ historyVersion: history.version }));

    const sync = (): void => set({ domains: lab.domains(), host: lab.host, phase: lab.phase, presets: lab.presets });
    lab.on('domain-added', sync);
    lab.on('domain-removed', sync);
    lab.on('rows', sync);
    lab.on('restarted', ({ from, to }) => {
      if (get().focus?.domid === from) actions.focusConsole(to);
    });

    return {
      isolation,
      phase: lab.phase,
      host: null,
      presets: [],
      catalog: { status: 'loading' },
      domains: [],
      create: { pending: 0, error: null },
      controlMessage: null,
      focus: null,
      history,
      historyVersion: 0,
      actions,
    };
  });
}
