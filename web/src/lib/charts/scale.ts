// Pure helpers of the SVG charts: unit formatting (bits per second, dBm), "nice" value ticks and time ticks.

export type ChartUnit = 'bps' | 'dBm' | '%';

const BPS_UNITS = ['bps', 'kbps', 'Mbps', 'Gbps', 'Tbps'] as const;

/** 0 bps, 950 bps, 1.2 kbps, 12.5 Mbps, 125 Mbps, 1.25 Gbps: three significant digits at most, SI (1000). */
export function formatBps(bps: number | null | undefined): string {
  if (bps === null || bps === undefined || !Number.isFinite(bps)) return '—';
  let v = Math.abs(bps);
  let i = 0;
  while (v >= 1000 && i < BPS_UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  let text = v.toFixed(digits);
  // 999.96 kbps rounds to "1000.0": carry into the next unit.
  if (Number(text) >= 1000 && i < BPS_UNITS.length - 1) {
    i++;
    text = (Number(text) / 1000).toFixed(2);
  }
  text = text.includes('.') ? text.replace(/\.?0+$/, '') : text;
  return `${bps < 0 ? '-' : ''}${text} ${BPS_UNITS[i]}`;
}

export function formatDbm(dbm: number | null | undefined): string {
  if (dbm === null || dbm === undefined || !Number.isFinite(dbm)) return '—';
  return `${Math.round(dbm)} dBm`;
}

export function formatValue(v: number | null | undefined, unit: ChartUnit): string {
  if (unit === 'bps') return formatBps(v);
  if (unit === 'dBm') return formatDbm(v);
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : `${Math.round(v)}%`;
}

/** A step of 1, 2 or 5 × 10^n (×1000^k for bits, so axis labels stay round in kbps/Mbps) near span/count. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || count < 1) return 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/** The y domain and ticks for values: bits start at zero; dBm gets a 10-dB-aligned band around the data. */
export function valueAxis(
  values: number[],
  unit: ChartUnit,
  count = 4,
): { min: number; max: number; ticks: number[] } {
  const finite = values.filter(Number.isFinite);
  let lo: number;
  let hi: number;
  if (unit === 'dBm') {
    lo = finite.length ? Math.floor((Math.min(...finite) - 2) / 10) * 10 : -90;
    hi = finite.length ? Math.ceil((Math.max(...finite) + 2) / 10) * 10 : -30;
    hi = Math.min(hi, 0);
    if (hi - lo < 20) lo = hi - 20;
  } else if (unit === '%') {
    lo = 0;
    hi = 100;
  } else {
    lo = 0;
    hi = finite.length ? Math.max(...finite) : 0;
    if (!(hi > 0)) hi = 1000;
  }
  const step = niceStep(hi - lo, count);
  const min = Math.floor(lo / step) * step;
  const max = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let v = min; v <= max + step / 2; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return { min, max: max > min ? max : min + step, ticks };
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const TIME_STEPS = [
  MIN,
  5 * MIN,
  10 * MIN,
  15 * MIN,
  30 * MIN,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
];

/** Time ticks at round local times (every 10 min, 6 h, 1 day, …), about `count` of them across [from, to]. */
export function timeTicks(from: number, to: number, count = 6): { step: number; ticks: number[] } {
  const span = Math.max(1, to - from);
  const step = TIME_STEPS.find((s) => span / s <= count) ?? 30 * DAY;
  // Align to local midnight for day steps, to the local hour grid otherwise.
  const offset = new Date(from).getTimezoneOffset() * MIN;
  const first = Math.ceil((from - offset) / step) * step + offset;
  const ticks: number[] = [];
  for (let t = first; t <= to; t += step) ticks.push(t);
  return { step, ticks };
}

const pad = (n: number) => String(n).padStart(2, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A tick label: the time of day for steps under a day, the date for longer ones (local time). */
export function formatTick(t: number, step: number): string {
  const d = new Date(t);
  if (step >= DAY) return `${d.getDate()} ${MONTHS[d.getMonth()]}`;
  if (d.getHours() === 0 && d.getMinutes() === 0) return `${d.getDate()} ${MONTHS[d.getMonth()]}`;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A tooltip's time: date and time to the second. */
export function formatInstant(t: number): string {
  const d = new Date(t);
  return `${d.getDate()} ${MONTHS[d.getMonth()]} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Human duration for uptimes: 3d 4h, 5h 12m, 42s. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}
