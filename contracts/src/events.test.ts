import { describe, expect, it } from 'vitest';
import { deviceKey, EventSubject, eventSubject } from './events';

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
