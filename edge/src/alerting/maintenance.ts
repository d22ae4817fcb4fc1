// Maintenance windows: whether an instant falls inside a window that covers a device. Alerts raised inside
// one are recorded but notify nobody. Recurring windows are wall-clock times in the window's time zone, so
// "every Sunday 02:00 for 2 h in Europe/Vienna" follows daylight saving time.

export interface WindowSpec {
  id: string;
  enabled: boolean;
  scope: 'fleet' | 'group' | 'device';
  scopeTargetId: string | null;
  kind: 'once' | 'weekly';
  startsAt: Date | string | null;
  endsAt: Date | string | null;
  /** 0 = Sunday … 6 = Saturday, in timeZone. */
  weekdays: readonly number[] | null;
  /** HH:MM local time. */
  startTime: string | null;
  durationMinutes: number | null;
  timeZone: string | null;
}

const ms = (v: Date | string | null): number => (v === null ? Number.NaN : new Date(v).getTime());

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock fields of an instant in a time zone. */
function localParts(t: number, timeZone: string) {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(t))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return { y: p.year!, mo: p.month!, d: p.day!, h: p.hour! % 24, mi: p.minute!, s: p.second! };
}

/** Offset of the zone from UTC at instant t, in ms (local = utc + offset). */
function offsetAt(t: number, timeZone: string): number {
  const l = localParts(t, timeZone);
  return Date.UTC(l.y, l.mo - 1, l.d, l.h, l.mi, l.s) - Math.floor(t / 1000) * 1000;
}

/** The instant of a local wall-clock time. A time skipped by a spring-forward gap moves forward by the gap
 * (02:30 becomes 03:30); a time that occurs twice at fall-back takes the first occurrence. */
export function zonedTimeToInstant(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  timeZone: string,
): number {
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  const before = offsetAt(wall - 36 * 3_600_000, timeZone);
  const after = offsetAt(wall + 36 * 3_600_000, timeZone);
  // Candidates: the wall time read with each offset in force around that day.
  const candidates = [...new Set([before, after, offsetAt(wall, timeZone)])]
    .map((off) => wall - off)
    .filter((t) => {
      const l = localParts(t, timeZone);
      return Date.UTC(l.y, l.mo - 1, l.d, l.h, l.mi) === wall;
    })
    .sort((a, b) => a - b);
  if (candidates.length > 0) return candidates[0]!;
  // In a gap: read it with the offset from before the transition, which lands after the gap.
  return wall - Math.min(before, after);
}

/** Whether a weekly window is in force at t. */
function weeklyActive(w: WindowSpec, t: number): boolean {
  if (!w.weekdays || !w.startTime || !w.durationMinutes || !w.timeZone) return false;
  const [hh, mm] = w.startTime.split(':').map(Number) as [number, number];
  const local = localParts(t, w.timeZone);
  const today = Date.UTC(local.y, local.mo - 1, local.d);
  // A window may have started on any of the days its duration reaches back over.
  const daysBack = Math.ceil(w.durationMinutes / 1440) + 1;
  for (let back = 0; back <= daysBack; back++) {
    const day = new Date(today - back * 86_400_000);
    if (!w.weekdays.includes(day.getUTCDay())) continue;
    const start = zonedTimeToInstant(
      day.getUTCFullYear(),
      day.getUTCMonth() + 1,
      day.getUTCDate(),
      hh,
      mm,
      w.timeZone,
    );
    if (t >= start && t < start + w.durationMinutes * 60_000) return true;
  }
  return false;
}

/** Whether the window is in force at `at`, whatever its scope. */
export function windowActive(w: WindowSpec, at: Date): boolean {
  if (!w.enabled) return false;
  const t = at.getTime();
  if (w.kind === 'once') return t >= ms(w.startsAt) && t < ms(w.endsAt);
  return weeklyActive(w, t);
}

export function windowCovers(w: WindowSpec, deviceId: string, groupIds: readonly string[]): boolean {
  switch (w.scope) {
    case 'fleet':
      return true;
    case 'device':
      return w.scopeTargetId === deviceId;
    case 'group':
      return w.scopeTargetId !== null && groupIds.includes(w.scopeTargetId);
  }
}

/** Whether a device is under maintenance at `at`. */
export function inMaintenance(
  windows: readonly WindowSpec[],
  deviceId: string,
  groupIds: readonly string[],
  at: Date,
): boolean {
  return windows.some((w) => windowCovers(w, deviceId, groupIds) && windowActive(w, at));
}
