import { describe, expect, it } from 'vitest';
import { DeviceEvent, eventSubject } from '../events';
import { CONFIG_EXPORT_MAX_CHARS } from './snapshot';

const base = {
  v: 1,
  id: 'evt-config-0001',
  tenantId: '3f0e9c1a-0000-4000-8000-000000000001',
  deviceId: '3f0e9c1a-0000-4000-8000-000000000002',
  collectorId: '3f0e9c1a-0000-4000-8000-000000000003',
  at: '2026-11-23T07:00:00.000Z',
  kind: 'config-snapshot',
};

describe('config-snapshot events', () => {
  it('carries the export, its trigger and whether it holds secrets', () => {
    const e = DeviceEvent.parse({
      ...base,
      data: {
        trigger: 'change',
        sensitive: false,
        export: '/system identity\nset name=a\n',
        routerosVersion: '7.16.2 (stable)',
      },
    });
    expect(e.kind).toBe('config-snapshot');
    expect(eventSubject(base.tenantId, base.deviceId, 'config-snapshot')).toMatch(/\.config-snapshot$/);
  });

  it('rejects an unknown trigger and an export larger than an event may carry', () => {
    expect(
      DeviceEvent.safeParse({ ...base, data: { trigger: 'hourly', sensitive: false, export: '' } }).success,
    ).toBe(false);
    const huge = 'x'.repeat(CONFIG_EXPORT_MAX_CHARS + 1);
    expect(
      DeviceEvent.safeParse({ ...base, data: { trigger: 'manual', sensitive: true, export: huge } }).success,
    ).toBe(false);
  });
});
