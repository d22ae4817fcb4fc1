// The SQL migrations are the source of truth; the drizzle schema must describe exactly those columns.
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../tests/env';
import { migrate } from '../src/migrate';
import { allTables } from '../src/schema';

let sql: postgres.Sql;
let ownerUrl = '';

beforeAll(async () => {
  const db = await freshDatabase();
  ownerUrl = db.ownerUrl;
  sql = postgres(db.superUrl, { max: 1 });
});
afterAll(() => sql?.end());

describe('schema', () => {
  it('matches the migrated tables column for column', async () => {
    for (const [name, table] of Object.entries(allTables)) {
      const cfg = getTableConfig(table as PgTable);
      const cols = await sql<{ column_name: string; is_nullable: string }[]>`
        SELECT column_name, is_nullable FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = ${name} ORDER BY column_name`;
      expect(cols.length, `table ${name} exists`).toBeGreaterThan(0);
      const inDb = Object.fromEntries(cols.map((c) => [c.column_name, c.is_nullable === 'NO']));
      const inDrizzle = Object.fromEntries(cfg.columns.map((c) => [c.name, c.notNull]));
      expect(inDrizzle, `columns of ${name}`).toEqual(inDb);
    }
  });

  it('enables row-level security on every table with a tenant', async () => {
    const rows = await sql<{ relname: string; relrowsecurity: boolean }[]>`
      SELECT c.relname, c.relrowsecurity FROM pg_class c
      JOIN information_schema.columns col ON col.table_name = c.relname AND col.column_name = 'tenant_id'
      WHERE c.relkind = 'r' AND col.table_schema = 'public'`;
    expect(rows.length).toBeGreaterThanOrEqual(9);
    for (const r of rows) expect(r.relrowsecurity, r.relname).toBe(true);
  });

  it('re-running migrations applies nothing', async () => {
    const again = await migrate(ownerUrl);
    expect(again.applied).toEqual([]);
    expect(again.skipped.length).toBeGreaterThan(0);
  });
});
