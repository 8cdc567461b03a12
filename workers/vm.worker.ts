/**
 * The VM worker: one hvm machine (the `virt` board) per worker. This is the only file
 * that knows it runs in a Web Worker: it exposes `VmWorkerApi` over comlink, fetches
 * the image, allocates guest RAM (a SharedArrayBuffer when the page is cross-origin
 * isolated) and gives the host-agnostic MachineRunner its event loop.
 */
import * as Comlink from 'comlink';
import { VirtMachine, type VirtOptions } from '../src/core/board/virt';
import { VIRT_DRAM_DEFAULT_SIZE } from '../src/core/board/memoryMap';
import { MachineRunner, type RunnerHost } from '../src/web/machineRunner';
import {
  VM_PROTOCOL_VERSION,
  type BootConfig,
  type BootResult,
  type MachineStats,
  type VmEvent,
  type VmEventSink,
  type VmWorkerApi,
} from '../src/web/protocol';

/**
 * Macrotasks without setTimeout's clamping: a MessageChannel posts to itself, so the
 * slice loop yields to comlink's messages between slices yet loses no time.
 */
function createHost(): RunnerHost {
  const channel = new MessageChannel();
  const tasks: Array<() => void> = [];
  channel.port1.onmessage = () => tasks.shift()?.();
  return {
    now: () => performance.now(),
    queueTask(task) {
      tasks.push(task);
      channel.port2.postMessage(0);
    },
    setTimer(task, ms) {
      const id = setTimeout(task, ms);
      return () => clearTimeout(id);
    },
  };
}

async function fetchImage(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  const name = new URL(url).pathname.split('/').pop() ?? url;
  if (res.status === 404) throw new Error(`${name}: not found on the server (${url})`);
  if (!res.ok) throw new Error(`${name}: the server answered ${res.status} ${res.statusText}`.trim());
  // Single-page-app hosts (vite preview among them) answer unknown paths with index.html.
  if (res.headers.get('Content-Type')?.startsWith('text/html')) {
    throw new Error(`${name}: not found on the server (it answered with a web page)`);
  }
  return new Uint8Array(await res.arrayBuffer());
}

class VmWorker implements VmWorkerApi {
  readonly protocolVersion = VM_PROTOCOL_VERSION;
  private runner: MachineRunner | null = null;
  private ram: SharedArrayBuffer | null = null;

  async boot(config: BootConfig, sink: VmEventSink): Promise<BootResult> {
    if (this.runner) return { ok: false, error: 'this worker already runs a machine' };
    let kernel: Uint8Array;
    try {
      kernel = config.image.kind === 'url' ? await fetchImage(config.image.url) : config.image.bytes;
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    const memSize = config.memSize ?? VIRT_DRAM_DEFAULT_SIZE;
    const sharedMemory = self.crossOriginIsolated && typeof SharedArrayBuffer === 'function';
    // Events cross to the page in order; console bytes are transferred, not copied.
    const emit = (event: VmEvent): void => {
      void (event.type === 'console' ? sink(Comlink.transfer(event, [event.bytes.buffer])) : sink(event));
    };
    let entry = 0;
    try {
      this.runner = new MachineRunner({
        host: createHost(),
        emit,
        sharedMemory,
        createMachine: (onConsole) => {
          // Every (re)boot gets fresh zeroed RAM, as a power cycle would.
          this.ram = sharedMemory ? new SharedArrayBuffer(memSize) : null;
          const options: VirtOptions = {
            kernel,
            memSize,
            onConsole,
            ...(this.ram ? { ramBuffer: this.ram } : {}),
            ...(config.icountShift !== undefined ? { icountShift: config.icountShift } : {}),
            ...(config.bootargs !== undefined ? { bootargs: config.bootargs } : {}),
          };
          const machine = new VirtMachine(options);
          entry = machine.image.entry;
          return machine;
        },
      });
    } catch (e) {
      // The loader's ImageError (or a RangeError from the board) says what is wrong.
      return { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    return { ok: true, info: { entry, imageBytes: kernel.length, memSize, sharedMemory } };
  }

  sendInput(bytes: Uint8Array): void {
    this.runner?.sendInput(bytes);
  }

  pause(): MachineStats {
    this.booted().pause();
    return this.stats();
  }

  resume(): MachineStats {
    this.booted().resume();
    return this.stats();
  }

  reset(): MachineStats {
    this.booted().reset('user');
    return this.stats();
  }

  stats(): MachineStats {
    return this.booted().stats();
  }

  private booted(): MachineRunner {
    if (!this.runner) throw new Error('no machine booted');
    return this.runner;
  }

  sharedRam(): SharedArrayBuffer | null {
    return this.ram;
  }
}

Comlink.expose(new VmWorker());
