// The tenant's configuration backup policy (issue #8): kept in `tenants.settings.backup`, read and changed by a
// tenant admin through /api/settings/backup-policy, and written by the edge into every device's registry entry
// (`DeviceRegistration.backup`) so the collector exports with or without secrets as the tenant decided.
import { z } from 'zod';

export const BackupPolicy = z.object({
  /** Export passwords, keys and other secrets (`/export show-sensitive`). Off by default. */
  showSensitive: z.boolean(),
});
export type BackupPolicy = z.infer<typeof BackupPolicy>;

export const DEFAULT_BACKUP_POLICY: BackupPolicy = { showSensitive: false };

export const UpdateBackupPolicyRequest = z.strictObject({ showSensitive: z.boolean() });
export type UpdateBackupPolicyRequest = z.infer<typeof UpdateBackupPolicyRequest>;

/** The policy stored in a tenant's settings JSON; anything missing or malformed reads as the default. */
export function backupPolicyFromSettings(settings: unknown): BackupPolicy {
  const stored =
    settings && typeof settings === 'object' ? (settings as Record<string, unknown>).backup : undefined;
  const parsed = BackupPolicy.safeParse(stored);
  return parsed.success ? parsed.data : DEFAULT_BACKUP_POLICY;
}
