// `npm run migrate`: applies pending migrations to DATABASE_OWNER_URL (the schema owner's connection). With
// TOD_APP_PASSWORD set it first creates the application role (tod_app) when the owner may manage roles.
import { APP_ROLE, MigrationError, migrate, provisionAppRole } from './migrate';

const url = process.env.DATABASE_OWNER_URL;
if (!url) {
  console.error(
    'DATABASE_OWNER_URL is not set: give the connection URL of the role that owns the TOD schema',
  );
  process.exit(2);
}
try {
  const appPassword = process.env.TOD_APP_PASSWORD;
  if (appPassword) {
    await provisionAppRole(url, appPassword);
    console.log(`role ${APP_ROLE}: in place`);
  }
  const { applied, skipped } = await migrate(url);
  console.log(`migrations: ${applied.length} applied, ${skipped.length} already in place`);
} catch (err) {
  console.error(err instanceof MigrationError ? err.message : `migration failed: ${(err as Error).message}`);
  process.exit(1);
}
