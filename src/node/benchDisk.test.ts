/** The reader of the teaching OS's `disk bench` output that `npm run bench -- --disk` uses (bench/disk.ts). */
import { describe, expect, it } from 'vitest';
import { parseDiskBench } from '../../bench/disk';

describe('bench --disk: parseDiskBench', () => {
  it("reads the guest's timing lines", () => {
    const text = [
      'disk bench: xvda, the first 4096 KiB: sequential in 44 KiB requests, random 4 KiB x 512, 8 in flight; writes put back what was read',
      'timing: sequential read 4096 KiB: 0.007 s, 536.9 MB/s, 12034 IOPS',
      'timing: sequential write 4096 KiB (and a flush): 0.033 s, 127.2 MB/s, 2850 IOPS\r',
      'timing: random read 4 KiB: 0.014 s, 141.1 MB/s, 34472 IOPS',
      'timing: random write 4 KiB: 0.021 s, 98.3 MB/s, 24009 IOPS',
      'timing: disk bench: 2189 requests, 275 notifications sent, 275 events received',
      'diskbench$ ',
    ].join('\n');
    expect(parseDiskBench(text)).toEqual({
      seqRead: { mbPerSecond: 536.9, iops: 12034 },
      seqWrite: { mbPerSecond: 127.2, iops: 2850 },
      randRead4k: { mbPerSecond: 141.1, iops: 34472 },
      randWrite4k: { mbPerSecond: 98.3, iops: 24009 },
      requests: 2189,
      notificationsSent: 275,
      eventsReceived: 275,
    });
  });

  it('a read-only disk: reads only', () => {
    const r = parseDiskBench(
      'timing: sequential read 64 KiB: 0.001 s, 65.5 MB/s, 1489 IOPS\ntiming: disk bench: 530 requests, 70 notifications sent, 70 events received\n',
    );
    expect(r.seqRead).toEqual({ mbPerSecond: 65.5, iops: 1489 });
    expect(r.seqWrite).toBeUndefined();
    expect(r.requests).toBe(530);
  });
});
