// `npm run migrate`: applies pending migrations to DATABASE_OWNER_URL (the schema owner's connection).
import { MigrationError, migrate } from './migrate';

const url = process.env.DATABASE_OWNER_URL;
if (!url) {
  console.error(
    'DATABASE_OWNER_URL is not set: give the connection URL of the role that owns the TOD schema',
  );
  process.exit(2);
}
try {
  const { applied, skipped } = await migrate(url);
  console.log(`migrations: ${applied.length} applied, ${skipped.length} already in place`);
} catch (err) {
  console.error(err instanceof MigrationError ? err.message : `migration failed: ${(err as Error).message}`);
  process.exit(1);
}
