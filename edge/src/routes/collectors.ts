// /api/collectors: list (viewer), create with a one-time enrol token, new token, revoke (admin).
import {
  CreateCollectorRequest,
  EnrollRequest,
  type EnrollResponse,
  NATS_RENEWAL_SKEW_MS,
  NameListQuery,
  NatsCredentialsRenewRequest,
  type NatsCredentialsRenewResponse,
  natsRenewalChallenge,
} from '@tod/contracts';
import { collectors } from '@tod/drizzle/schema';
import { and, asc, eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';
import { inTenant, requireRole, sha256 } from '../middleware/auth';
import { authRateLimit } from '../middleware/rate-limit';
import {
  ensureCollectorResources,
  mirrorAfterResponse,
  planCollectorDevices,
} from '../services/device-mirror';
import { exportPublicKey } from '../services/export-keys';
import {
  type CollectorJwtClaims,
  edgeNatsFrom,
  mintCollectorJwt,
  natsSignerFrom,
  readCollectorJwt,
  verifyNkeySignature,
} from '../services/nats-auth';
import { randomToken } from '../services/tokens-random';
import { pathId, readBody, readQuery } from '../validate';
import { iso } from './dto';
import { wakeTenantHub } from './live';
import { nameFilters, pageOf } from './paging';

export const ENROLL_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

type Row = typeof collectors.$inferSelect;
const dto = (r: Row) => ({
  id: r.id,
  name: r.name,
  site: r.site,
  status: r.status,
  version: r.version,
  lastSeenAt: iso(r.lastSeenAt),
  enrolledAt: iso(r.enrolledAt),
  revokedAt: iso(r.revokedAt),
  createdAt: iso(r.createdAt)!,
});

async function newEnrollToken() {
  const token = randomToken('tce_');
  return { token, hash: await sha256(token), expiresAt: new Date(Date.now() + ENROLL_TOKEN_TTL_MS) };
}

export const collectorsRoute = new Hono<AppEnv>();

collectorsRoute.get('/', requireRole('viewer'), async (c) => {
  const q = readQuery(c, NameListQuery);
  const rows = await inTenant(c, ({ tx }) =>
    tx
      .select()
      .from(collectors)
      .where(and(...nameFilters(q, collectors.name, collectors.id)))
      .orderBy(asc(collectors.name), asc(collectors.id))
      .limit(q.limit + 1),
  );
  return c.json(pageOf(rows, q.limit, (r) => [r.name, r.id], dto));
});

// The collector's side: one-time token in, public key registered, its devices mirrored (sealed to that key).
collectorsRoute.post('/enroll', authRateLimit, async (c) => {
  const body = await readBody(c, EnrollRequest);
  // Checked before the one-time token is spent.
  if (natsSignerFrom(c.var.config) && !body.natsPublicKey)
    throw new ApiError(400, 'invalid_request', 'natsPublicKey is required: this NATS requires credentials');
  const rows = await c.var
    .openDb()
    .execute<{ id: string; tenant_id: string }>(
      sql`SELECT * FROM tod_collector_enroll(${await sha256(body.token)}, ${JSON.stringify(body.publicKey)}::jsonb, ${body.version ?? ''})`,
    );
  const row = rows[0];
  if (!row) throw new ApiError(401, 'invalid_token', 'unknown, used or expired enrol token');
  c.set('tenantId', row.tenant_id);
  c.set('principal', {
    kind: 'collector',
    id: row.id,
    userId: null,
    tenantId: row.tenant_id,
    role: 'viewer',
    sessionId: null,
  });
  const { plan: ops, exportKey } = await inTenant(c, async (s) => {
    await s.audit({
      action: 'collector.enroll',
      targetType: 'collector',
      targetId: row.id,
      details: { version: body.version ?? null, hostname: body.hostname ?? null },
    });
    return {
      plan: await planCollectorDevices(s, row.id, false),
      exportKey: await exportPublicKey(s.envelope),
    };
  });
  const cfg = c.var.config;
  const nats = edgeNatsFrom(cfg);
  // The collector opens the registry and publishes right after this answer; with NATS auth it may not create
  // the bucket or the stream itself.
  await ensureCollectorResources(nats);
  mirrorAfterResponse(c, ops);
  wakeTenantHub(c, row.tenant_id);
  const answer: EnrollResponse = {
    tenantId: row.tenant_id,
    collectorId: row.id,
    natsUrl: cfg.NATS_URL ?? cfg.NATS_WS_URL,
    exportKey,
  };
  if (nats.signer && body.natsPublicKey) {
    answer.natsJwt = await mintCollectorJwt(
      nats.signer,
      { tenantId: row.tenant_id, collectorId: row.id, userPublicKey: body.natsPublicKey },
      cfg.NATS_COLLECTOR_JWT_TTL_S,
    );
  }
  return c.json(answer);
});

// The collector renews its NATS JWT with the nkey it holds; revoked or re-enrolled collectors are refused.
collectorsRoute.post('/nats-credentials', authRateLimit, async (c) => {
  const body = await readBody(c, NatsCredentialsRenewRequest);
  const cfg = c.var.config;
  const signer = natsSignerFrom(cfg);
  if (!signer) throw new ApiError(409, 'conflict', 'this NATS runs without credentials');
  const refused = new ApiError(401, 'invalid_credentials', 'NATS credentials cannot be renewed');
  let claims: CollectorJwtClaims;
  try {
    claims = readCollectorJwt(signer, body.jwt);
  } catch {
    throw refused;
  }
  const skew = Math.abs(Date.parse(body.signedAt) - Date.now());
  const challenge = natsRenewalChallenge(claims.userPublicKey, body.signedAt);
  if (skew > NATS_RENEWAL_SKEW_MS || !verifyNkeySignature(claims.userPublicKey, challenge, body.signature))
    throw refused;
  c.set('tenantId', claims.tenantId);
  c.set('principal', {
    kind: 'collector',
    id: claims.collectorId,
    userId: null,
    tenantId: claims.tenantId,
    role: 'viewer',
    sessionId: null,
  });
  const exportKey = await inTenant(c, async ({ tx, envelope }) => {
    const [r] = await tx
      .select({ status: collectors.status, enrolledAt: collectors.enrolledAt })
      .from(collectors)
      .where(eq(collectors.id, claims.collectorId));
    // A JWT from before the latest enrolment belongs to a key that enrolment replaced.
    const current =
      r &&
      r.status !== 'revoked' &&
      r.enrolledAt !== null &&
      claims.issuedAt >= Math.floor(new Date(r.enrolledAt).getTime() / 1000);
    return current ? exportPublicKey(envelope) : null;
  });
  if (!exportKey) throw refused;
  const answer: NatsCredentialsRenewResponse = {
    natsJwt: await mintCollectorJwt(
      signer,
      { tenantId: claims.tenantId, collectorId: claims.collectorId, userPublicKey: claims.userPublicKey },
      cfg.NATS_COLLECTOR_JWT_TTL_S,
    ),
    exportKey,
  };
  return c.json(answer);
});

collectorsRoute.get('/:id', requireRole('viewer'), async (c) => {
  const id = pathId(c);
  const row = await inTenant(
    c,
    async ({ tx }) => (await tx.select().from(collectors).where(eq(collectors.id, id)))[0],
  );
  if (!row) throw new ApiError(404, 'not_found', 'collector not found');
  return c.json(dto(row));
});

collectorsRoute.post('/', requireRole('admin'), async (c) => {
  const body = await readBody(c, CreateCollectorRequest);
  const t = await newEnrollToken();
  const row = await inTenant(c, async (s) => {
    const [r] = await s.tx
      .insert(collectors)
      .values({ tenantId: s.tenantId, ...body, enrollTokenHash: t.hash, enrollTokenExpiresAt: t.expiresAt })
      .returning();
    await s.audit({ action: 'collector.create', targetType: 'collector', targetId: r!.id, details: body });
    return r!;
  });
  return c.json({ ...dto(row), enrollToken: t.token, enrollTokenExpiresAt: t.expiresAt.toISOString() }, 201);
});

collectorsRoute.post('/:id/enroll-token', requireRole('admin'), async (c) => {
  const id = pathId(c);
  const t = await newEnrollToken();
  const row = await inTenant(c, async (s) => {
    const [r] = await s.tx
      .update(collectors)
      .set({ enrollTokenHash: t.hash, enrollTokenExpiresAt: t.expiresAt })
      .where(eq(collectors.id, id))
      .returning({ id: collectors.id, status: collectors.status });
    if (r?.status === 'revoked') throw new ApiError(409, 'conflict', 'collector is revoked');
    if (r) await s.audit({ action: 'collector.enroll_token', targetType: 'collector', targetId: id });
    return r;
  });
  if (!row) throw new ApiError(404, 'not_found', 'collector not found');
  return c.json({ collectorId: id, token: t.token, expiresAt: t.expiresAt.toISOString() }, 201);
});

collectorsRoute.post('/:id/revoke', requireRole('admin'), async (c) => {
  const id = pathId(c);
  const row = await inTenant(c, async (s) => {
    const [r] = await s.tx
      .update(collectors)
      .set({ status: 'revoked', revokedAt: new Date(), enrollTokenHash: null, enrollTokenExpiresAt: null })
      .where(eq(collectors.id, id))
      .returning();
    if (!r) return null;
    await s.audit({ action: 'collector.revoke', targetType: 'collector', targetId: id });
    return { r, ops: await planCollectorDevices(s, id, true) };
  });
  if (!row) throw new ApiError(404, 'not_found', 'collector not found');
  mirrorAfterResponse(c, row.ops);
  return c.json(dto(row.r));
});
