/**
 * The page's end of the control plane, over a real comlink channel (a MessageChannel in
 * Node) to fake factories: the protocol version is checked before anything starts, and
 * every method of the API crosses.
 */
import * as Comlink from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { HV_API_METHOD_NAMES, type HypervisorApi, type HypervisorFactory, type HvSink } from '../protocol/hvProtocol';
import { HV_PROTOCOL_VERSION } from '../protocol/version';
import { checkProtocolVersion, connectHypervisor, localPort } from './hypervisorClient';

const SETTINGS = { pcpus: 2, memoryMiB: 64, scheduler: 'credit' } as const;
const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

/** An API whose every method records its name and arguments and answers with its name. */
function recordingApi(calls: [string, unknown[]][]): HypervisorApi {
  const api: Record<string, unknown> = {};
  for (const name of HV_API_METHOD_NAMES) {
    api[name] = (...args: unknown[]) => {
      calls.push([name, args]);
      if (name === 'attach') (args[1] as HvSink)([{ type: 'log', lines: ['hello'] }]);
      return name;
    };
  }
  return api as unknown as HypervisorApi;
}

/** Expose a factory on one end of a channel; returns the other end. */
function serve(factory: object): MessagePort {
  const channel = new MessageChannel();
  channels.push(channel);
  Comlink.expose(factory, channel.port1);
  return channel.port2;
}

describe('protocol version', () => {
  it('accepts its own version', () => {
    expect(() => checkProtocolVersion(HV_PROTOCOL_VERSION)).not.toThrow();
  });

  it('refuses another version, or none, in one line that says what to do', () => {
    for (const reported of [HV_PROTOCOL_VERSION - 1, HV_PROTOCOL_VERSION + 1, undefined, '2']) {
      let message = '';
      try {
        checkProtocolVersion(reported);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/^the hypervisor worker speaks .* but this page speaks version \d+: .*reload the page$/);
      expect(message).not.toContain('\n');
    }
  });

  it('a stale worker is refused before a hypervisor starts in it', async () => {
    let started = false;
    const stale = {
      protocolVersion: HV_PROTOCOL_VERSION - 1,
      start: () => {
        started = true;
        return Comlink.proxy({});
      },
    };
    await expect(connectHypervisor(serve(stale) as unknown as Comlink.Endpoint, SETTINGS)).rejects.toThrow(
      `speaks protocol version ${HV_PROTOCOL_VERSION - 1} but this page speaks version ${HV_PROTOCOL_VERSION}`,
    );
    expect(started).toBe(false);
  });

  it('a worker from before versions were reported is refused too', async () => {
    const older = { start: () => Comlink.proxy({}) };
    await expect(connectHypervisor(serve(older) as unknown as Comlink.Endpoint, SETTINGS)).rejects.toThrow('speaks no protocol version');
  });
});

describe('method list', () => {
  it('every method of the API crosses the worker boundary, the sink too', async () => {
    const calls: [string, unknown[]][] = [];
    const factory: HypervisorFactory = { protocolVersion: HV_PROTOCOL_VERSION, start: () => Comlink.proxy(recordingApi(calls)) };
    const port = await connectHypervisor(serve(factory), SETTINGS);
    const heard: unknown[] = [];
    for (const name of HV_API_METHOD_NAMES) {
      const call = port[name] as (...a: unknown[]) => Promise<unknown>;
      const answer = name === 'attach' ? await call({ guestBaseUrl: '/', catalog: [] }, (events: unknown) => heard.push(events)) : await call(7, 'x');
      expect(answer).toBe(name);
    }
    expect(calls.map(([n]) => n)).toEqual([...HV_API_METHOD_NAMES]);
    expect(calls.find(([n]) => n === 'destroy')?.[1]).toEqual([7, 'x']);
    await expect.poll(() => heard).toEqual([[{ type: 'log', lines: ['hello'] }]]);
  });

  it('localPort forwards the same list to an in-thread service', async () => {
    const calls: [string, unknown[]][] = [];
    const port = localPort(recordingApi(calls));
    expect(Object.keys(port).sort()).toEqual([...HV_API_METHOD_NAMES].sort());
    expect(await port.list()).toBe('list');
  });

  it('a list that lacks a method of the type, or names one it does not have, does not compile', () => {
    // @ts-expect-error `memoryMap` is missing
    const lacking = { attach: true } as const satisfies { readonly [K in keyof Pick<HypervisorApi, 'attach' | 'memoryMap'>]: true };
    // @ts-expect-error `teleport` is not a method of HypervisorApi
    const extra = { attach: true, teleport: true } as const satisfies { readonly [K in keyof Pick<HypervisorApi, 'attach'>]: true };
    expect([lacking, extra]).toHaveLength(2);
  });
});
