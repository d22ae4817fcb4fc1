// Tenant isolation of the alerting tables (0004) proved with plain SQL as the application role: each
// tenant sees only its own rules, channels, alerts, windows and deliveries, and cannot write into another's.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../tests/env';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const TABLES = [
  'alert_rules',
  'notification_channels',
  'alert_rule_channels',
  'alerts',
  'maintenance_windows',
  'notification_deliveries',
];

let superuser: postgres.Sql;
let app: postgres.Sql;
const ids: Record<string, Record<string, string>> = { [A]: {}, [B]: {} };

beforeAll(async () => {
  const db = await freshDatabase();
  superuser = postgres(db.superUrl, { max: 1, onnotice: () => {} });
  app = postgres(db.appUrl, { max: 1, onnotice: () => {} });
  await superuser`INSERT INTO tenants (id, name, slug) VALUES (${A}, 'A', 'a'), (${B}, 'B', 'b')`;
  for (const t of [A, B]) {
    const one = async (q: Promise<{ id: string }[]>) => (await q)[0]!.id;
    const device = await one(
      superuser`INSERT INTO devices (tenant_id, name, host) VALUES (${t}, 'd', '10.0.0.1') RETURNING id`,
    );
    const rule = await one(
      superuser`INSERT INTO alert_rules (tenant_id, name, metric) VALUES (${t}, 'down', 'device_offline') RETURNING id`,
    );
    const channel = await one(
      superuser`INSERT INTO notification_channels (tenant_id, name, kind) VALUES (${t}, 'hook', 'webhook') RETURNING id`,
    );
    await superuser`INSERT INTO alert_rule_channels (tenant_id, rule_id, channel_id) VALUES (${t}, ${rule}, ${channel})`;
    const alert = await one(superuser`
      INSERT INTO alerts (tenant_id, rule_id, rule_name, metric, severity, device_id, started_at)
      VALUES (${t}, ${rule}, 'down', 'device_offline', 'critical', ${device}, now()) RETURNING id`);
    await superuser`INSERT INTO maintenance_windows (tenant_id, name, kind, starts_at, ends_at)
      VALUES (${t}, 'w', 'once', now(), now() + interval '1 hour')`;
    await superuser`INSERT INTO notification_deliveries (tenant_id, channel_id, alert_id, event, payload)
      VALUES (${t}, ${channel}, ${alert}, 'firing', '{}')`;
    ids[t] = { device, rule, channel, alert };
  }
});

afterAll(async () => {
  await Promise.all([superuser?.end(), app?.end()]);
});

function asTenant<T>(tenant: string | null, fn: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  return app.begin(async (tx) => {
    if (tenant) await tx`SELECT set_config('app.tenant_id', ${tenant}, true)`;
    return fn(tx);
  }) as Promise<T>;
}

describe('alerting tables under RLS', () => {
  it('show each tenant only its own rows, and nothing without a tenant', async () => {
    for (const table of TABLES) {
      const rows = await asTenant(A, (tx) => tx.unsafe(`SELECT tenant_id FROM ${table}`));
      expect(rows.length, table).toBe(1);
      expect(rows[0]!.tenant_id, table).toBe(A);
      expect(await asTenant(null, (tx) => tx.unsafe(`SELECT 1 FROM ${table}`)), table).toHaveLength(0);
    }
  });

  it("refuse rows for another tenant and links to another tenant's rows", async () => {
    await expect(
      asTenant(
        A,
        (tx) => tx`INSERT INTO alert_rules (tenant_id, name, metric) VALUES (${B}, 'x', 'device_offline')`,
      ),
    ).rejects.toThrow(/row-level security/);
    // A's rule pointing at B's channel: the composite foreign key keeps both ends in one tenant.
    await expect(
      asTenant(
        A,
        (tx) =>
          tx`INSERT INTO alert_rule_channels (tenant_id, rule_id, channel_id) VALUES (${A}, ${ids[A]!.rule!}, ${ids[B]!.channel!})`,
      ),
    ).rejects.toThrow(/foreign key/);
    const resolved = await asTenant(
      A,
      (tx) =>
        tx`UPDATE alerts SET state = 'resolved', resolution = 'manual', ended_at = now() WHERE id = ${ids[B]!.alert!}`,
    );
    expect(resolved.count).toBe(0);
  });

  it('allow one open alert per rule, device and subject', async () => {
    await expect(
      superuser`INSERT INTO alerts (tenant_id, rule_id, rule_name, metric, severity, device_id, started_at)
        VALUES (${A}, ${ids[A]!.rule!}, 'down', 'device_offline', 'critical', ${ids[A]!.device!}, now())`,
    ).rejects.toThrow(/alerts_one_firing_idx/);
  });
});
