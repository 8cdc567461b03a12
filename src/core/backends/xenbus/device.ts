/**
 * The backend's half of the XenbusState handshake (io/xenbus.h; the state diagrams of
 * io/blkif.h and io/netif.h), for one split device. The toolstack has written both xenstore
 * areas in Initialising; the backend publishes what the frontend needs to know (`publish`)
 * and goes InitWait, then follows the frontend's `state` node:
 *   Initialised or Connected (a frontend may skip Initialised): `connect` reads the
 *     frontend's ring refs and event channel, maps and binds them; then Connected;
 *   Closing: `disconnect`, go Closing; Closed (or the node gone): go Closed;
 *   Initialising after Closed: the frontend starts over (reconnect, restore): InitWait again.
 * `close` (detach) goes Closing and waits up to a grace period for the frontend to close;
 * `kill` (destroy, or the grace period over) tears down at once.
 *
 * Every step runs on one promise chain per device, so a watch firing while `connect` is
 * awaiting xenstore cannot interleave with it.
 */
import * as S from '../../xen/public/xenbus';
import type { BackendHost } from './host';

export interface XenbusPaths {
  domid: number;
  devid: number;
  backendPath: string;
  frontendPath: string;
}

export abstract class XenbusBackendDevice {
  state: number = S.XenbusStateInitialising;
  /** The frontend's state as last seen. */
  feState: number = S.XenbusStateUnknown;
  /** Set once the device is gone for good (detached or its domain destroyed). */
  gone = false;
  protected closing = false;
  private chain: Promise<void> = Promise.resolve();
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly token: string;
  /** Called once when the device is gone (the toolstack removes its xenstore areas then). */
  whenGone: (() => void) | undefined;

  constructor(
    protected readonly host: BackendHost,
    readonly paths: XenbusPaths,
    /** The driver's name in messages and watch tokens: 'netback', 'blkback'. */
    protected readonly driver: string,
    private readonly onGone: (d: XenbusBackendDevice) => void,
  ) {
    this.token = `${driver}/${paths.domid}/${paths.devid}`;
  }

  get domid(): number {
    return this.paths.domid;
  }

  get devid(): number {
    return this.paths.devid;
  }

  /** Write the backend's feature nodes (before InitWait). */
  protected abstract publish(): Promise<void>;
  /** Read the frontend's nodes, map and bind; return an error message, or undefined when connected. */
  protected abstract connect(): Promise<string | undefined>;
  /** Stop serving: unmap the rings, close the channel. Must be idempotent. */
  protected abstract disconnect(): void;
  /** The device is going for good (after disconnect): release what else it holds. */
  protected abstract release(): void;

  async start(): Promise<void> {
    await this.publish();
    await this.switchState(S.XenbusStateInitWait);
    await this.host.xs.watch(`${this.paths.frontendPath}/state`, this.token, () => this.queue(() => this.frontendChanged()));
  }

  /** Detach: go Closing and let the frontend close; after `graceMs` without it, tear down anyway. */
  close(graceMs = 5000): void {
    if (this.gone || this.closing) return;
    this.closing = true;
    if (this.state !== S.XenbusStateConnected) {
      this.kill();
      return;
    }
    this.queue(() => this.switchState(S.XenbusStateClosing));
    this.closeTimer = setTimeout(() => this.kill(), graceMs);
  }

  /** Tear down at once. */
  kill(): void {
    if (this.gone) return;
    this.gone = true;
    clearTimeout(this.closeTimer);
    this.disconnect();
    this.state = S.XenbusStateClosed;
    void this.host.xs.unwatch(`${this.paths.frontendPath}/state`, this.token).catch(() => {});
    this.release();
    this.onGone(this);
    this.whenGone?.();
  }

  protected log(line: string): void {
    this.host.dmesg(`${this.driver} ${this.domid}/${this.devid}: ${line}`);
  }

  protected queue(fn: () => Promise<void>): void {
    this.chain = this.chain.then(fn).catch((e: unknown) => this.log(String(e)));
  }

  protected async switchState(s: number): Promise<void> {
    if (this.gone) return;
    this.state = s;
    await this.host.xs.write(`${this.paths.backendPath}/state`, String(s));
  }

