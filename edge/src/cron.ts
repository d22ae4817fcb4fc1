// The edge's cron trigger (wrangler.toml `[triggers] crons`): wakes the TenantHub of every tenant with an
// enrolled collector. A hub keeps itself alive with its alarm; this is the safety net for one whose alarm
// was lost (a deployment, an eviction during a failure): it resumes consuming, and its alarm runs retention,
// rollups and the silent-device check again.
import { sql } from 'drizzle-orm';
import { openDb } from './db';
import type { Bindings } from './env';
import { configFor } from './middleware/config';

export interface WakeReport {
  tenants: number;
  failed: number;
}

export async function wakeTenantHubs(env: Bindings): Promise<WakeReport> {
  const handle = openDb(configFor(env).DATABASE_URL);
  let tenants: string[];
  try {
    const rows = await handle.db.execute<{ id: string }>(sql`SELECT tod_hub_tenants() AS id`);
    tenants = rows.map((r) => r.id);
  } finally {
    await handle.close().catch(() => {});
  }
  const results = await Promise.allSettled(
    tenants.map((id) => env.TENANT_HUB.get(env.TENANT_HUB.idFromName(id)).start(id)),
  );
  const failed = results.filter((r) => r.status === 'rejected');
  for (const r of failed) {
    console.error(
      JSON.stringify({ level: 'error', msg: 'cron: tenant hub did not start', error: String(r.reason) }),
    );
  }
  return { tenants: tenants.length, failed: failed.length };
}
