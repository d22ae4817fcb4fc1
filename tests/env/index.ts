// The test environment every workspace uses: a fresh database per test file (cloned from the migrated
// template) and a real nats-server per call. Import from test files only.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { inject } from 'vitest';
import { APP_ROLE, OWNER_ROLE, withCredentials, withDatabase } from '../../drizzle/src/migrate';
import { type NatsHandle, startNats } from '../../scripts/services/nats';
import { natsOperator } from '../../scripts/services/nats-auth';
import { onFileEnd } from './cleanup';
import { TEMPLATE_DB, TEST_APP_PASSWORD, TEST_OWNER_PASSWORD } from './constants';

export interface TestDatabase {
  name: string;
  /** Superuser on this database (inspection only: never what the product uses). */
  superUrl: string;
  /** The schema owner: what migrations run as. */
  ownerUrl: string;
  /** The application role the edge connects as; subject to RLS. */
  appUrl: string;
  drop(): Promise<void>;
}

/** A new database cloned from the migrated template; dropped after the test file. */
export async function freshDatabase(): Promise<TestDatabase> {
  const clusterUrl = inject('pgSuperUrl');
  const name = `tod_t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(clusterUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB} OWNER ${OWNER_ROLE}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const dbUrl = withDatabase(clusterUrl, name);
  let dropped = false;
  const db: TestDatabase = {
    name,
    superUrl: dbUrl,
    ownerUrl: withCredentials(dbUrl, OWNER_ROLE, TEST_OWNER_PASSWORD),
    appUrl: withCredentials(dbUrl, APP_ROLE, TEST_APP_PASSWORD),
    async drop() {
      if (dropped) return;
      dropped = true;
      const sql = postgres(clusterUrl, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  };
  onFileEnd(() => db.drop());
  return db;
}

/** A real nats-server with JetStream and websocket on random loopback ports; stopped after the test file.
 * With `auth: true` it runs in operator mode (JWT auth): `nats.auth` issues credentials, and
 * `nats.auth.edgeVars` are what startEdge needs to issue them too. */
export async function freshNats(opts: { auth?: boolean } = {}): Promise<NatsHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'tod-test-nats-'));
  const nats = await startNats({ dir, ...(opts.auth ? { auth: await natsOperator() } : {}) });
  onFileEnd(async () => {
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return nats;
}
