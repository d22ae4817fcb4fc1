// The local TOD stack, shared by `npm start` (scripts/dev-stack.ts) and the end-to-end tests: Postgres
// (embedded or DATABASE_URL), nats-server (embedded or NATS_URL), migrations, then the web and edge Workers in
// one `wrangler dev` session (web first, with a service binding to the edge).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { migrate } from '../drizzle/src/migrate';
import { ConfigError, loadConfig } from '../edge/src/config';
import { type DemoHandle, startDemo } from './demo';
import { type NatsHandle, startNats } from './services/nats';
import { type NatsOperatorSeeds, natsOperator, newNatsOperatorSeeds } from './services/nats-auth';
import { type EmbeddedPostgresHandle, freePort, startTodDatabase } from './services/postgres';
import { type StackConfig, StackConfigError } from './stack-config';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DATABASE = 'tod';

export interface StackHandle {
  portalUrl: string;
  adminEmail: string;
  adminPassword: string;
  dataDir: string;
  databaseUrl: string;
  natsUrl: string;
  /** Connect options (credentials) for an unrestricted NATS user, when the embedded NATS runs with auth. */
  natsAdminOptions(): Promise<Record<string, unknown>>;
  /** The simulated demo fleet, unless TOD_DEMO=0. */
  demo?: DemoHandle;
  stop(): Promise<void>;
}

interface Secrets {
  pgOwnerPassword: string;
  pgAppPassword: string;
  jwtSecret: string;
  credentialKey: string;
  adminPassword: string;
  /** Operator, system account and TOD account keys of the embedded NATS (JWT auth); added on first need. */
  natsOperator?: NatsOperatorSeeds;
}

export type Log = (line: string) => void;

