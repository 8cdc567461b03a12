/** What a vCPU worker is started with (vcpuHost.ts, vcpuWorker.ts): its boot record, or this marker for a spare that waits for one. */
export const SPARE_WORKER = { spare: true } as const;

export function isSpare(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { spare?: unknown }).spare === true;
}
