// The tenant's configuration backup policy (issue #8): kept in `tenants.settings.backup`, read and changed by a
// tenant admin through /api/settings/backup-policy, and written by the edge into every device's registry entry
// (`DeviceRegistration.backup`) so the collector exports with or without secrets as the tenant decided.
import { z } from 'zod';

/** `HH:MM-HH:MM`, local time of the collector's clock; an end before the start wraps past midnight. */
export const BackupWindow = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, 'must look like 02:00-05:00')
  .refine((w) => w.slice(0, 5) !== w.slice(6), 'must not be empty');

/** A window as minutes after midnight. */
export function parseBackupWindow(w: string): { startMin: number; endMin: number } {
  const [start, end] = w.split('-').map((t) => {
    const [h, m] = t.split(':').map(Number);
    return h! * 60 + m!;
  });
  return { startMin: start!, endMin: end! };
}

export const BackupPolicy = z.object({
  /** Export passwords, keys and other secrets (`/export show-sensitive`). Off by default. */
  showSensitive: z.boolean(),
  /** The tenant's nightly backup window; null = each collector's BACKUP_WINDOW (default 02:00-05:00). */
  nightlyWindow: BackupWindow.nullable(),
});
export type BackupPolicy = z.infer<typeof BackupPolicy>;

export const DEFAULT_BACKUP_POLICY: BackupPolicy = { showSensitive: false, nightlyWindow: null };

/** Fields left out keep their value. */
export const UpdateBackupPolicyRequest = z
  .strictObject({ showSensitive: z.boolean().optional(), nightlyWindow: BackupWindow.nullable().optional() })
  .refine((b) => b.showSensitive !== undefined || b.nightlyWindow !== undefined, {
    message: 'give showSensitive or nightlyWindow',
  });
export type UpdateBackupPolicyRequest = z.infer<typeof UpdateBackupPolicyRequest>;

/** The policy stored in a tenant's settings JSON; anything missing or malformed reads as the default. */
export function backupPolicyFromSettings(settings: unknown): BackupPolicy {
  const stored =
    settings && typeof settings === 'object' ? (settings as Record<string, unknown>).backup : undefined;
  const parsed = BackupPolicy.partial().safeParse(stored);
  return parsed.success ? { ...DEFAULT_BACKUP_POLICY, ...parsed.data } : DEFAULT_BACKUP_POLICY;
}
