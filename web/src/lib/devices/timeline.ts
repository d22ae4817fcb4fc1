// The device's events as one timeline, newest first: alerts (fired, acknowledged, resolved), configuration
// backups, and what the live feed brings while the page is open (status changes, configuration changes).
import { Alert, type ConfigSnapshot, type DeviceEvent } from '@tod/contracts';

export type TimelineTone = 'ok' | 'warn' | 'bad' | 'muted';

export interface TimelineEntry {
  /** Stable per happening, so the same one from the API and from the feed is listed once. */
  key: string;
  at: number;
  kind: 'status' | 'alert' | 'backup' | 'config';
  title: string;
  detail?: string;
  tone: TimelineTone;
}

const SEVERITY_TONE: Record<Alert['severity'], TimelineTone> = {
  info: 'muted',
  warning: 'warn',
  critical: 'bad',
};

export function alertEntries(a: Alert): TimelineEntry[] {
  const out: TimelineEntry[] = [
    {
      key: `alert:${a.id}:fired`,
      at: Date.parse(a.startedAt),
      kind: 'alert',
      title: `${a.severity} alert: ${a.ruleName}`,
      detail: a.suppressed ? `${a.subject} (in a maintenance window)` : a.subject,
      tone: SEVERITY_TONE[a.severity],
    },
  ];
  if (a.acknowledgedAt)
    out.push({
      key: `alert:${a.id}:ack`,
      at: Date.parse(a.acknowledgedAt),
      kind: 'alert',
      title: `Alert acknowledged: ${a.ruleName}`,
      tone: 'muted',
    });
  if (a.state === 'resolved' && a.endedAt)
    out.push({
      key: `alert:${a.id}:resolved`,
      at: Date.parse(a.endedAt),
      kind: 'alert',
      title: `Alert resolved: ${a.ruleName}`,
      detail: a.resolution === 'manual' ? 'resolved by hand' : 'cleared',
      tone: 'ok',
    });
  return out;
}

export function backupEntry(s: ConfigSnapshot): TimelineEntry {
  return {
    key: `backup:${s.id}`,
    at: Date.parse(s.takenAt),
    kind: 'backup',
    title: `Configuration backup #${s.seq}`,
    detail: `${s.trigger}${s.routerosVersion ? `, RouterOS ${s.routerosVersion}` : ''}`,
    tone: 'muted',
  };
}

const STATUS_TONE: Record<string, TimelineTone> = { online: 'ok', degraded: 'warn' };

/** A live device event as an entry; status only when it differs from the status before it. */
export function liveEntry(e: DeviceEvent, previousStatus: string | null): TimelineEntry | null {
  if (e.kind === 'status') {
    if (e.data.status === previousStatus) return null;
    return {
      key: `evt:${e.id}`,
      at: Date.parse(e.at),
      kind: 'status',
      title: `Status: ${e.data.status.replace('_', ' ')}`,
      ...(e.data.reason ? { detail: e.data.reason } : {}),
      tone: STATUS_TONE[e.data.status] ?? 'bad',
    };
  }
  if (e.kind === 'config-changed')
    return {
      key: `evt:${e.id}`,
      at: Date.parse(e.at),
      kind: 'config',
      title: 'Configuration changed on the device',
      tone: 'muted',
    };
  return null;
}

/** The alert of a streamed `alert` event (`{ kind, alert }`), or null when it is not one. */
export function streamedAlert(data: unknown): Alert | null {
  const parsed = Alert.safeParse((data as { alert?: unknown } | null)?.alert);
  return parsed.success ? parsed.data : null;
}

/** A streamed `alert` event as entries, or null when it is not one. */
export function streamedAlertEntries(data: unknown): TimelineEntry[] | null {
  const a = streamedAlert(data);
  return a ? alertEntries(a) : null;
}

/** Adds entries (a later copy of a key replaces the earlier one), newest first, at most `max`. */
export function mergeTimeline(
  cur: readonly TimelineEntry[],
  add: readonly TimelineEntry[],
  max = 200,
): TimelineEntry[] {
  const by = new Map(cur.map((e) => [e.key, e]));
  for (const e of add) if (Number.isFinite(e.at)) by.set(e.key, e);
  return [...by.values()].sort((a, b) => b.at - a.at || a.key.localeCompare(b.key)).slice(0, max);
}
