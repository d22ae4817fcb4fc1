// The edge's only way to Postgres. Workers cannot share sockets between requests, so each request opens one
// connection (Hyperdrive pools them in production) and closes it after the response. Tenant context is set
// per transaction, so RLS in the database, not the handler, keeps tenants apart.
import * as schema from '@tod/drizzle/schema';
import { sql } from 'drizzle-orm';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';

export type Db = PostgresJsDatabase<typeof schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface DbHandle {
  db: Db;
  close(): Promise<void>;
}

export function openDb(url: string): DbHandle {
  const client = postgres(url, {
    max: 1,
    connect_timeout: 5,
    idle_timeout: 5,
    fetch_types: false,
    prepare: false,
    onnotice: () => {},
  });
  return { db: drizzle(client, { schema }), close: () => client.end({ timeout: 2 }) };
}

/** Runs fn in a transaction scoped to one tenant. */
export function withTenant<T>(db: Db, tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT set_config('app.tenant_id', ${tenantId}, true)`);
    return fn(tx);
  });
}

/** The explicit, audited path across tenants (super admins): the database refuses cross-tenant rows unless
 * this transaction first recorded who and why in the audit log. */
export function withCrossTenant<T>(
  db: Db,
  actor: { userId: string; reason: string; requestId?: string },
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(
      sql`SELECT tod_begin_cross_tenant(${actor.userId}, ${actor.reason}, ${actor.requestId ?? null})`,
    );
    return fn(tx);
  });
}
