// The device page's time series: range choices and the query each makes (the API picks the resolution for
// the span, contracts' resolutionFor), API points turned into chart series, and live samples from the SSE
// feed appended to them (only to raw series: a live sample is not a 5-minute or hourly bucket).
import {
  type DeviceEventOf,
  type MetricResolution,
  type MetricsResponse,
  resolutionFor,
} from '@tod/contracts';

type InterfaceSample = DeviceEventOf<'interfaces'>['data']['interfaces'][number];
type WirelessClient = DeviceEventOf<'wireless'>['data']['clients'][number];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const RANGES = [
  { key: '1h', label: '1 h', ms: HOUR },
  { key: '6h', label: '6 h', ms: 6 * HOUR },
  { key: '24h', label: '24 h', ms: DAY },
  { key: '7d', label: '7 d', ms: 7 * DAY },
  { key: '30d', label: '30 d', ms: 30 * DAY },
  { key: '90d', label: '90 d', ms: 90 * DAY },
] as const;
export type RangeKey = (typeof RANGES)[number]['key'];

export function rangeMs(key: RangeKey): number {
  return RANGES.find((r) => r.key === key)?.ms ?? HOUR;
}

/** The resolution the API serves a range at. */
export function rangeResolution(key: RangeKey): MetricResolution {
  return resolutionFor(rangeMs(key));
}

/** The time between points of a resolution; raw points come once per poll (60 s by default). */
export function resolutionStepMs(r: MetricResolution, pollMs = 60_000): number {
  return r === 'raw' ? pollMs : r === '5m' ? 5 * 60_000 : HOUR;
}

export interface MetricsRequest {
  kind: 'interfaces' | 'wireless' | 'resource' | 'health';
  range: RangeKey;
  interface?: string;
  client?: string;
}

/** The metrics API path for a range ending now (no resolution: the API chooses it for the span). */
export function metricsPath(deviceId: string, q: MetricsRequest, now = Date.now()): string {
  const p = new URLSearchParams({ kind: q.kind, from: new Date(now - rangeMs(q.range)).toISOString() });
  if (q.interface !== undefined) p.set('interface', q.interface);
  if (q.client !== undefined) p.set('client', q.client);
  return `/api/devices/${encodeURIComponent(deviceId)}/metrics?${p}`;
}

export interface ChartPoint {
  t: number;
  v: number | null;
}

type Points<K extends MetricsResponse['kind']> = Extract<MetricsResponse, { kind: K }>['points'];

/** rx and tx series of one interface (averages per bucket; raw samples are their own average). */
export function interfaceSeries(
  points: Points<'interfaces'>,
  name: string,
): { rx: ChartPoint[]; tx: ChartPoint[] } {
  const rx: ChartPoint[] = [];
  const tx: ChartPoint[] = [];
  for (const p of points) {
    if (p.interface !== name) continue;
    const t = Date.parse(p.t);
    rx.push({ t, v: p.rxBpsAvg });
    tx.push({ t, v: p.txBpsAvg });
  }
  return { rx, tx };
}

/** Signal series of one client: average, and the bucket minimum for rollups (equal to it when raw). */
export function signalSeries(
  points: Points<'wireless'>,
  client: string,
): { avg: ChartPoint[]; min: ChartPoint[] } {
  const avg: ChartPoint[] = [];
  const min: ChartPoint[] = [];
  const mac = client.toUpperCase();
  for (const p of points) {
    if (p.client.toUpperCase() !== mac) continue;
    const t = Date.parse(p.t);
    avg.push({ t, v: p.signalAvg });
    min.push({ t, v: p.signalMin });
  }
  return { avg, min };
}

/**
 * Adds a live sample to a series kept in time order: a sample at a time already there replaces it, an older
 * one is inserted in place, and points before `from` (the sliding window's start) fall off. Returns a new
 * array (Svelte sees the change) and never the same point twice.
 */
