// Edge API benchmark: p50/p99 of listing a 10,000-device tenant (filtered, sorted, one page; and a deep
// keyset page) and of the SRP login round trips, against the real Worker in workerd and an embedded
// Postgres. Writes bench/results/edge-api.json. Run with `npm run bench`.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  computeLoginProof,
  createEnrolment,
  generateSecretKey,
  type SecretKey,
  startLogin,
} from '@tod/contracts/srp';
import postgres from 'postgres';
import { unstable_startWorker } from 'wrangler';
import { startTodDatabase } from '../scripts/services/postgres';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DEVICES = 10_000;
const LIST_RUNS = 300;
const LOGIN_RUNS = 30;
const DB = 'tod_bench';

let ip = 0;
const nextIp = () => `10.${(++ip >> 16) & 255}.${(ip >> 8) & 255}.${ip & 255}`;

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, i)]! * 100) / 100;
}

function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return { runs: s.length, p50Ms: percentile(s, 50), p99Ms: percentile(s, 99), maxMs: percentile(s, 100) };
}

interface Account {
  email: string;
  password: string;
  secretKey: SecretKey;
  iterations?: number;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tod-bench-'));
  // Running as root, Postgres runs as the postgres user, which must reach the data directory.
  await chmod(dir, 0o755);
  const {
    pg,
    superDbUrl: dbUrl,
    appUrl,
  } = await startTodDatabase({
    dataDir: dir,
    database: DB,
    ownerPassword: 'bench-owner',
    appPassword: 'bench-app',
    ephemeral: true,
  });
  const worker: { dispose(): Promise<void> }[] = [];
  try {
    const sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
    const w = await unstable_startWorker({
      config: `${ROOT}wrangler.toml`,
      bindings: Object.fromEntries(
        Object.entries({
          ENVIRONMENT: 'test',
          DATABASE_URL: appUrl,
          NATS_WS_URL: 'ws://127.0.0.1:1',
          JWT_SECRET_KEY: 'bench-jwt-secret-Zq8Lr2Xw5Kc7Hn1Bp4Yd6Fs0Gj3Ue9A',
          CREDENTIAL_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
          FIRST_ADMIN_EMAIL: 'root@bench.test',
          FIRST_ADMIN_PASSWORD: 'bench-bootstrap-password',
        }).map(([k, v]) => [k, { type: 'plain_text' as const, value: v }]),
      ),
      dev: {
        server: { hostname: '127.0.0.1', port: 0 },
        inspector: false,
        persist: false,
        watch: false,
        logLevel: 'error',
      },
    });
    worker.push(w);
    await w.ready;
    const base = (await w.url).toString().replace(/\/$/, '');
    const call = async (path: string, init: RequestInit & { json?: unknown; cookie?: string } = {}) => {
      const headers = new Headers(init.headers);
      headers.set('cf-connecting-ip', nextIp());
      if (init.cookie) headers.set('cookie', init.cookie);
      if (init.json !== undefined) headers.set('content-type', 'application/json');
      const res = await fetch(base + path, {
        ...init,
        headers,
        body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
      });
      if (res.status >= 400) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
      return res;
    };
    const cookieOf = (res: Response) =>
      res.headers
        .getSetCookie()
        .map((l) => l.split(';')[0])
        .join('; ');
    const login = async (a: Account) => {
      const t0 = performance.now();
      const init = (await (
        await call('/api/auth/srp/init', { method: 'POST', json: { email: a.email } })
      ).json()) as {
        handshakeId: string;
        salt: string;
        B: string;
      };
      const t1 = performance.now();
      const start = startLogin();
      const proof = await computeLoginProof(a, start, init);
      const t2 = performance.now();
      const res = await call('/api/auth/srp/verify', {
        method: 'POST',
        json: { handshakeId: init.handshakeId, A: start.A, M1: proof.M1 },
      });
      const t3 = performance.now();
      return { cookie: cookieOf(res), serverMs: t1 - t0 + (t3 - t2), clientMs: t2 - t1, totalMs: t3 - t0 };
    };

    const root: Account = {
      email: 'root@bench.test',
      password: 'root pass phrase',
      secretKey: generateSecretKey(),
    };
    await call('/api/auth/srp/init', { method: 'POST', json: { email: root.email } }).catch(() => undefined);
    await call('/api/auth/bootstrap', {
      method: 'POST',
      json: {
        email: root.email,
        password: 'bench-bootstrap-password',
        enrolment: await createEnrolment(root),
      },
    });
    const rootSession = await login(root);
    const tenant = (await (
      await call('/api/tenants', {
        method: 'POST',
        cookie: rootSession.cookie,
        json: { name: 'Bench', slug: 'bench' },
      })
    ).json()) as { id: string };
    const inv = (await (
      await call('/api/invitations', {
        method: 'POST',
        cookie: rootSession.cookie,
        headers: { 'x-tenant-id': tenant.id },
        json: { email: 'admin@bench.test', role: 'admin' },
      })
    ).json()) as { token: string };
    const admin: Account = {
      email: 'admin@bench.test',
      password: 'admin pass phrase',
      secretKey: generateSecretKey(),
    };
    await call('/api/auth/invitations/accept', {
      method: 'POST',
      json: { token: inv.token, name: 'Admin', enrolment: await createEnrolment(admin) },
    });

    await sql`
      INSERT INTO devices (tenant_id, name, host, status, model)
      SELECT ${tenant.id}, 'router-' || lpad(i::text, 5, '0'), '10.' || (i / 65536) || '.' || ((i / 256) % 256) || '.' || (i % 256),
             (ARRAY['online','online','online','offline','degraded','unreachable'])[1 + i % 6], 'RB5009'
      FROM generate_series(1, ${DEVICES}) AS i`;
    await sql`ANALYZE devices`;

    const logins = [];
    for (let i = 0; i < LOGIN_RUNS; i++) logins.push(await login(admin));
    const session = logins[logins.length - 1]!.cookie;

    const timeList = async (path: string) => {
      for (let i = 0; i < 20; i++) await (await call(path, { cookie: session })).arrayBuffer();
      const samples: number[] = [];
      for (let i = 0; i < LIST_RUNS; i++) {
        const t0 = performance.now();
        const res = await call(path, { cookie: session });
        await res.arrayBuffer();
        samples.push(performance.now() - t0);
      }
      return summary(samples);
    };
    const firstPage = '/api/devices?status=online&sort=name&order=desc&limit=50';
    // A cursor 100 pages deep: keyset pages cost the same wherever they are.
    let cursor = '';
    for (let i = 0; i < 100; i++) {
      const body = (await (
        await call(`${firstPage}${cursor ? `&cursor=${cursor}` : ''}`, { cookie: session })
      ).json()) as {
        nextCursor: string | null;
      };
      if (!body.nextCursor) break;
      cursor = body.nextCursor;
    }
    const results = {
      benchmark: 'edge-api',
      date: new Date().toISOString(),
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        memoryGb: Math.round(totalmem() / 2 ** 30),
        node: process.version,
      },
      command: 'npm run bench',
      devices: DEVICES,
      listFilteredSortedFirstPage: { path: firstPage, ...(await timeList(firstPage)) },
      listFilteredSortedDeepPage: {
        path: `${firstPage}&cursor=…(page ~100)`,
        ...(await timeList(`${firstPage}&cursor=${cursor}`)),
      },
      listUnfilteredByCreated: await timeList('/api/devices?sort=created_at&limit=50'),
      login: {
        note: 'SRP-6a init + verify HTTP round trips; client 2SKD with PBKDF2 650,000 iterations timed separately',
        server: summary(logins.map((l) => l.serverMs)),
        clientKdf: summary(logins.map((l) => l.clientMs)),
        total: summary(logins.map((l) => l.totalMs)),
      },
    };
    await writeFile(join(ROOT, 'bench/results/edge-api.json'), JSON.stringify(results, null, 2) + '\n');
    console.log(JSON.stringify(results, null, 2));
    await sql.end();
  } finally {
    for (const w of worker) await w.dispose();
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
