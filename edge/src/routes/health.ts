// Liveness (/health: the Worker answers) and readiness (/health/ready: Postgres and NATS reachable).
import type { ReadinessResponse } from '@tod/contracts';
import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { openDb } from '../db';
import type { AppEnv } from '../env';
import { withConfig } from '../middleware/config';
import { edgeNatsFrom } from '../services/nats-auth';
import { probeNats, probeNatsLogin } from '../services/nats-probe';

export const health = new Hono<AppEnv>();

health.get('/', (c) =>
  c.json({ status: 'ok' as const, service: 'tod-edge' as const, version: c.env.APP_VERSION ?? '0.0.0-dev' }),
);

health.get('/ready', withConfig, async (c) => {
  const cfg = c.var.config;
  const [postgres, nats] = await Promise.all([
    timed(async () => {
      const handle = openDb(cfg.DATABASE_URL);
      try {
        await handle.db.execute(sql`SELECT 1`);
      } finally {
        c.executionCtx.waitUntil(handle.close());
      }
    }),
    timed(() => {
      const nats = edgeNatsFrom(cfg);
      return nats.signer ? probeNatsLogin(nats) : probeNats(cfg.NATS_WS_URL);
    }),
  ]);
  const ready = postgres.ok && nats.ok;
  const body: ReadinessResponse = {
    status: ready ? 'ready' : 'not_ready',
    version: cfg.APP_VERSION,
    checks: { postgres, nats },
  };
  return c.json(body, ready ? 200 : 503);
});

async function timed(
  check: () => Promise<void>,
): Promise<{ ok: boolean; latencyMs: number; error?: string }> {
  const started = Date.now();
  try {
    await check();
    return { ok: true, latencyMs: Date.now() - started };
  } catch (err) {
    // Connection errors only: never a URL or credential (postgres errors do not echo the password).
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, latencyMs: Date.now() - started, error: redact(message) };
  }
}

function redact(message: string): string {
  return message.replace(/[a-z]+:\/\/[^\s]+/gi, '<url>').slice(0, 200);
}