export function appendLive(
  series: readonly ChartPoint[],
  p: ChartPoint,
  from: number,
  maxPoints = 20_000,
): ChartPoint[] {
  let start = 0;
  while (start < series.length && series[start]!.t < from) start++;
  const out = series.slice(start);
  if (p.t < from) return out;
  const last = out[out.length - 1];
  if (!last || p.t > last.t) out.push(p);
  else {
    let i = out.length - 1;
    while (i >= 0 && out[i]!.t > p.t) i--;
    if (i >= 0 && out[i]!.t === p.t) out[i] = p;
    else out.splice(i + 1, 0, p);
  }
  return out.length > maxPoints ? out.slice(out.length - maxPoints) : out;
}

/** One row of the interfaces table: the latest live sample, or the latest stored point until one arrives. */
export interface InterfaceRow {
  name: string;
  type: string | null;
  running: boolean | null;
  disabled: boolean | null;
  macAddress: string | null;
  rxBps: number | null;
  txBps: number | null;
  rxErrors: number | null;
  txErrors: number | null;
  at: number;
}

/** Rows from stored points (newest point per interface wins), by name. */
export function rowsFromPoints(points: Points<'interfaces'>): InterfaceRow[] {
  const by = new Map<string, InterfaceRow>();
  for (const p of points) {
    const t = Date.parse(p.t);
    const cur = by.get(p.interface);
    if (cur && cur.at > t) continue;
    by.set(p.interface, {
      name: p.interface,
      type: null,
      running: p.running ?? null,
      disabled: null,
      macAddress: null,
      rxBps: p.rxBpsAvg,
      txBps: p.txBpsAvg,
      rxErrors: null,
      txErrors: null,
      at: t,
    });
  }
  return [...by.values()].sort((a, b) => naturalCompare(a.name, b.name));
}

/** Rows after a live `interfaces` event: every interface it lists, in the device's order. */
export function rowsFromSample(sample: InterfaceSample[], at: number): InterfaceRow[] {
  return sample.map((s) => ({
    name: s.name,
    type: s.type,
    running: s.running,
    disabled: s.disabled,
    macAddress: s.macAddress ?? null,
    rxBps: s.rxBps ?? null,
    txBps: s.txBps ?? null,
    rxErrors: s.rxErrors ?? null,
    txErrors: s.txErrors ?? null,
    at,
  }));
}

export interface ClientRow {
  mac: string;
  interface: string;
  signalDbm: number | null;
  txRateMbps: number | null;
  rxRateMbps: number | null;
  uptimeSeconds: number | null;
  at: number;
}

/** Clients from stored points: the newest point per client within the last `recentMs` of the newest one. */
export function clientsFromPoints(points: Points<'wireless'>, recentMs = 10 * 60_000): ClientRow[] {
  const by = new Map<string, ClientRow>();
  let newest = 0;
  for (const p of points) {
    const t = Date.parse(p.t);
    newest = Math.max(newest, t);
    const mac = p.client.toUpperCase();
    const cur = by.get(mac);
    if (cur && cur.at > t) continue;
    by.set(mac, {
      mac,
      interface: p.interface,
      signalDbm: p.signalAvg,
      txRateMbps: p.txRateAvg,
      rxRateMbps: p.rxRateAvg,
      uptimeSeconds: null,
      at: t,
    });
  }
  return [...by.values()].filter((c) => c.at >= newest - recentMs).sort((a, b) => a.mac.localeCompare(b.mac));
}

export function clientsFromSample(clients: WirelessClient[], at: number): ClientRow[] {
  return clients
    .map((c) => ({
      mac: c.macAddress.toUpperCase(),
      interface: c.interface,
      signalDbm: c.signalDbm ?? null,
      txRateMbps: c.txRateMbps ?? null,
      rxRateMbps: c.rxRateMbps ?? null,
      uptimeSeconds: c.uptimeSeconds ?? null,
      at,
    }))
    .sort((a, b) => a.mac.localeCompare(b.mac));
}

/** ether2 before ether10. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' });
}
