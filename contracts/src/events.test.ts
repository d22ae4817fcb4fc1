import { describe, expect, it } from 'vitest';
import { DeviceEvent, deviceKey, EventSubject, eventSubject } from './events';

const T = '3f0e9c1a-0000-4000-8000-000000000001';
const D = '3f0e9c1a-0000-4000-8000-000000000002';

describe('event subjects', () => {
  it('round-trips tenant, device and kind', () => {
    const subject = eventSubject(T, D, 'config-changed');
    expect(subject).toBe(`tod.evt.${T}.${D}.config-changed`);
    expect(EventSubject.parse(subject)).toEqual({ tenantId: T, deviceId: D, kind: 'config-changed' });
  });

  it('refuses tokens that would change the subject hierarchy', () => {
    expect(() => eventSubject('a.b', D, 'status')).toThrow();
    expect(() => eventSubject(T, '*', 'status')).toThrow();
    expect(() => deviceKey(T, '>', D)).toThrow();
  });

  it('rejects unknown kinds and foreign subjects', () => {
    expect(EventSubject.safeParse(`tod.evt.${T}.${D}.bogus`).success).toBe(false);
    expect(EventSubject.safeParse(`tod.cmd.${T}.${D}`).success).toBe(false);
  });
});

describe('device events', () => {
  const base = {
    v: 1,
    id: 'evt-0001-abcdef',
    tenantId: T,
    deviceId: D,
    collectorId: '3f0e9c1a-0000-4000-8000-000000000003',
    at: '2026-11-23T07:00:00.000Z',
  };

  it('accepts a well-formed status event and applies defaults', () => {
    const e = DeviceEvent.parse({
      ...base,
      kind: 'status',
      data: { status: 'auth_failed', reason: 'invalid user' },
    });
    expect(e.kind === 'status' && e.data.consecutiveFailures).toBe(0);
  });

  it('rejects a payload that does not match its kind', () => {
    expect(DeviceEvent.safeParse({ ...base, kind: 'status', data: { cpuLoad: 5 } }).success).toBe(false);
    expect(DeviceEvent.safeParse({ ...base, kind: 'resource', data: { status: 'online' } }).success).toBe(
      false,
    );
  });

  it('rejects out-of-range values and bad ids', () => {
    const resource = {
      identity: 'r1',
      cpuLoad: 140,
      freeMemory: 1,
      totalMemory: 2,
      freeHdd: 1,
      totalHdd: 2,
      uptimeSeconds: 5,
      version: '7.16',
      boardName: 'RB5009',
      architecture: 'arm64',
    };
    expect(DeviceEvent.safeParse({ ...base, kind: 'resource', data: resource }).success).toBe(false);
    expect(
      DeviceEvent.safeParse({ ...base, tenantId: 'nope', kind: 'log', data: { entries: [] } }).success,
    ).toBe(false);
  });
});
