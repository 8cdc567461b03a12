/** How the comparison page writes its figures (binary units for bytes, as the guest does). */
import type { Workload } from '../../web/page/compareMeter';

const fixed = (digits: number): Intl.NumberFormat => new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const int = new Intl.NumberFormat('en-US');
const d1 = fixed(1);
const d2 = fixed(2);

export function bytes(n: number): string {
  if (n >= 1 << 20) return `${d2.format(n / (1 << 20))} MiB`;
  if (n >= 1024) return `${d1.format(n / 1024)} KiB`;
  return `${int.format(n)} B`;
}

export function rate(bytesPerSecond: number): string {
  return `${bytes(bytesPerSecond)}/s`;
}

export function seconds(ms: number): string {
  return ms < 10_000 ? `${fixed(3).format(ms / 1000)} s` : `${d1.format(ms / 1000)} s`;
}

export function count(n: number): string {
  return int.format(Math.round(n));
}

export function perKiB(n: number | null): string {
  return n === null ? '–' : n >= 100 ? int.format(Math.round(n)) : d2.format(n);
}

export function mips(instructionsPerSecond: number): string {
  return `${d1.format(instructionsPerSecond / 1e6)} MIPS`;
}

export function times(r: number | null): string {
  return r === null ? '–' : `×${r >= 10 ? int.format(Math.round(r)) : d1.format(r)}`;
}

export function workloadLabel(w: Workload): string {
  return w.kind === 'write' ? `write ${bytes(w.bytes)}` : `burn ${w.millions} million`;
}