  protected async readFront(name: string): Promise<string | undefined> {
    try {
      return await this.host.xs.read(`${this.paths.frontendPath}/${name}`);
    } catch {
      return undefined;
    }
  }

  private async frontendChanged(): Promise<void> {
    if (this.gone) return;
    const text = await this.readFront('state');
    if (this.gone) return;
    const fe = text === undefined ? S.XenbusStateClosed : Number(text); // a removed frontend has closed
    this.feState = Number.isInteger(fe) && fe >= 0 && fe <= 8 ? fe : S.XenbusStateUnknown;
    switch (fe) {
      case S.XenbusStateInitialised:
      case S.XenbusStateConnected: {
        if (this.state !== S.XenbusStateInitWait || this.closing) return;
        const err = await this.connect();
        if (this.gone) return;
        if (err === undefined) {
          await this.switchState(S.XenbusStateConnected);
          this.connected();
          return;
        }
        this.log(err);
        await this.host.xs.write(`${this.paths.backendPath}/error`, err);
        await this.switchState(S.XenbusStateClosed);
        return;
      }
      case S.XenbusStateClosing:
        this.disconnect();
        if (this.state !== S.XenbusStateClosed) await this.switchState(S.XenbusStateClosing);
        return;
      case S.XenbusStateClosed:
      case S.XenbusStateUnknown:
        this.disconnect();
        await this.switchState(S.XenbusStateClosed);
        if (this.closing) this.kill();
        return;
      case S.XenbusStateInitialising:
        if (this.state === S.XenbusStateClosed && !this.closing) await this.switchState(S.XenbusStateInitWait);
        return;
      default:
        return;
    }
  }

  /** Called once Connected is published (serve what the frontend queued meanwhile). */
  protected connected(): void {}

  private serving = false;
  private serveAgain = false;

  /** One pass over the device's rings (blkback: the requests; netback: rx then tx). */
  protected abstract serveRings(): void;

  /** Whether a pass is running now (something it will see may be left for its next turn). */
  protected get inPass(): boolean {
    return this.serving;
  }

  /**
   * Serve the rings until a pass ends with nothing new. A call made during a pass (a
   * notification, or a frame coming back over the bridge at once) does not nest: it asks
   * for one more pass, as Xen's backends loop on RING_FINAL_CHECK_FOR_REQUESTS.
   */
  protected process(): void {
    if (this.serving) {
      this.serveAgain = true;
      return;
    }
    this.serving = true;
    try {
      do {
        this.serveAgain = false;
        this.serveRings();
      } while (this.serveAgain);
    } finally {
      this.serving = false;
    }
  }

  /** Ask the pass running now for another turn (call only while `inPass`). */
  protected passAgain(): void {
    this.serveAgain = true;
  }
}

/**
 * A backend driver's devices (Linux's xenbus_driver and its list of xenbus_device): one per
 * (domid, devid), made by `make` and started at once; a device that goes is forgotten.
 */
export class BackendDevices<D extends XenbusBackendDevice, Spec extends XenbusPaths> {
  private readonly devices = new Map<string, D>();

  constructor(
    /** What a device is called in a refusal: 'disk', 'vif'. */
    private readonly what: string,
    private readonly make: (spec: Spec, onGone: (d: D) => void) => D,
  ) {}

  /** Serve a device the toolstack has described in xenstore; `started` resolves once InitWait is published. */
  add(spec: Spec): { device: D; started: Promise<void> } {
    const key = `${spec.domid}/${spec.devid}`;
    if (this.devices.has(key)) throw new Error(`domain ${spec.domid} has a ${this.what} ${spec.devid} already`);
    const device = this.make(spec, (d) => {
      if (this.devices.get(key) === d) this.devices.delete(key);
    });
    this.devices.set(key, device);
    return { device, started: device.start() };
  }

  get(domid: number, devid: number): D | undefined {
    return this.devices.get(`${domid}/${devid}`);
  }

  ofDomain(domid: number): D[] {
    return [...this.devices.values()].filter((d) => d.domid === domid).sort((a, b) => a.devid - b.devid);
  }

  all(): D[] {
    return [...this.devices.values()];
  }

  /** The domain is gone: drop its devices at once (no handshake is possible any more). */
  domainGone(domid: number): void {
    for (const d of this.ofDomain(domid)) d.kill();
  }
}
