/**
 * The browser's Domain-0 prompt waits for commands that finish later (ping, tcpdump):
 * their every line and their status come back, as at `hyperlab host`'s prompt.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ensureBundleSync } from '../../node/testBundle';
import { nodeVcpuHost } from '../../node/vcpuHost';
import { HypervisorService } from './hypervisorService';
import { MemoryDirectory } from './opfsDir';

let svc: HypervisorService | undefined;
afterEach(() => svc?.close());

describe("Domain-0's prompt in the hypervisor service", () => {
  it('ping to an address nobody has: every line, the statistics and a failed status', async () => {
    const s = new HypervisorService({
      host: nodeVcpuHost(ensureBundleSync()),
      memoryMiB: 32,
      pcpus: 1,
      fetchGuest: () => Promise.reject(new Error('no guests here')),
      diskDirectory: () => Promise.resolve(new MemoryDirectory(1 << 20)),
    });
    svc = s;
    s.attach({ guestBaseUrl: 'unused/', catalog: [] }, () => {});
    const r = await s.xl('ping -c 2 -i 0.05 -W 0.1 10.0.0.77');
    expect(r.output).toMatch(/^PING 10\.0\.0\.77/);
    expect(r.output.match(/Destination Host Unreachable/g)).toHaveLength(2);
    expect(r.output).toContain('--- 10.0.0.77 ping statistics ---');
    expect(r.status).toBe(1);
  });
});