/** Starts everything; on any failure stops what it started and rethrows. */
export async function startStack(cfg: StackConfig, log: Log = () => {}): Promise<StackHandle> {
  const dataDir = isAbsolute(cfg.TOD_DATA_DIR) ? cfg.TOD_DATA_DIR : join(ROOT, cfg.TOD_DATA_DIR);
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  const secrets = await loadSecrets(dataDir);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    stops.length = 0;
  };
  const secretVars = {
    ENVIRONMENT: cfg.ENVIRONMENT,
    JWT_SECRET_KEY: cfg.JWT_SECRET_KEY ?? secrets.jwtSecret,
    CREDENTIAL_ENCRYPTION_KEY: cfg.CREDENTIAL_ENCRYPTION_KEY ?? secrets.credentialKey,
    FIRST_ADMIN_EMAIL: cfg.FIRST_ADMIN_EMAIL,
    FIRST_ADMIN_PASSWORD: cfg.FIRST_ADMIN_PASSWORD ?? secrets.adminPassword,
  };
  // Refuse bad configuration before starting anything: the edge's own rules, with the real URLs when given.
  validateEdgeConfig({
    ...secretVars,
    DATABASE_URL: cfg.DATABASE_URL ?? 'postgres://embedded@127.0.0.1/tod',
    NATS_WS_URL: cfg.NATS_WS_URL ?? 'ws://127.0.0.1:1',
    ...(cfg.NATS_ACCOUNT_PUBLIC_KEY ? { NATS_ACCOUNT_PUBLIC_KEY: cfg.NATS_ACCOUNT_PUBLIC_KEY } : {}),
    ...(cfg.NATS_ACCOUNT_SIGNING_SEED ? { NATS_ACCOUNT_SIGNING_SEED: cfg.NATS_ACCOUNT_SIGNING_SEED } : {}),
  });
  if (cfg.NATS_URL) await checkNats(cfg.NATS_URL);
  if (cfg.DATABASE_URL) await checkPostgres(cfg.DATABASE_URL, 'DATABASE_URL');
  if (cfg.DATABASE_OWNER_URL) await checkPostgres(cfg.DATABASE_OWNER_URL, 'DATABASE_OWNER_URL');

  try {
    const db = await startDatabase(cfg, dataDir, secrets, log);
    if (db.pg) stops.push(() => db.pg!.stop());
    const nats = await startMessageBus(cfg, dataDir, secrets, log);
    if (nats.handle) stops.push(() => nats.handle!.stop());
    const natsAuthVars = nats.handle?.auth?.edgeVars ?? {
      ...(cfg.NATS_ACCOUNT_PUBLIC_KEY ? { NATS_ACCOUNT_PUBLIC_KEY: cfg.NATS_ACCOUNT_PUBLIC_KEY } : {}),
      ...(cfg.NATS_ACCOUNT_SIGNING_SEED ? { NATS_ACCOUNT_SIGNING_SEED: cfg.NATS_ACCOUNT_SIGNING_SEED } : {}),
    };
    const edgeVars = {
      ...secretVars,
      ...natsAuthVars,
      DATABASE_URL: db.appUrl,
      NATS_WS_URL: nats.wsUrl,
      NATS_URL: nats.url,
    };

    await buildWebIfStale(log);
    const port = cfg.PORT === 0 ? await freePort() : cfg.PORT;
    const edgeConfig = await writeEdgeConfig(dataDir, {
      ENVIRONMENT: edgeVars.ENVIRONMENT,
      ...(edgeVars.NATS_URL ? { NATS_URL: edgeVars.NATS_URL } : {}),
    });
    // PORT=0 (tests, benchmarks): stacks may run side by side, so the debugger port is a free one too instead
    // of wrangler's fixed 9229, which the second stack would fail on.
    const inspectorPort = cfg.PORT === 0 ? await freePort() : undefined;
    const wrangler = spawnWrangler(port, cfg.HOST, edgeVars, dataDir, edgeConfig, log, inspectorPort);
    stops.push(() => stopChild(wrangler));
    const portalUrl = `http://${cfg.HOST}:${port}`;
    await waitForReady(portalUrl, wrangler);
    let demo: DemoHandle | undefined;
    if (cfg.TOD_DEMO) {
      if (!db.ownerUrl) {
        log('demo: skipped (needs DATABASE_OWNER_URL with an external database)');
      } else {
        // The demo is a convenience: when it cannot start, TOD still does (and says why).
        try {
          const started = await startDemo({
            portalUrl,
            dataDir,
            ownerDbUrl: db.ownerUrl,
            natsUrl: nats.url,
            log,
          });
          demo = started;
          stops.push(() => started.stop());
          log(`demo: ${started.devices} simulated devices polled by collector ${started.collectorId}`);
        } catch (err) {
          log(`demo: not started: ${(err as Error).message}`);
        }
      }
    }
    return {
      portalUrl,
      adminEmail: cfg.FIRST_ADMIN_EMAIL,
      adminPassword: edgeVars.FIRST_ADMIN_PASSWORD,
      dataDir,
      databaseUrl: db.appUrl,
      natsUrl: nats.url,
      natsAdminOptions: async () => (nats.handle?.auth ? nats.handle.auth.adminOptions() : {}),
      ...(demo ? { demo } : {}),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function validateEdgeConfig(vars: Record<string, string>): void {
  try {
    loadConfig(vars);
  } catch (err) {
    if (err instanceof ConfigError)
      throw new StackConfigError(err.variable, err.message.slice(err.variable.length + 1));
    throw err;
  }
}

async function loadSecrets(dataDir: string): Promise<Secrets> {
  const file = join(dataDir, 'secrets.json');
  if (existsSync(file)) {
    const secrets = JSON.parse(await readFile(file, 'utf8')) as Secrets;
    if (secrets.natsOperator) return secrets;
    // A data dir from before NATS auth: add the keys, keep the rest.
    const upgraded = { ...secrets, natsOperator: newNatsOperatorSeeds() };
    await writeFile(file, JSON.stringify(upgraded, null, 2) + '\n', { mode: 0o600 });
    return upgraded;
  }
  const secrets: Secrets = {
    pgOwnerPassword: randomBytes(18).toString('base64url'),
    pgAppPassword: randomBytes(18).toString('base64url'),
    jwtSecret: randomBytes(48).toString('base64url'),
    credentialKey: randomBytes(32).toString('base64'),
    adminPassword: randomBytes(12).toString('base64url'),
    natsOperator: newNatsOperatorSeeds(),
  };
  await writeFile(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  return secrets;
}

async function startDatabase(
  cfg: StackConfig,
  dataDir: string,
  secrets: Secrets,
  log: Log,
): Promise<{ appUrl: string; ownerUrl?: string; pg?: EmbeddedPostgresHandle }> {
  if (cfg.DATABASE_URL) {
    if (cfg.DATABASE_OWNER_URL) {
      const { applied } = await migrate(cfg.DATABASE_OWNER_URL);
      log(`postgres: external, ${applied.length} migration(s) applied`);
    } else {
      log('postgres: external; DATABASE_OWNER_URL not set, so migrations are not run here');
    }
    return {
      appUrl: cfg.DATABASE_URL,
      ...(cfg.DATABASE_OWNER_URL ? { ownerUrl: cfg.DATABASE_OWNER_URL } : {}),
    };
  }
  const db = await startTodDatabase({
    dataDir: join(dataDir, 'postgres'),
    database: DATABASE,
    ownerPassword: secrets.pgOwnerPassword,
    appPassword: secrets.pgAppPassword,
  });
  log(`postgres: embedded on 127.0.0.1:${db.pg.port}, ${db.applied.length} migration(s) applied`);
  return { appUrl: db.appUrl, ownerUrl: db.ownerUrl, pg: db.pg };
}

async function checkPostgres(url: string, variable: string): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
  } catch (err) {
    const host = new URL(url).host;
    throw new StackConfigError(variable, `cannot connect to Postgres at ${host}: ${(err as Error).message}`);
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

async function startMessageBus(
  cfg: StackConfig,
  dataDir: string,
  secrets: Secrets,
  log: Log,
): Promise<{ url: string; wsUrl: string; handle?: NatsHandle }> {
  if (cfg.NATS_URL && cfg.NATS_WS_URL) {
    log(`nats: external ${new URL(cfg.NATS_URL).host}`);
    return { url: cfg.NATS_URL, wsUrl: cfg.NATS_WS_URL };
  }
  const handle = await startNats({
    dir: join(dataDir, 'nats'),
    auth: await natsOperator(secrets.natsOperator ?? newNatsOperatorSeeds()),
  });
  log(`nats: embedded on ${handle.url} (websocket ${handle.wsUrl}), JWT auth`);
  return { url: handle.url, wsUrl: handle.wsUrl, handle };
}

/** Connects to the NATS client port and waits for the server's INFO line. */
export function checkNats(natsUrl: string, timeoutMs = 3000): Promise<void> {
  const u = new URL(natsUrl);
  const port = Number(u.port || 4222);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port });
    const fail = (why: string) => {
      socket.destroy();
      reject(new StackConfigError('NATS_URL', `cannot reach NATS at ${u.hostname}:${port} (${why})`));
    };
    socket.setTimeout(timeoutMs, () => fail('timed out'));
    socket.once('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    socket.once('data', (chunk) => {
      socket.destroy();
      if (chunk.toString('latin1').startsWith('INFO ')) resolve();
      else reject(new StackConfigError('NATS_URL', `${u.hostname}:${port} is not a NATS server`));
    });
  });
}

