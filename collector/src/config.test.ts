import { describe, expect, it } from 'vitest';
import { backupWindow, CollectorConfigError, loadCollectorConfig } from './config';

describe('backup settings', () => {
  it('defaults to nightly backups from 02:00 to 05:00 without secrets', () => {
    const c = loadCollectorConfig({});
    expect(c).toMatchObject({
      BACKUP_NIGHTLY: '1',
      BACKUP_SHOW_SENSITIVE: '0',
      BACKUP_STARTUP_SPREAD_S: 600,
    });
    expect(backupWindow(c)).toEqual({ startMin: 120, endMin: 300 });
    expect(backupWindow(loadCollectorConfig({ BACKUP_WINDOW: '23:30-01:15' }))).toEqual({
      startMin: 1410,
      endMin: 75,
    });
  });

  it('rejects a malformed window or switch by name', () => {
    for (const [variable, value] of [
      ['BACKUP_WINDOW', '2-5'],
      ['BACKUP_WINDOW', '24:00-05:00'],
      ['BACKUP_WINDOW', '03:00-03:00'],
      ['BACKUP_NIGHTLY', 'yes'],
      ['BACKUP_SHOW_SENSITIVE', 'maybe'],
      ['BACKUP_STARTUP_SPREAD_S', '-1'],
    ] as const) {
      const err = (() => {
        try {
          loadCollectorConfig({ [variable]: value });
        } catch (e) {
          return e;
        }
      })();
      expect(err, `${variable}=${value}`).toBeInstanceOf(CollectorConfigError);
      expect((err as CollectorConfigError).variable).toBe(variable);
    }
  });
});
