// Tenant isolation proved from outside the application: connect as the application role (what the edge
// uses) and try to reach another tenant's rows with plain SQL.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../tests/env';

let owner: postgres.Sql;
let app: postgres.Sql;
let superuser: postgres.Sql;
const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
let deviceB = '';
const ACTOR = '00000000-0000-4000-8000-0000000000ff';

beforeAll(async () => {
  const db = await freshDatabase();
  superuser = postgres(db.superUrl, { max: 1, onnotice: () => {} });
  owner = postgres(db.ownerUrl, { max: 1, onnotice: () => {} });
  app = postgres(db.appUrl, { max: 2, onnotice: () => {} });
  // Seed as the owner through the audited cross-tenant path (the owner is subject to the same policies
  // only when FORCE is set; seeding does not depend on that).
  await superuser`INSERT INTO tenants (id, name, slug) VALUES (${A}, 'Acme', 'acme'), (${B}, 'Bravo', 'bravo')`;
  await superuser`INSERT INTO devices (tenant_id, name, host) VALUES (${A}, 'a-core', '10.0.0.1')`;
  const [row] = await superuser<{ id: string }[]>`
    INSERT INTO devices (tenant_id, name, host) VALUES (${B}, 'b-core', '10.1.0.1') RETURNING id`;
  deviceB = row!.id;
  await superuser`INSERT INTO tags (tenant_id, name) VALUES (${A}, 'core'), (${B}, 'core')`;
});

afterAll(async () => {
  await Promise.all([owner?.end(), app?.end(), superuser?.end()]);
});

/** Runs fn in one transaction as the application role with app.tenant_id set (or not). */
function asTenant<T>(tenant: string | null, fn: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  return app.begin(async (tx) => {
    if (tenant) await tx`SELECT set_config('app.tenant_id', ${tenant}, true)`;
    return fn(tx);
  }) as Promise<T>;
}

describe('row-level security for the application role', () => {
  it('is not the owner of any table and cannot bypass RLS', async () => {
    const [role] = await app<{ rolbypassrls: boolean; rolsuper: boolean }[]>`
      SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user`;
    expect(role).toEqual({ rolbypassrls: false, rolsuper: false });
    const owned =
      await app`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user`;
    expect(owned).toHaveLength(0);
  });

  it("shows tenant A only A's rows", async () => {
    const rows = await asTenant(
      A,
      (tx) => tx<{ name: string; tenant_id: string }[]>`SELECT name, tenant_id FROM devices`,
    );
    expect(rows.map((r) => r.name)).toEqual(['a-core']);
    const tenants = await asTenant(A, (tx) => tx<{ slug: string }[]>`SELECT slug FROM tenants`);
    expect(tenants.map((t) => t.slug)).toEqual(['acme']);
    const tags = await asTenant(A, (tx) => tx`SELECT tenant_id FROM tags`);
    expect(tags.every((t) => t.tenant_id === A)).toBe(true);
  });

  it("cannot read B's device even by id", async () => {
    const rows = await asTenant(A, (tx) => tx`SELECT * FROM devices WHERE id = ${deviceB}`);
    expect(rows).toHaveLength(0);
  });

  it('cannot insert a row for tenant B', async () => {
    await expect(
      asTenant(A, (tx) => tx`INSERT INTO devices (tenant_id, name, host) VALUES (${B}, 'evil', '1.2.3.4')`),
    ).rejects.toThrow(/row-level security/);
  });

  it("cannot update or delete B's rows (they are invisible, so nothing changes)", async () => {
    const updated = await asTenant(A, (tx) => tx`UPDATE devices SET name = 'pwned' WHERE id = ${deviceB}`);
    expect(updated.count).toBe(0);
    const deleted = await asTenant(A, (tx) => tx`DELETE FROM devices WHERE tenant_id = ${B}`);
    expect(deleted.count).toBe(0);
    const [still] = await superuser<{ name: string }[]>`SELECT name FROM devices WHERE id = ${deviceB}`;
    expect(still?.name).toBe('b-core');
  });

  it('cannot move its own row into tenant B', async () => {
    await expect(
      asTenant(A, (tx) => tx`UPDATE devices SET tenant_id = ${B} WHERE tenant_id = ${A}`),
    ).rejects.toThrow(/row-level security/);
  });

  it('sees nothing at all with no tenant set', async () => {
    for (const table of ['tenants', 'devices', 'tags', 'users', 'collectors', 'api_keys', 'audit_log']) {
      const rows = await asTenant(null, (tx) => tx.unsafe(`SELECT * FROM ${table}`));
      expect(rows, table).toHaveLength(0);
    }
  });

  it('cannot create tenants or reach other tenants without the audited cross-tenant path', async () => {
    await expect(asTenant(A, (tx) => tx`INSERT INTO tenants (name, slug) VALUES ('X', 'x')`)).rejects.toThrow(
      /row-level security/,
    );
    // Naming an audit entry by hand (here: a real one from another transaction) grants nothing.
    await asTenant(
      A,
      (tx) => tx`INSERT INTO audit_log (tenant_id, actor_type, action) VALUES (${A}, 'system', 'x.y')`,
    );
    const [{ max }] = (await superuser`SELECT max(id)::text AS max FROM audit_log`) as unknown as [
      { max: string },
    ];
    const rows = await asTenant(null, async (tx) => {
      await tx`SELECT set_config('app.cross_tenant_audit_id', ${max}, true)`;
      return tx`SELECT * FROM devices`;
    });
    expect(rows).toHaveLength(0);
  });

  it('reaches all tenants after writing the cross-tenant audit record in the same transaction', async () => {
    const names = await asTenant(null, async (tx) => {
      await tx`SELECT tod_begin_cross_tenant(${ACTOR}, 'fleet overview', 'req-1')`;
      return tx<{ name: string }[]>`SELECT name FROM devices ORDER BY name`;
    });
    expect(names.map((r) => r.name)).toEqual(['a-core', 'b-core']);
    const [audit] =
      await superuser`SELECT actor_id, target_id, request_id FROM audit_log WHERE action = 'cross_tenant.access'`;
    expect(audit).toEqual({ actor_id: ACTOR, target_id: 'fleet overview', request_id: 'req-1' });
    // ...and only inside that transaction.
    const after = await asTenant(null, (tx) => tx`SELECT * FROM devices`);
    expect(after).toHaveLength(0);
  });

  it('keeps the audit log append-only for the application role and the owner alike', async () => {
    await asTenant(
      A,
      (tx) =>
        tx`INSERT INTO audit_log (tenant_id, actor_type, action) VALUES (${A}, 'system', 'device.create')`,
    );
    await expect(asTenant(A, (tx) => tx`UPDATE audit_log SET action = 'x.y'`)).rejects.toThrow(
      /permission denied/,
    );
    await expect(asTenant(A, (tx) => tx`DELETE FROM audit_log`)).rejects.toThrow(/permission denied/);
    await expect(owner`DELETE FROM audit_log`).rejects.toThrow(/append-only/);
    // Tenant A cannot forge an entry into B's trail.
    await expect(
      asTenant(
        A,
        (tx) =>
          tx`INSERT INTO audit_log (tenant_id, actor_type, action) VALUES (${B}, 'system', 'device.create')`,
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('cannot change the schema', async () => {
    await expect(app`CREATE TABLE evil (id int)`).rejects.toThrow(/permission denied/);
    await expect(app`ALTER TABLE devices DISABLE ROW LEVEL SECURITY`).rejects.toThrow(/must be owner/);
  });
});
