import { describe, expect, it } from 'vitest';
import { can } from './permissions';

describe('can', () => {
  it('gives a viewer no write action', () => {
    for (const a of [
      'device.write',
      'device.import',
      'deviceSet.write',
      'collector.manage',
      'user.manage',
      'config.apply',
      'config.readSensitive',
      'settings.manage',
      'config.batch',
      'config.template.write',
      'alert.handle',
      'alertRule.write',
      'maintenance.write',
      'channel.read',
      'channel.manage',
    ] as const) {
      expect(can('viewer', a)).toBe(false);
    }
  });

  it('matches the edge: operators write devices, admins manage the organisation, super admins everything', () => {
    expect(can('operator', 'device.write')).toBe(true);
    expect(can('operator', 'collector.manage')).toBe(false);
    expect(can('operator', 'config.batch')).toBe(true);
    expect(can('operator', 'config.template.write')).toBe(true);
    expect(can('admin', 'audit.read')).toBe(true);
    expect(can('admin', 'tenant.manage')).toBe(false);
    expect(can('super_admin', 'tenant.manage')).toBe(true);
    expect(can(null, 'device.write')).toBe(false);
    // Configuration: operators apply, confirm and restore and read secrets; admins set the backup policy.
    expect(can('operator', 'config.apply')).toBe(true);
    expect(can('operator', 'config.readSensitive')).toBe(true);
    expect(can('operator', 'settings.manage')).toBe(false);
    expect(can('admin', 'settings.manage')).toBe(true);
    expect(can('operator', 'alert.handle')).toBe(true);
    expect(can('operator', 'channel.read')).toBe(true);
    expect(can('operator', 'channel.manage')).toBe(false);
    expect(can('admin', 'channel.manage')).toBe(true);
  });
});
