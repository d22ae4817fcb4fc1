// Maintenance windows: one-off, weekly in a time zone, across midnight and across daylight saving changes.
import { describe, expect, it } from 'vitest';
import { inMaintenance, type WindowSpec, windowActive, zonedTimeToInstant } from './maintenance';

const D1 = '00000000-0000-4000-8000-0000000000d1';
const D2 = '00000000-0000-4000-8000-0000000000d2';
const G1 = '00000000-0000-4000-8000-0000000000a1';

function weekly(over: Partial<WindowSpec> = {}): WindowSpec {
  return {
    id: 'w',
    enabled: true,
    scope: 'fleet',
    scopeTargetId: null,
    kind: 'weekly',
    startsAt: null,
    endsAt: null,
    weekdays: [0],
    startTime: '02:00',
    durationMinutes: 60,
    timeZone: 'Europe/Vienna',
    ...over,
  };
}
const once = (startsAt: string, endsAt: string, over: Partial<WindowSpec> = {}): WindowSpec => ({
  ...weekly(),
  kind: 'once',
  startsAt,
  endsAt,
  weekdays: null,
  startTime: null,
  durationMinutes: null,
  timeZone: null,
  ...over,
});
const active = (w: WindowSpec, iso: string) => windowActive(w, new Date(iso));

describe('one-off windows', () => {
  const w = once('2026-11-23T10:00:00Z', '2026-11-23T12:00:00Z');
  it('is in force from its start (inclusive) to its end (exclusive)', () => {
    expect(active(w, '2026-11-23T09:59:59Z')).toBe(false);
    expect(active(w, '2026-11-23T10:00:00Z')).toBe(true);
    expect(active(w, '2026-11-23T11:59:59Z')).toBe(true);
    expect(active(w, '2026-11-23T12:00:00Z')).toBe(false);
  });
  it('is never in force when disabled', () => {
    expect(active({ ...w, enabled: false }, '2026-11-23T11:00:00Z')).toBe(false);
  });
});

describe('weekly windows', () => {
  it('follows local time in winter and in summer', () => {
    // Sundays 02:00–03:00 Vienna: 01:00Z in winter (CET), 00:00Z in summer (CEST).
    const w = weekly();
    expect(active(w, '2026-01-04T01:30:00Z')).toBe(true);
    expect(active(w, '2026-01-04T00:30:00Z')).toBe(false);
    expect(active(w, '2026-07-05T00:30:00Z')).toBe(true);
    expect(active(w, '2026-07-05T01:30:00Z')).toBe(false);
  });

  it('is in force only on its weekdays', () => {
    const w = weekly({ weekdays: [1, 3], startTime: '09:00', timeZone: 'UTC' });
    expect(active(w, '2026-11-23T09:30:00Z')).toBe(true); // Monday
    expect(active(w, '2026-11-24T09:30:00Z')).toBe(false); // Tuesday
    expect(active(w, '2026-11-25T09:30:00Z')).toBe(true); // Wednesday
  });

  it('runs past midnight into the next day', () => {
    // Saturday 23:00 for 2 h (New York): still in force at 00:30 on Sunday, over at 01:00.
    const w = weekly({
      weekdays: [6],
      startTime: '23:00',
      durationMinutes: 120,
      timeZone: 'America/New_York',
    });
    expect(active(w, '2026-11-22T05:30:00Z')).toBe(true); // Sun 00:30 EST
    expect(active(w, '2026-11-22T06:00:00Z')).toBe(false);
    expect(active(w, '2026-11-21T03:59:00Z')).toBe(false); // Fri 22:59 EST
  });

  it('spans several days when its duration says so', () => {
    const w = weekly({ weekdays: [5], startTime: '18:00', durationMinutes: 3 * 24 * 60, timeZone: 'UTC' });
    expect(active(w, '2026-11-22T12:00:00Z')).toBe(true); // Sunday
    expect(active(w, '2026-11-23T17:59:00Z')).toBe(true); // Monday
    expect(active(w, '2026-11-23T18:00:00Z')).toBe(false);
  });
});

describe('daylight saving edges', () => {
  it('moves a start time skipped by spring-forward to just after the gap', () => {
    // 2026-03-29 Vienna: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist and becomes 03:30 CEST (01:30Z).
    expect(new Date(zonedTimeToInstant(2026, 3, 29, 2, 30, 'Europe/Vienna')).toISOString()).toBe(
      '2026-03-29T01:30:00.000Z',
    );
    const w = weekly({ startTime: '02:30', durationMinutes: 60 });
    expect(active(w, '2026-03-29T01:29:00Z')).toBe(false);
    expect(active(w, '2026-03-29T01:30:00Z')).toBe(true);
    expect(active(w, '2026-03-29T02:29:00Z')).toBe(true);
    expect(active(w, '2026-03-29T02:30:00Z')).toBe(false);
  });

  it('lasts its duration in real time across the change', () => {
    // Sunday 01:00 CET for 3 h on the spring-forward night: 00:00Z to 03:00Z (05:00 CEST local).
    const w = weekly({ startTime: '01:00', durationMinutes: 180 });
    expect(active(w, '2026-03-29T02:59:00Z')).toBe(true);
    expect(active(w, '2026-03-29T03:00:00Z')).toBe(false);
  });

  it('starts at the first of two repeated local times at fall-back', () => {
    // 2026-11-01 New York: 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST).
    expect(new Date(zonedTimeToInstant(2026, 11, 1, 1, 30, 'America/New_York')).toISOString()).toBe(
      '2026-11-01T05:30:00.000Z',
    );
    const w = weekly({ startTime: '01:30', durationMinutes: 30, timeZone: 'America/New_York' });
    expect(active(w, '2026-11-01T05:45:00Z')).toBe(true);
    expect(active(w, '2026-11-01T06:30:00Z')).toBe(false);
  });

  it('converts ordinary local times in zones east and west of UTC', () => {
    expect(new Date(zonedTimeToInstant(2026, 7, 1, 12, 0, 'Asia/Kolkata')).toISOString()).toBe(
      '2026-07-01T06:30:00.000Z',
    );
    expect(new Date(zonedTimeToInstant(2026, 1, 1, 0, 0, 'America/Los_Angeles')).toISOString()).toBe(
      '2026-01-01T08:00:00.000Z',
    );
  });
});

describe('scopes', () => {
  const now = new Date('2026-11-23T11:00:00Z');
  const on = (over: Partial<WindowSpec>) => once('2026-11-23T10:00:00Z', '2026-11-23T12:00:00Z', over);

  it('covers every device for fleet, one device for device, members for group', () => {
    expect(inMaintenance([on({})], D1, [], now)).toBe(true);
    expect(inMaintenance([on({ scope: 'device', scopeTargetId: D1 })], D1, [], now)).toBe(true);
    expect(inMaintenance([on({ scope: 'device', scopeTargetId: D1 })], D2, [], now)).toBe(false);
    expect(inMaintenance([on({ scope: 'group', scopeTargetId: G1 })], D2, [G1], now)).toBe(true);
    expect(inMaintenance([on({ scope: 'group', scopeTargetId: G1 })], D1, [], now)).toBe(false);
  });

  it('covers nothing outside its time', () => {
    expect(inMaintenance([on({})], D1, [], new Date('2026-11-23T13:00:00Z'))).toBe(false);
    expect(inMaintenance([], D1, [], now)).toBe(false);
  });
});
