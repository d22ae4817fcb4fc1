// The pipeline's storage from the application role: daily partitions created on demand and dropped after the
// retention, rollups of the dirty buckets, and tenant isolation on every new table (through the partitioned
// parents; the partitions themselves are not reachable).
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../tests/env';

let app: postgres.Sql;
let superuser: postgres.Sql;
const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const DEV_A = '00000000-0000-4000-8000-0000000000a1';
const DEV_B = '00000000-0000-4000-8000-0000000000b1';

beforeAll(async () => {
  const db = await freshDatabase();
  superuser = postgres(db.superUrl, { max: 1, onnotice: () => {} });
  app = postgres(db.appUrl, { max: 2, onnotice: () => {} });
  await superuser`INSERT INTO tenants (id, name, slug) VALUES (${A}, 'Acme', 'acme'), (${B}, 'Bravo', 'bravo')`;
});
afterAll(async () => {
  await Promise.all([app?.end(), superuser?.end()]);
});

function asTenant<T>(tenant: string | null, fn: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  return app.begin(async (tx) => {
    if (tenant) await tx`SELECT set_config('app.tenant_id', ${tenant}, true)`;
    return fn(tx);
  }) as Promise<T>;
}

async function partitions(table: string): Promise<string[]> {
  const rows = await superuser<{ relname: string }[]>`
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = ${table} ORDER BY c.relname`;
  return rows.map((r) => r.relname);
}

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

describe('time partitions', () => {
  it('are created ahead by the application role through the maintenance function', async () => {
    const created = await app<{ n: number }[]>`
      SELECT tod_ensure_metric_partitions(${day(-40)}::date, ${day(-38)}::date) AS n`;
    expect(created[0]!.n).toBe(3 * 5);
    const again = await app<{ n: number }[]>`
      SELECT tod_ensure_metric_partitions(${day(-40)}::date, ${day(-38)}::date) AS n`;
    expect(again[0]!.n).toBe(0);
    const names = await partitions('metric_resource');
    expect(names).toContain(`metric_resource_p${day(-40).replaceAll('-', '')}`);
    expect(names).toContain(`metric_resource_p${day(0).replaceAll('-', '')}`);
  });

  it('refuse ranges that would create many partitions', async () => {
    await expect(
      app`SELECT tod_ensure_metric_partitions(${day(-200)}::date, ${day(0)}::date)`,
    ).rejects.toThrow(/out of bounds/);
    await expect(app`SELECT tod_ensure_metric_partitions(${day(0)}::date, ${day(90)}::date)`).rejects.toThrow(
      /out of bounds/,
    );
  });

  it('are dropped after the retention, with the samples in them', async () => {
    const old = `${day(-40)}T12:00:00Z`;
    await asTenant(
      A,
      (tx) => tx`INSERT INTO metric_resource VALUES (${A}, ${DEV_A}, ${old}, 5, 1, 2, 1, 2, 3)`,
    );
    const dropped = await app<{ n: number }[]>`SELECT tod_drop_expired_metric_partitions(30, 365) AS n`;
    expect(dropped[0]!.n).toBeGreaterThanOrEqual(3 * 5);
    const names = await partitions('metric_resource');
    expect(names).not.toContain(`metric_resource_p${day(-40).replaceAll('-', '')}`);
    expect(names).toContain(`metric_resource_p${day(0).replaceAll('-', '')}`);
    const [{ n }] = (await superuser`SELECT count(*)::int AS n FROM metric_resource`) as unknown as [
      { n: number },
    ];
    expect(n).toBe(0);
    await expect(app`SELECT tod_drop_expired_metric_partitions(0, 365)`).rejects.toThrow(/invalid retention/);
  });

  it('are not reachable directly by the application role', async () => {
    const part = `metric_resource_p${day(0).replaceAll('-', '')}`;
    await expect(asTenant(A, (tx) => tx.unsafe(`SELECT * FROM ${part}`))).rejects.toThrow(
      /permission denied/,
    );
  });
});

describe('pipeline tables under RLS', () => {
  it('keep every tenant to its own samples, ledger and rollups', async () => {
    const t = new Date().toISOString();
    for (const [tenant, device] of [
      [A, DEV_A],
      [B, DEV_B],
    ] as const) {
      await asTenant(tenant, async (tx) => {
        await tx`INSERT INTO ingested_events (tenant_id, id, at, device_id, collector_id, kind, stream_seq)
          VALUES (${tenant}, 'same-event-id', ${t}, ${device}, ${device}, 'resource', 1)`;
        await tx`INSERT INTO metric_resource VALUES (${tenant}, ${device}, ${t}, 50, 1, 2, 1, 2, 3)`;
        await tx`INSERT INTO metric_rollup_pending VALUES (${tenant}, date_bin('5 minutes', ${t}::timestamptz, timestamptz 'epoch'))`;
        await tx`SELECT tod_rollup_metrics()`;
      });
    }
    for (const table of [
      'ingested_events',
      'metric_resource',
      'metric_resource_rollup',
      'metric_interfaces',
      'metric_health',
      'metric_wireless',
      'metric_rollup_pending',
    ]) {
      const rows = await asTenant(A, (tx) => tx.unsafe(`SELECT tenant_id FROM ${table}`));
      expect(
        rows.every((r) => r.tenant_id === A),
        table,
      ).toBe(true);
      expect(await asTenant(null, (tx) => tx.unsafe(`SELECT * FROM ${table}`)), table).toHaveLength(0);
    }
    const rollups = await asTenant(A, (tx) => tx`SELECT resolution FROM metric_resource_rollup ORDER BY 1`);
    expect(rollups.map((r) => r.resolution)).toEqual(['1h', '5m']);
    await expect(
      asTenant(A, (tx) => tx`INSERT INTO metric_resource VALUES (${B}, ${DEV_B}, ${t}, 50, 1, 2, 1, 2, 3)`),
    ).rejects.toThrow(/row-level security/);
  });
});