const WEB_DIR = join(ROOT, 'web');
const WEB_WORKER = join(WEB_DIR, '.svelte-kit', 'cloudflare', '_worker.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the portal (vite build) when there is no build or a source is newer than it. */
export async function buildWebIfStale(log: Log): Promise<void> {
  const sources = Math.max(
    newestMtime(join(WEB_DIR, 'src')),
    newestMtime(join(ROOT, 'contracts', 'src')),
    statSync(join(WEB_DIR, 'svelte.config.js')).mtimeMs,
  );
  if (existsSync(WEB_WORKER) && statSync(WEB_WORKER).mtimeMs >= sources) return;
  log('web: building the portal…');
  await run(join(ROOT, 'node_modules', '.bin', 'vite'), ['build'], WEB_DIR);
}

function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (c) => {
      out += c;
    });
    child.stderr?.on('data', (c) => {
      out += c;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed:\n${out.slice(-2000)}`)),
    );
  });
}

/** The edge's wrangler.toml with this stack's plain vars. In a multi-config `wrangler dev`, `--var` reaches
 * only the first Worker (web), so the edge would keep wrangler.toml's ENVIRONMENT = "production" (and, for
 * one, refuse the first admin's enrolment over plain HTTP). The copy lives in the data directory. */
async function writeEdgeConfig(dataDir: string, vars: Record<string, string>): Promise<string> {
  let toml = await readFile(join(ROOT, 'wrangler.toml'), 'utf8');
  toml = toml.replace(/^main = "(.*)"$/m, (_, main: string) => `main = ${JSON.stringify(join(ROOT, main))}`);
  for (const [name, value] of Object.entries(vars)) {
    const line = `${name} = ${JSON.stringify(value)}`;
    const existing = new RegExp(`^${name} = .*$`, 'm');
    toml = existing.test(toml)
      ? toml.replace(existing, line)
      : toml.replace(/^\[vars\]$/m, `[vars]\n${line}`);
  }
  const file = join(dataDir, 'edge.wrangler.toml');
  await writeFile(file, toml);
  return file;
}

/** The edge's secrets reach it through wrangler's environment (wrangler.toml `[secrets] required`), never
 * through a file in the repository or the command line. */
function spawnWrangler(
  port: number,
  host: string,
  edgeVars: Record<string, string>,
  dataDir: string,
  edgeConfig: string,
  log: Log,
  inspectorPort?: number,
): ChildProcess {
  const args = [
    'dev',
    '-c',
    join(WEB_DIR, 'wrangler.toml'),
    '-c',
    edgeConfig,
    '--ip',
    host,
    '--port',
    String(port),
    '--var',
    `ENVIRONMENT:${edgeVars.ENVIRONMENT}`,
    // Not a secret: the nats:// URL the edge hands collectors at enrolment.
    ...(edgeVars.NATS_URL ? ['--var', `NATS_URL:${edgeVars.NATS_URL}`] : []),
    '--persist-to',
    join(dataDir, 'wrangler'),
    '--show-interactive-dev-session=false',
    '--log-level',
    'warn',
    ...(inspectorPort ? ['--inspector-port', String(inspectorPort)] : []),
  ];
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'wrangler'), args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...edgeVars, WRANGLER_SEND_METRICS: 'false', CI: process.env.CI ?? 'true' },
    detached: true,
  });
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) log(`wrangler: ${line}`);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  // wrangler runs in its own process group (so stop() can signal workerd too); never leave it behind.
  process.once('exit', () => {
    try {
      if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  });
  return child;
}

async function waitForReady(portalUrl: string, wrangler: ChildProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (wrangler.exitCode !== null) throw new Error(`wrangler dev exited with code ${wrangler.exitCode}`);
    try {
      const res = await fetch(`${portalUrl}/health/ready`, { signal: AbortSignal.timeout(5000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the portal did not become ready within ${timeoutMs / 1000} s (${last})`);
}

/** Stops wrangler and workerd (its child) by signalling the whole process group. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        child.kill(sig);
      }
    };
    const t = setTimeout(() => kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    kill('SIGTERM');
  });
}
