// /api/settings: the tenant's own settings, changed by its admins. Today the configuration backup policy
// (issue #8): whether exports include secrets, and the nightly backup window. Every device's registry entry carries it, so a change re-mirrors
// the tenant's devices to their collectors.
import { type BackupPolicy, backupPolicyFromSettings, UpdateBackupPolicyRequest } from '@tod/contracts';
import { tenants } from '@tod/drizzle/schema';
import { eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { inTenant, requireRole, type TenantScope } from '../middleware/auth';
import { mirrorAfterResponse, planTenantDevices } from '../services/device-mirror';
import { readBody } from '../validate';

export const settingsRoute = new Hono<AppEnv>();

async function readPolicy(s: TenantScope): Promise<BackupPolicy> {
  const [t] = await s.tx
    .select({ settings: tenants.settings })
    .from(tenants)
    .where(eq(tenants.id, s.tenantId));
  if (!t) throw new ApiError(404, 'not_found', 'tenant not found');
  return backupPolicyFromSettings(t.settings);
}

settingsRoute.get('/backup-policy', requireRole('admin'), async (c) => {
  return c.json(await inTenant(c, readPolicy));
});

settingsRoute.put('/backup-policy', requireRole('admin'), async (c) => {
  const body = await readBody(c, UpdateBackupPolicyRequest);
  const out = await inTenant(c, async (s) => {
    const before = await readPolicy(s);
    const policy: BackupPolicy = {
      showSensitive: body.showSensitive ?? before.showSensitive,
      nightlyWindow: body.nightlyWindow === undefined ? before.nightlyWindow : body.nightlyWindow,
    };
    await s.tx
      .update(tenants)
      .set({
        settings: sql`${tenants.settings} || ${JSON.stringify({ backup: policy })}::jsonb`,
        updatedAt: new Date(),
      })
      .where(eq(tenants.id, s.tenantId));
    await s.audit({
      action: 'backup_policy.update',
      targetType: 'tenant',
      targetId: s.tenantId,
      details: { before, after: policy },
    });
    const changed =
      before.showSensitive !== policy.showSensitive || before.nightlyWindow !== policy.nightlyWindow;
    return { policy, ops: changed ? await planTenantDevices(s) : [] };
  });
  mirrorAfterResponse(c, out.ops);
  return c.json(out.policy);
});
