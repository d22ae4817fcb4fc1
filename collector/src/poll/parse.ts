// What a poll's RouterOS replies mean: turns print rows (string maps, as RouterOS sends them) into the
// contracts' event payloads. Pure functions, so every version quirk is tested with rows as devices send them.

import type { HealthData, InterfaceSample, ResourceData, WirelessClient } from '@tod/contracts';
import type { z } from 'zod';

export type Row = Record<string, string>;

const UNIT_SECONDS: Record<string, number> = { w: 604_800, d: 86_400, h: 3600, m: 60, s: 1, ms: 0.001 };

/** RouterOS durations: `3w2d20h12m20s`, `5h49m36s`, `170ms`, or the old `hh:mm:ss` / `1d 02:03:04` forms. */
export function parseDuration(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const t = text.trim();
  const clock = /^(?:(\d+)d\s*)?(\d+):(\d{2}):(\d{2})$/.exec(t);
  if (clock)
    return (
      Number(clock[1] ?? 0) * 86_400 + Number(clock[2]) * 3600 + Number(clock[3]) * 60 + Number(clock[4])
    );
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ms|w|d|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t.replace(/\s+/g, '')) return undefined;
  return Math.floor(parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_SECONDS[p[2]!]!, 0));
}

function int(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

function num(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number.parseFloat(text);
  return Number.isFinite(n) ? n : undefined;
}

function bool(text: string | undefined): boolean {
  return text === 'true' || text === 'yes';
}

export class ReplyShapeError extends Error {
  readonly code = 'unexpected_reply';
}

/** `/system/resource/print` + `/system/identity/print` + `/system/routerboard/print` (absent on CHR/x86). */
export function parseResource(
  resource: Row | undefined,
  identity: Row | undefined,
  routerboard: Row | undefined,
): z.input<typeof ResourceData> {
  if (!resource) throw new ReplyShapeError('/system/resource/print returned no row');
  const required = (key: string): number => {
    const v = int(resource[key]);
    if (v === undefined) throw new ReplyShapeError(`/system/resource: ${key} is missing or not a number`);
    return v;
  };
  const version = (resource.version ?? '').split(' ')[0] ?? '';
  return {
    identity: identity?.name ?? '',
    cpuLoad: Math.min(100, required('cpu-load')),
    freeMemory: required('free-memory'),
    totalMemory: required('total-memory'),
    freeHdd: int(resource['free-hdd-space']) ?? 0,
    totalHdd: int(resource['total-hdd-space']) ?? 0,
    uptimeSeconds: parseDuration(resource.uptime) ?? 0,
    version,
    boardName: resource['board-name'] ?? routerboard?.['board-name'] ?? '',
    architecture: resource['architecture-name'] ?? '',
    ...(routerboard?.model ? { model: routerboard.model } : {}),
    ...(routerboard?.['serial-number'] ? { serial: routerboard['serial-number'] } : {}),
    ...(routerboard?.['current-firmware'] ? { firmware: routerboard['current-firmware'] } : {}),
  };
}

export interface CounterSnapshot {
  at: number;
  uptimeSeconds: number;
  counters: Map<string, { rxBytes: number; txBytes: number }>;
}

/** `/interface/print` rows with rates against the previous poll. No rate is given for an interface whose
 * counters went backwards (counter reset, interface re-created) or when the device rebooted in between. */
export function parseInterfaces(
  rows: Row[],
  previous: CounterSnapshot | undefined,
  now: { at: number; uptimeSeconds: number },
): { interfaces: z.input<typeof InterfaceSample>[]; snapshot: CounterSnapshot } {
  const counters = new Map<string, { rxBytes: number; txBytes: number }>();
  const elapsed = previous ? (now.at - previous.at) / 1000 : 0;
  const rebooted = previous ? now.uptimeSeconds < previous.uptimeSeconds : false;
  const interfaces = rows
    .filter((r) => r.name)
    .map((r) => {
      const sample: z.input<typeof InterfaceSample> = {
        name: r.name!,
        type: r.type ?? 'unknown',
        running: bool(r.running),
        disabled: bool(r.disabled),
        ...(r['mac-address'] ? { macAddress: r['mac-address'] } : {}),
        rxBytes: int(r['rx-byte']) ?? 0,
        txBytes: int(r['tx-byte']) ?? 0,
        rxPackets: int(r['rx-packet']) ?? 0,
        txPackets: int(r['tx-packet']) ?? 0,
      };
      const rxErrors = int(r['rx-error']);
      const txErrors = int(r['tx-error']);
      if (rxErrors !== undefined) sample.rxErrors = rxErrors;
      if (txErrors !== undefined) sample.txErrors = txErrors;
      counters.set(sample.name, { rxBytes: sample.rxBytes, txBytes: sample.txBytes });
      const before = previous?.counters.get(sample.name);
      if (
        before &&
        elapsed > 0 &&
        !rebooted &&
        sample.rxBytes >= before.rxBytes &&
        sample.txBytes >= before.txBytes
      ) {
        sample.rxBps = ((sample.rxBytes - before.rxBytes) * 8) / elapsed;
        sample.txBps = ((sample.txBytes - before.txBytes) * 8) / elapsed;
      }
      return sample;
    });
  return { interfaces, snapshot: { at: now.at, uptimeSeconds: now.uptimeSeconds, counters } };
}

/** `72.2Mbps-20MHz/1S/SGI`, `866.7Mbps`, `1Gbps`, or plain bits per second (`54000000`) → Mbit/s. */
export function parseRateMbps(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(G|M|k)?bps/i.exec(text.trim());
  if (m) {
    const v = Number(m[1]);
    const unit = (m[2] ?? '').toUpperCase();
    return unit === 'G' ? v * 1000 : unit === 'K' ? v / 1000 : unit === 'M' ? v : v / 1e6;
  }
  const bits = int(text);
  return bits === undefined ? undefined : bits / 1e6;
}

/** `-62@1Mbps` (legacy wireless `signal-strength`) or `-47` (wifi `signal`) → dBm. */
export function parseSignal(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = /^(-?\d+(?:\.\d+)?)/.exec(text.trim());
  if (!m) return undefined;
  const v = Number(m[1]);
  return v <= 0 && v >= -150 ? v : undefined;
}

/** Registration tables of the legacy `wireless` package and of 7.x `wifi` (`wifiwave2` before 7.13). */
export function parseRegistrations(rows: Row[]): z.input<typeof WirelessClient>[] {
  return rows
    .filter((r) => r['mac-address'])
    .map((r) => {
      const client: z.input<typeof WirelessClient> = {
        interface: r.interface ?? '',
        macAddress: r['mac-address']!.toUpperCase(),
      };
      const signal = parseSignal(r.signal ?? r['signal-strength']);
      if (signal !== undefined) client.signalDbm = signal;
      const tx = parseRateMbps(r['tx-rate']);
      if (tx !== undefined) client.txRateMbps = tx;
      const rx = parseRateMbps(r['rx-rate']);
      if (rx !== undefined) client.rxRateMbps = rx;
      const uptime = parseDuration(r.uptime);
      if (uptime !== undefined) client.uptimeSeconds = uptime;
      return client;
    });
}

/** `/system/health/print`: 7.x sends one row per sensor (name, value, type); 6.x one row of attributes. */
export function parseHealth(rows: Row[]): z.input<typeof HealthData> {
  const sensors = new Map<string, string>();
  for (const row of rows) {
    if (row.name !== undefined && row.value !== undefined) sensors.set(row.name, row.value);
    else for (const [k, v] of Object.entries(row)) if (!k.startsWith('.')) sensors.set(k, v);
  }
  const health: z.input<typeof HealthData> = {};
  const voltage = num(sensors.get('voltage'));
  if (voltage !== undefined) health.voltage = voltage;
  const temp = num(sensors.get('temperature') ?? sensors.get('board-temperature1'));
  if (temp !== undefined) health.temperatureC = temp;
  const cpuTemp = num(sensors.get('cpu-temperature'));
  if (cpuTemp !== undefined) health.cpuTemperatureC = cpuTemp;
  const fans: Record<string, number> = {};
  const psu: Record<string, string> = {};
  for (const [name, value] of sensors) {
    const fan = /^(fan\d+)-speed$/.exec(name);
    if (fan && num(value) !== undefined) fans[fan[1]!] = num(value)!;
    const state = /^(psu\d+)-state$/.exec(name);
    if (state) psu[state[1]!] = value;
  }
  if (Object.keys(fans).length) health.fans = fans;
  if (Object.keys(psu).length) health.psu = psu;
  return health;
}

/** A marker that changes whenever the configuration does: the newest entry of `/system/history`. Undo
 * history is volatile, so after a reboot the marker changes too, which costs one extra backup, never a
 * missed one. */
export function configMarker(historyRows: Row[]): string {
  const last = historyRows.at(-1);
  return last ? `${historyRows.length}:${last['.id'] ?? ''}:${last.time ?? ''}` : 'empty';
}
