// Database set-up for every process that owns the schema: role bootstrap (embedded/test clusters) and the
// ordered, checksummed SQL migrations under drizzle/migrations. The edge never runs this; it connects as
// the application role, which cannot change the schema.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));
export const APP_ROLE = 'tod_app';
export const OWNER_ROLE = 'tod_owner';

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (name) => {
      const sql = await readFile(dir + name, 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

export class MigrationError extends Error {
  readonly code = 'migration_failed';
}

export interface MigrateResult {
  applied: string[];
  skipped: string[];
}

/** Applies pending migrations in order, one transaction each, under an advisory lock so two starting
 * processes never race. A migration whose file changed after it was applied is refused. */
export async function migrate(ownerUrl: string, dir = MIGRATIONS_DIR): Promise<MigrateResult> {
  const migrations = await loadMigrations(dir);
  const sql = postgres(ownerUrl, { max: 1, onnotice: () => {} });
  const applied: string[] = [];
  const skipped: string[] = [];
  try {
    await sql`SELECT pg_advisory_lock(7150917)`;
    await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;
    const done = new Map(
      (await sql<{ name: string; checksum: string }[]>`SELECT name, checksum FROM schema_migrations`).map(
        (r) => [r.name, r.checksum],
      ),
    );
    for (const m of migrations) {
      const prior = done.get(m.name);
      if (prior !== undefined) {
        if (prior !== m.checksum) {
          throw new MigrationError(
            `migration ${m.name} was changed after it was applied; add a new migration`,
          );
        }
        skipped.push(m.name);
        continue;
      }
      try {
        await sql.begin(async (tx) => {
          await tx.unsafe(m.sql);
          await tx`INSERT INTO schema_migrations (name, checksum) VALUES (${m.name}, ${m.checksum})`;
        });
      } catch (err) {
        throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`);
      }
      applied.push(m.name);
    }
    await sql`SELECT pg_advisory_unlock(7150917)`;
  } finally {
    await sql.end({ timeout: 5 });
  }
  return { applied, skipped };
}

export interface BootstrapOptions {
  /** URL of a superuser (or CREATEROLE) connection to the cluster, e.g. the embedded cluster's postgres user. */
  superUrl: string;
  database: string;
  ownerPassword: string;
  appPassword: string;
}

/** Creates the owner and application roles and the database when missing (embedded clusters and tests).
 * With a managed Postgres the operator creates these once; see the README. */
export async function bootstrapDatabase(opts: BootstrapOptions): Promise<void> {
  const sql = postgres(opts.superUrl, { max: 1, onnotice: () => {} });
  try {
    await ensureRole(sql, OWNER_ROLE, opts.ownerPassword, 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE');
    await ensureRole(
      sql,
      APP_ROLE,
      opts.appPassword,
      'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS',
    );
    const [exists] = await sql`SELECT 1 FROM pg_database WHERE datname = ${opts.database}`;
    if (!exists) await sql.unsafe(`CREATE DATABASE ${quoteIdent(opts.database)} OWNER ${OWNER_ROLE}`);
    // The owner must be able to create the pgcrypto extension in its database.
    const db = postgres(withDatabase(opts.superUrl, opts.database), { max: 1, onnotice: () => {} });
    try {
      await db`CREATE EXTENSION IF NOT EXISTS pgcrypto`;
      await db.unsafe(`GRANT ALL ON SCHEMA public TO ${OWNER_ROLE}`);
      await db.unsafe(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    } finally {
      await db.end({ timeout: 5 });
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Creates (or re-passwords) the application role through a connection allowed to manage roles. */
export async function provisionAppRole(url: string, appPassword: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await ensureRole(sql, APP_ROLE, appPassword, APP_ROLE_ATTRS);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

const APP_ROLE_ATTRS = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS';

async function ensureRole(sql: postgres.Sql, role: string, password: string, attrs: string): Promise<void> {
  const [exists] = await sql`SELECT 1 FROM pg_roles WHERE rolname = ${role}`;
  const verb = exists ? 'ALTER' : 'CREATE';
  await sql.unsafe(`${verb} ROLE ${role} WITH ${attrs} PASSWORD ${quoteLiteral(password)}`);
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + encodeURIComponent(database);
  return u.toString();
}

export function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString();
}

function quoteIdent(name: string): string {
  return '"' + name.replaceAll('"', '""') + '"';
}

function quoteLiteral(value: string): string {
  return "'" + value.replaceAll("'", "''") + "'";
}
