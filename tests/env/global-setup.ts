// Vitest global setup: one embedded Postgres cluster for the whole run with a migrated template database.
// Each test file then clones its own database from the template (tests/env/index.ts), so no test sees
// another's rows or a developer's leftovers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import {
  bootstrapDatabase,
  migrate,
  OWNER_ROLE,
  withCredentials,
  withDatabase,
} from '../../drizzle/src/migrate';
import { startEmbeddedPostgres } from '../../scripts/services/postgres';
import { buildWebIfStale } from '../../scripts/stack';
import { TEMPLATE_DB, TEST_APP_PASSWORD, TEST_OWNER_PASSWORD } from './constants';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The portal build, once and before any file runs: several browser-test files start stacks at once, and
  // concurrent `vite build`s into one output directory break each other (on a clean checkout, none is there).
  await buildWebIfStale((line) => console.log(line));
  const dir = await mkdtemp(join(tmpdir(), 'tod-test-pg-'));
  const pg = await startEmbeddedPostgres({ dataDir: dir, ephemeral: true });
  await bootstrapDatabase({
    superUrl: pg.superUrl,
    database: TEMPLATE_DB,
    ownerPassword: TEST_OWNER_PASSWORD,
    appPassword: TEST_APP_PASSWORD,
  });
  await migrate(withCredentials(withDatabase(pg.superUrl, TEMPLATE_DB), OWNER_ROLE, TEST_OWNER_PASSWORD));
  project.provide('pgSuperUrl', pg.superUrl);
  return async () => {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
