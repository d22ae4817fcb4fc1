// How alert rules, alerts and maintenance windows read in the portal: metric names with units, comparisons
// as symbols, rules and windows summarised in one line.
import type { AlertComparison, AlertMetric, AlertRule, MaintenanceWindow } from '@tod/contracts';

export const METRIC_LABEL: Record<AlertMetric, string> = {
  cpu_load: 'CPU load (%)',
  memory_used_pct: 'Memory used (%)',
  disk_used_pct: 'Disk used (%)',
  temperature: 'Temperature (°C)',
  voltage: 'Voltage (V)',
  interface_rx_bps: 'Interface receive (bit/s)',
  interface_tx_bps: 'Interface transmit (bit/s)',
  wireless_signal: 'Wireless signal (dBm)',
  device_offline: 'Device offline',
};

export const COMPARISON_LABEL: Record<AlertComparison, string> = {
  gt: '>',
  gte: '≥',
  lt: '<',
  lte: '≤',
  eq: '=',
  ne: '≠',
};

export const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function metricLabel(m: string): string {
  return METRIC_LABEL[m as AlertMetric] ?? m;
}

export const isInterfaceMetric = (m: AlertMetric) => m === 'interface_rx_bps' || m === 'interface_tx_bps';

/** "CPU load (%) > 90 for 5 min" or "Device offline". */
export function ruleCondition(
  r: Pick<AlertRule, 'metric' | 'comparison' | 'threshold' | 'durationSeconds' | 'interfaceName'>,
): string {
  if (r.metric === 'device_offline') return 'Device offline';
  const cmp = r.comparison ? COMPARISON_LABEL[r.comparison] : '?';
  const on = r.interfaceName ? ` on ${r.interfaceName}` : '';
  const dur = r.durationSeconds > 0 ? ` for ${formatDuration(r.durationSeconds)}` : '';
  return `${METRIC_LABEL[r.metric]}${on} ${cmp} ${r.threshold ?? '?'}${dur}`;
}

export function formatDuration(seconds: number): string {
  if (seconds % 3600 === 0 && seconds >= 3600) return `${seconds / 3600} h`;
  if (seconds % 60 === 0 && seconds >= 60) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** "once: 1 Dec 02:00 – 1 Dec 04:00" or "weekly: Mon, Wed at 02:00 for 120 min (Europe/Vienna)". */
export function windowSchedule(w: MaintenanceWindow): string {
  if (w.kind === 'once') {
    const f = (s: string | null) => (s ? new Date(s).toLocaleString() : '?');
    return `Once: ${f(w.startsAt)} – ${f(w.endsAt)}`;
  }
  const days = (w.weekdays ?? []).map((d) => WEEKDAYS[d]).join(', ');
  return `Weekly: ${days} at ${w.startTime} for ${formatDuration((w.durationMinutes ?? 0) * 60)} (${w.timeZone})`;
}

export interface Named {
  id: string;
  name: string;
}
