// Authentication (session cookie, Bearer token or X-API-Key) and role checks, declared per route:
//   app.get('/', requireRole('viewer'), handler)
// Tenant roles rank viewer < operator < admin. super_admin belongs to no tenant: it may call every route,
// naming the tenant of a tenant route in X-Tenant-Id. API keys are tenant-scoped and at most operator.
import type { Role } from '@tod/contracts';
import { tenants } from '@tod/drizzle/schema';
import { eq, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { type Tx, withTenant } from '../db';
import type { AppEnv, Principal } from '../env';
import { ApiError } from '../errors';
import { type AuditInput, appendAudit, auditContext } from '../services/audit';
import type { Envelope } from '../services/envelope';
import { kmsFor } from '../services/kms-config';
import { ACCESS_COOKIE, verifyAccess } from '../services/tokens';
import { configFor } from './config';

const RANK: Record<Exclude<Role, 'super_admin'>, number> = { viewer: 1, operator: 2, admin: 3 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const API_KEY = /^mktp_[A-Za-z0-9_-]{20,100}$/;

export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

async function authenticate(c: Context<AppEnv>): Promise<Principal> {
  const cfg = configFor(c.env);
  c.set('config', cfg);
  const apiKey = c.req.header('x-api-key');
  if (apiKey !== undefined) {
    if (!API_KEY.test(apiKey)) throw new ApiError(401, 'unauthenticated', 'invalid API key');
    const hash = await sha256(apiKey);
    const rows = await c.var
      .openDb()
      .execute<{ id: string; tenant_id: string; user_id: string | null; role: 'operator' | 'viewer' }>(
        sql`SELECT * FROM tod_api_key_authenticate(${hash})`,
      );
    const row = rows[0];
    if (!row) throw new ApiError(401, 'unauthenticated', 'invalid API key');
    return {
      kind: 'api_key',
      id: row.id,
      userId: row.user_id,
      tenantId: row.tenant_id,
      role: row.role,
      sessionId: null,
    };
  }
  const bearer = c.req.header('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const token = bearer ?? getCookie(c, ACCESS_COOKIE);
  if (!token) throw new ApiError(401, 'unauthenticated', 'sign in first');
  const result = await verifyAccess(cfg.JWT_SECRET_KEY, token);
  if (!result.ok) {
    throw result.reason === 'expired'
      ? new ApiError(401, 'token_expired', 'the session expired; refresh it')
      : new ApiError(401, 'unauthenticated', 'invalid session');
  }
  const { sub, tid, role, sid } = result.claims;
  return { kind: 'user', id: sub, userId: sub, tenantId: tid, role, sessionId: sid };
}

export interface RoleOptions {
  /** false for routes outside any tenant (auth, tenants). Default true. */
  tenant?: boolean;
  /** false to refuse API keys (e.g. sessions, key management). Default true. */
  apiKeys?: boolean;
}

/** Authenticates and checks the caller's role; tenant routes also fix c.var.tenantId. */
export function requireRole(min: Role, opts: RoleOptions = {}) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const p = await authenticate(c);
    c.set('principal', p);
    if (p.kind === 'api_key' && opts.apiKeys === false) {
      throw new ApiError(403, 'forbidden', 'API keys cannot use this route');
    }
    const allowed = p.role === 'super_admin' || (min !== 'super_admin' && RANK[p.role] >= RANK[min]);
    if (!allowed) throw new ApiError(403, 'forbidden', `requires the ${min} role`);
    if (opts.tenant !== false) {
      if (p.role === 'super_admin') {
        const t = c.req.header('x-tenant-id');
        if (!t) throw new ApiError(400, 'tenant_required', 'super admins name the tenant in X-Tenant-Id');
        if (!UUID.test(t)) throw new ApiError(404, 'not_found', 'tenant not found');
        c.set('tenantId', t.toLowerCase());
      } else {
        if (!p.tenantId) throw new ApiError(403, 'forbidden', 'no tenant');
        c.set('tenantId', p.tenantId);
      }
    }
    await next();
  });
}

/** What a tenant route's handler gets: a transaction scoped to the tenant (RLS), its audit and envelope. */
export interface TenantScope {
  tx: Tx;
  tenantId: string;
  principal: Principal;
  envelope: Envelope;
  audit(entry: AuditInput): Promise<void>;
}

export function inTenant<T>(c: Context<AppEnv>, fn: (scope: TenantScope) => Promise<T>): Promise<T> {
  const tenantId = c.var.tenantId;
  const principal = c.var.principal;
  const kms = kmsFor(c.env);
  return withTenant(c.var.openDb(), tenantId, async (tx) => {
    const actx = auditContext(c, tx, kms, tenantId, principal);
    if (principal.role === 'super_admin') {
      // The tenant row is visible only under its own tenant context: a missing row is a missing tenant.
      const [t] = await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tenantId));
      if (!t) throw new ApiError(404, 'not_found', 'tenant not found');
      await appendAudit(actx, { action: 'tenant.access', targetType: 'tenant', targetId: tenantId });
    }
    return fn({
      tx,
      tenantId,
      principal,
      envelope: { tx, kms, tenantId, requestId: c.var.requestId },
      audit: (entry) => appendAudit(actx, entry),
    });
  });
}
