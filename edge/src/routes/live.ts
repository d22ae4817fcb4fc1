// /api/sse: the tenant's live events, streamed by its TenantHub (this route authenticates and forwards; the
// Durable Object holds the streams). Auth by session cookie, Bearer token or API key, or by a 60-second
// token from POST /api/sse/token in `?token=` for clients that cannot send those. /api/hub: the hub's
// counters and an on-demand maintenance run.
import {
  LiveTopic,
  SSE_TOKEN_TTL_SECONDS,
  SseEventId,
  SseQuery,
  type SseTokenResponse,
} from '@tod/contracts';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { inTenant, requireRole } from '../middleware/auth';
import { configFor } from '../middleware/config';
import { signSse, verifySse } from '../services/tokens';
import { readQuery } from '../validate';

export const sseRoute = new Hono<AppEnv>();
export const hubRoute = new Hono<AppEnv>();

export function tenantHub(c: Context<AppEnv>, tenantId: string) {
  return c.env.TENANT_HUB.get(c.env.TENANT_HUB.idFromName(tenantId));
}

/** Starts the tenant's hub after the response (it then keeps itself alive with its alarm): called where a
 * tenant starts to have something to ingest (a collector enrols, devices are added). */
export function wakeTenantHub(c: Context<AppEnv>, tenantId: string): void {
  c.executionCtx.waitUntil(
    tenantHub(c, tenantId)
      .start(tenantId)
      .then(
        () => {},
        (err: unknown) =>
          console.error(
            JSON.stringify({ level: 'error', msg: 'tenant hub did not start', error: String(err) }),
          ),
      ),
  );
}

/** For routes whose writes change what the hub's alerting caches (rules, maintenance windows): after a
 * successful write, tells the tenant's hub to re-read them with its next batch (it would within 30 s). */
export const alertingChanged = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const tenantId = c.var.tenantId;
  if (c.req.method === 'GET' || c.res.status >= 300 || !tenantId) return;
  // Awaited, so the change is in force for the hub once the caller has its answer; never fails the write.
  await tenantHub(c, tenantId)
    .alertingChanged(tenantId)
    .catch((err: unknown) =>
      console.error(
        JSON.stringify({
          level: 'error',
          msg: 'tenant hub not told of an alerting change',
          error: String(err),
        }),
      ),
    );
});

/** `?token=` (an SSE token) or the usual authentication, viewer and up. */
const sseAuth = createMiddleware<AppEnv>(async (c, next) => {
  const token = c.req.query('token');
  if (token === undefined) return requireRole('viewer')(c, next);
  const result = await verifySse(configFor(c.env).JWT_SECRET_KEY, token);
  if (!result.ok) {
    throw result.reason === 'expired'
      ? new ApiError(401, 'token_expired', 'the SSE token expired; request a new one')
      : new ApiError(401, 'unauthenticated', 'invalid SSE token');
  }
  const { sub, kind, tid, role } = result.claims;
  c.set('principal', {
    kind,
    id: sub,
    userId: kind === 'user' ? sub : null,
    tenantId: tid,
    role,
    sessionId: null,
  });
  c.set('tenantId', tid);
  await next();
});

sseRoute.post('/token', requireRole('viewer'), async (c) => {
  const p = c.var.principal;
  if (p.role === 'super_admin') await inTenant(c, async () => {});
  const now = Date.now();
  const token = await signSse(
    configFor(c.env).JWT_SECRET_KEY,
    { sub: p.id, kind: p.kind === 'api_key' ? 'api_key' : 'user', tid: c.var.tenantId, role: p.role },
    SSE_TOKEN_TTL_SECONDS,
    now,
  );
  const body: SseTokenResponse = {
    token,
    expiresAt: new Date(Math.floor(now / 1000) * 1000 + SSE_TOKEN_TTL_SECONDS * 1000).toISOString(),
  };
  c.header('Cache-Control', 'no-store');
  return c.json(body, 200);
});

sseRoute.get('/', sseAuth, async (c) => {
  const q = readQuery(c, SseQuery);
  const lastRaw = c.req.header('last-event-id') ?? q.lastEventId;
  let lastEventId: string | null = null;
  if (lastRaw !== undefined && lastRaw !== '') {
    if (!SseEventId.safeParse(lastRaw).success) {
      throw new ApiError(400, 'invalid_request', 'Last-Event-ID is not an id this stream sent');
    }
    lastEventId = lastRaw;
  }
  // A super admin names the tenant; it must exist (and the access is audited).
  if (c.var.principal.role === 'super_admin' && q.token === undefined) await inTenant(c, async () => {});
  const topics = q.topics ?? LiveTopic.options;
  const headers = new Headers({ 'x-tod-tenant': c.var.tenantId, 'x-tod-topics': topics.join(',') });
  if (lastEventId) headers.set('last-event-id', lastEventId);
  const res = await tenantHub(c, c.var.tenantId).fetch(new Request('https://tenant-hub/sse', { headers }));
  // A copy with mutable headers, so the security-header middleware can add its own.
  return new Response(res.body, { status: res.status, headers: new Headers(res.headers) });
});

hubRoute.get('/stats', requireRole('admin'), async (c) => {
  if (c.var.principal.role === 'super_admin') await inTenant(c, async () => {});
  return c.json(await tenantHub(c, c.var.tenantId).stats(c.var.tenantId));
});

hubRoute.post('/maintenance', requireRole('admin'), async (c) => {
  await inTenant(c, (s) =>
    s.audit({ action: 'hub.maintenance', targetType: 'tenant', targetId: s.tenantId }),
  );
  return c.json(await tenantHub(c, c.var.tenantId).maintain(c.var.tenantId));
});
