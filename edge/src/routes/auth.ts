// /api/auth: SRP-6a login (init, verify), first-admin bootstrap enrolment, re-enrolment (password change,
// Secret Key rotation), invitation acceptance, refresh with rotation and reuse detection, logout, me.
//
// Bootstrap: on first use the edge creates the super admin FIRST_ADMIN_EMAIL (no verifier, must_enroll).
// srp/init answers 409 `enrollment_required` for it. The browser then generates a Secret Key, derives an
// SRP verifier and POSTs it with the bootstrap password to /api/auth/bootstrap (HTTPS only outside dev and
// test); the password is compared server-side once, the verifier stored, and from then on the account logs
// in with SRP only: the bootstrap password is never accepted again.
import {
  AcceptInvitationRequest,
  BootstrapEnrolRequest,
  type Me,
  ReenrolRequest,
  type SrpEnrolment,
  SrpInitRequest,
  type SrpInitResponse,
  SrpVerifyRequest,
} from '@tod/contracts';
import {
  bigIntToBytes,
  constantTimeEqual,
  createServerEphemeral,
  PRODUCT_GROUP,
  randomBytes,
  toHex,
  utf8,
  verifyClientProof,
} from '@tod/contracts/srp';
import { refreshTokens, srpHandshakes } from '@tod/drizzle/schema';
import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import { type Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { EdgeConfig } from '../config';
import type { Db, Tx } from '../db';
import type { AppEnv, Principal } from '../env';
import { ApiError } from '../errors';
import { requireRole, sha256 } from '../middleware/auth';
import { configFor, withConfig } from '../middleware/config';
import { accountFailed, authRateLimit, refuseLockedAccount } from '../middleware/rate-limit';
import { type AuditInput, appendAudit, auditContext } from '../services/audit';
import { kmsFor } from '../services/kms-config';
import {
  ACCESS_COOKIE,
  ACCESS_TTL_SECONDS,
  REFRESH_COOKIE,
  REFRESH_TTL_SECONDS,
  signAccess,
  signRefresh,
  verifyRefresh,
} from '../services/tokens';
import { readBody } from '../validate';

export const HANDSHAKE_TTL_SECONDS = 60;

export const auth = new Hono<AppEnv>();
auth.use(withConfig);

type AuthUser = {
  id: string;
  tenant_id: string | null;
  email: string;
  name: string;
  role: Me['role'];
  srp_salt: string | null;
  srp_verifier: string | null;
  secret_key_id: string | null;
  must_enroll: boolean;
  disabled: boolean;
};

async function userByEmail(db: Db | Tx, email: string): Promise<AuthUser | null> {
  const rows = await db.execute<AuthUser>(sql`SELECT * FROM tod_auth_user_by_email(${email})`);
  return rows[0] ?? null;
}

async function userById(db: Db | Tx, id: string): Promise<AuthUser | null> {
  const rows = await db.execute<AuthUser>(sql`SELECT * FROM tod_auth_user_by_id(${id})`);
  return rows[0] ?? null;
}

const bootstrapped = new WeakSet<object>();

/** Creates the first super admin once per isolate (the database makes it once ever). */
async function ensureFirstAdmin(c: Context<AppEnv>, db: Db): Promise<void> {
  const cfg = c.var.config;
  if (!cfg.FIRST_ADMIN_EMAIL || !cfg.FIRST_ADMIN_PASSWORD || bootstrapped.has(c.env)) return;
  await db.execute(sql`SELECT tod_auth_bootstrap_admin(${cfg.FIRST_ADMIN_EMAIL})`);
  bootstrapped.add(c.env);
}

/** Audit entry outside a tenant route: in the user's tenant when known, tenant-less otherwise. */
async function auditAuth(
  c: Context<AppEnv>,
  tenantId: string | null,
  actor: Principal | null,
  entry: AuditInput,
): Promise<void> {
  const db = c.var.openDb();
  const kms = kmsFor(c.env);
  await db.transaction(async (tx) => {
    if (tenantId) await tx.execute(sql`SELECT set_config('app.tenant_id', ${tenantId}, true)`);
    await appendAudit(auditContext(c, tx, kms, tenantId, actor), entry);
  });
}

function userPrincipal(u: AuthUser, sessionId: string | null): Principal {
  return { kind: 'user', id: u.id, userId: u.id, tenantId: u.tenant_id, role: u.role, sessionId };
}

function meOf(u: AuthUser): Me {
  return { kind: 'user', id: u.id, email: u.email, name: u.name, role: u.role, tenantId: u.tenant_id };
}

function cookieOpts(maxAge: number, path: string) {
  return { httpOnly: true, secure: true, sameSite: 'Strict' as const, path, maxAge };
}

/** Issues an access + refresh pair; a new family unless continuing one (rotation). */
async function issueSession(c: Context<AppEnv>, db: Db | Tx, u: AuthUser, family?: string): Promise<void> {
  const cfg = c.var.config;
  const fam = family ?? crypto.randomUUID();
  const jti = crypto.randomUUID();
  await db.insert(refreshTokens).values({
    id: jti,
    familyId: fam,
    userId: u.id,
    expiresAt: new Date(Date.now() + REFRESH_TTL_SECONDS * 1000),
  });
  const access = await signAccess(cfg.JWT_SECRET_KEY, {
    sub: u.id,
    tid: u.tenant_id,
    role: u.role,
    sid: fam,
  });
  const refresh = await signRefresh(cfg.JWT_SECRET_KEY, { sub: u.id, fam, jti });
  setCookie(c, ACCESS_COOKIE, access, cookieOpts(ACCESS_TTL_SECONDS, '/'));
  setCookie(c, REFRESH_COOKIE, refresh, cookieOpts(REFRESH_TTL_SECONDS, '/api/auth'));
}

function clearSession(c: Context<AppEnv>): void {
  deleteCookie(c, ACCESS_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'Strict' });
  deleteCookie(c, REFRESH_COOKIE, { path: '/api/auth', secure: true, httpOnly: true, sameSite: 'Strict' });
}

async function revokeFamily(db: Db | Tx, family: string): Promise<void> {
  await db
    .update(refreshTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(refreshTokens.familyId, family), isNull(refreshTokens.revokedAt)));
}

/** A deterministic fake salt for unknown accounts, so init does not reveal which emails exist. */
async function fakeSalt(cfg: EdgeConfig, email: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    utf8(cfg.JWT_SECRET_KEY) as Uint8Array<ArrayBuffer>,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = await crypto.subtle.sign(
    'HMAC',
    key,
    utf8(`srp-fake-salt:${email}`) as Uint8Array<ArrayBuffer>,
  );
  return toHex(new Uint8Array(mac));
}

auth.post('/srp/init', authRateLimit, async (c) => {
  const { email } = await readBody(c, SrpInitRequest);
  await refuseLockedAccount(c, email);
  const db = c.var.openDb();
  await ensureFirstAdmin(c, db);
  const user = await userByEmail(db, email);
  if (user && !user.disabled && !user.srp_verifier && user.must_enroll) {
    throw new ApiError(409, 'enrollment_required', 'this account must enrol (set up its Secret Key) first');
  }
  const live = user && !user.disabled && user.srp_verifier && user.srp_salt ? user : null;
  const salt = live?.srp_salt ?? (await fakeSalt(c.var.config, email));
  const verifier = live?.srp_verifier ?? toHex(bigIntToBytes(2n + BigInt('0x' + toHex(randomBytes(32)))));
  const eph = await createServerEphemeral(verifier, PRODUCT_GROUP);
  // Old handshakes are useless after their expiry; sweep them as new ones are made.
  await db.delete(srpHandshakes).where(lt(srpHandshakes.expiresAt, sql`now() - interval '1 hour'`));
  const [row] = await db
    .insert(srpHandshakes)
    .values({
      userId: live?.id ?? null,
      email,
      serverSecret: eph.b,
      serverPublic: eph.B,
      expiresAt: sql`now() + make_interval(secs => ${HANDSHAKE_TTL_SECONDS})`,
    })
    .returning({ id: srpHandshakes.id });
  const body: SrpInitResponse = {
    handshakeId: row!.id,
    salt,
    B: eph.B,
    secretKeyId: live?.secret_key_id ?? null,
  };
  return c.json(body);
});

type ProofResult =
  | { ok: true; user: AuthUser; M2: string; email: string }
  | { ok: false; user: AuthUser | null; code: string; email: string | null };

/** Consumes a handshake (once, before expiry) and checks the proof. */
async function checkProof(
  db: Db,
  proof: { handshakeId: string; A: string; M1: string },
): Promise<ProofResult> {
  const rows = await db.execute<{
    user_id: string | null;
    email: string;
    server_secret: string;
    server_public: string;
    live: boolean;
  }>(sql`UPDATE srp_handshakes SET consumed_at = now()
         WHERE id = ${proof.handshakeId} AND consumed_at IS NULL
         RETURNING user_id, email, server_secret, server_public, expires_at > now() AS live`);
  const hs = rows[0];
  if (!hs) return { ok: false, user: null, code: 'invalid_handshake', email: null };
  const user = hs.user_id ? await userById(db, hs.user_id) : null;
  const email = hs.email;
  if (!hs.live) return { ok: false, user, code: 'handshake_expired', email };
  if (!user || user.disabled || !user.srp_salt || !user.srp_verifier) {
    return { ok: false, user, code: 'invalid_credentials', email };
  }
  const M2 = await verifyClientProof({
    email: user.email,
    salt: user.srp_salt,
    verifier: user.srp_verifier,
    b: hs.server_secret,
    B: hs.server_public,
    A: proof.A,
    M1: proof.M1,
  });
  return M2 ? { ok: true, user, M2, email } : { ok: false, user, code: 'invalid_credentials', email };
}

const PROOF_MESSAGES: Record<string, string> = {
  invalid_handshake: 'unknown or already used handshake; start again',
  handshake_expired: 'the handshake expired; start again',
  invalid_credentials: 'wrong email, password or Secret Key',
};

auth.post('/srp/verify', authRateLimit, async (c) => {
  const proof = await readBody(c, SrpVerifyRequest);
  const db = c.var.openDb();
  const result = await checkProof(db, proof);
  // A handshake started before the account's failures spent its budget proves nothing more until the
  // window passes (right or wrong), so handshakes gathered in advance do not add guesses.
  if (result.email) await refuseLockedAccount(c, result.email);
  if (!result.ok) {
    if (result.email && result.code === 'invalid_credentials') await accountFailed(c, result.email);
    await auditAuth(c, result.user?.tenant_id ?? null, null, {
      action: 'auth.login',
      outcome: 'failure',
      targetType: 'user',
      targetId: result.user?.id,
      details: { reason: result.code },
    });
    throw new ApiError(401, result.code, PROOF_MESSAGES[result.code] ?? 'login failed');
  }
  const user = result.user;
  await db.execute(sql`SELECT tod_auth_record_login(${user.id})`);
  await issueSession(c, db, user);
  await auditAuth(c, user.tenant_id, userPrincipal(user, null), {
    action: 'auth.login',
    targetType: 'user',
    targetId: user.id,
  });
  return c.json({ M2: result.M2, user: meOf(user) });
});

function requireTls(c: Context<AppEnv>): void {
  const env = c.var.config.ENVIRONMENT;
  if (env === 'production' && new URL(c.req.url).protocol !== 'https:') {
    throw new ApiError(403, 'tls_required', 'enrolment with the bootstrap password needs HTTPS');
  }
}

/** Compares digests, so neither the content nor the length of the configured secret leaks through timing. */
async function equalSecret(a: string, b: string): Promise<boolean> {
  return constantTimeEqual(await sha256(a), await sha256(b));
}

async function enrol(db: Db | Tx, userId: string, e: SrpEnrolment, firstOnly: boolean): Promise<boolean> {
  const rows = await db.execute<{ ok: boolean }>(
    sql`SELECT tod_auth_enroll(${userId}, ${e.salt.toLowerCase()}, ${e.verifier.toLowerCase()}, ${e.secretKeyId}, ${firstOnly}) AS ok`,
  );
  return rows[0]?.ok === true;
}

auth.post('/bootstrap', authRateLimit, async (c) => {
  requireTls(c);
  const body = await readBody(c, BootstrapEnrolRequest);
  const cfg = c.var.config;
  const db = c.var.openDb();
  const fail = new ApiError(401, 'invalid_credentials', 'wrong bootstrap email or password');
  if (!cfg.FIRST_ADMIN_EMAIL || !cfg.FIRST_ADMIN_PASSWORD) throw fail;
  await refuseLockedAccount(c, body.email);
  await ensureFirstAdmin(c, db);
  const emailOk = await equalSecret(body.email, cfg.FIRST_ADMIN_EMAIL);
  const passwordOk = await equalSecret(body.password, cfg.FIRST_ADMIN_PASSWORD);
  const user = await userByEmail(db, cfg.FIRST_ADMIN_EMAIL);
  if (!emailOk || !passwordOk || !user || user.role !== 'super_admin') {
    await accountFailed(c, body.email);
    await auditAuth(c, null, null, { action: 'auth.bootstrap', outcome: 'failure' });
    throw fail;
  }
  if (!(await enrol(db, user.id, body.enrolment, true))) {
    await auditAuth(c, null, userPrincipal(user, null), { action: 'auth.bootstrap', outcome: 'failure' });
    throw new ApiError(409, 'already_enrolled', 'this account already uses SRP; sign in instead');
  }
  await auditAuth(c, null, userPrincipal(user, null), {
    action: 'auth.enroll',
    targetType: 'user',
    targetId: user.id,
  });
  return c.json({ enrolled: true });
});

auth.post('/invitations/accept', authRateLimit, async (c) => {
  const body = await readBody(c, AcceptInvitationRequest);
  const db = c.var.openDb();
  const hash = await sha256(body.token);
  const e = body.enrolment;
  let rows: { user_id: string; tenant_id: string; email: string; role: string }[];
  try {
    rows = await db.execute(
      sql`SELECT * FROM tod_invitation_accept(${hash}, ${body.name}, ${e.salt.toLowerCase()}, ${e.verifier.toLowerCase()}, ${e.secretKeyId})`,
    );
  } catch (err) {
    if ((err as { code?: string }).code === '23505') {
      throw new ApiError(409, 'conflict', 'an account with this email already exists');
    }
    throw err;
  }
  const row = rows[0];
  if (!row) throw new ApiError(404, 'not_found', 'invitation not found, used, revoked or expired');
  await auditAuth(
    c,
    row.tenant_id,
    {
      kind: 'user',
      id: row.user_id,
      userId: row.user_id,
      tenantId: row.tenant_id,
      role: 'viewer',
      sessionId: null,
    },
    { action: 'invitation.accept', targetType: 'user', targetId: row.user_id },
  );
  return c.json({ userId: row.user_id, email: row.email, role: row.role }, 201);
});

auth.post(
  '/srp/reenroll',
  requireRole('viewer', { tenant: false, apiKeys: false }),
  authRateLimit,
  async (c) => {
    const body = await readBody(c, ReenrolRequest);
    const db = c.var.openDb();
    const p = c.var.principal;
    await refuseLockedAccount(c, `user:${p.id}`);
    const result = await checkProof(db, body.proof);
    if (!result.ok || result.user.id !== p.id) {
      await accountFailed(c, `user:${p.id}`);
      await auditAuth(c, p.tenantId, p, { action: 'auth.reenroll', outcome: 'failure' });
      throw new ApiError(401, 'invalid_credentials', 'prove the current password and Secret Key first');
    }
    if (!(await enrol(db, p.id, body.enrolment, false)))
      throw new ApiError(409, 'conflict', 'account disabled');
    // Every other session of this account ends; this one continues in a new family.
    await db
      .update(refreshTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(refreshTokens.userId, p.id), isNull(refreshTokens.revokedAt)));
    await issueSession(c, db, result.user);
    await auditAuth(c, p.tenantId, p, { action: 'auth.reenroll', targetType: 'user', targetId: p.id });
    return c.json({ M2: result.M2, user: meOf(result.user) });
  },
);

auth.post('/refresh', async (c) => {
  const cfg = configFor(c.env);
  const token = getCookie(c, REFRESH_COOKIE);
  if (!token) throw new ApiError(401, 'unauthenticated', 'no refresh token');
  const result = await verifyRefresh(cfg.JWT_SECRET_KEY, token);
  if (!result.ok) {
    clearSession(c);
    throw new ApiError(
      401,
      result.reason === 'expired' ? 'token_expired' : 'unauthenticated',
      'sign in again',
    );
  }
  const { sub, fam, jti } = result.claims;
  const db = c.var.openDb();
  const outcome = await db.transaction(async (tx) => {
    const used = await tx.execute<{ id: string }>(
      sql`UPDATE refresh_tokens SET used_at = now()
          WHERE id = ${jti} AND family_id = ${fam} AND user_id = ${sub}
            AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
          RETURNING id`,
    );
    if (used.length === 0) {
      const [prior] = await tx.select().from(refreshTokens).where(eq(refreshTokens.id, jti));
      // A token presented again after rotation: someone holds a copy. End the whole family.
      if (prior?.usedAt) {
        await revokeFamily(tx, fam);
        return 'reused' as const;
      }
      return 'invalid' as const;
    }
    const user = await userById(tx, sub);
    if (!user || user.disabled) {
      await revokeFamily(tx, fam);
      return 'invalid' as const;
    }
    await issueSession(c, tx, user, fam);
    return user;
  });
  if (outcome === 'reused' || outcome === 'invalid') {
    clearSession(c);
    if (outcome === 'reused') {
      const user = await userById(db, sub);
      await auditAuth(c, user?.tenant_id ?? null, user ? userPrincipal(user, fam) : null, {
        action: 'auth.refresh_reuse',
        outcome: 'failure',
        targetType: 'session',
        targetId: fam,
      });
    }
    throw new ApiError(401, outcome === 'reused' ? 'token_reused' : 'unauthenticated', 'sign in again');
  }
  return c.json({ user: meOf(outcome) });
});

auth.post('/logout', async (c) => {
  const cfg = configFor(c.env);
  const token = getCookie(c, REFRESH_COOKIE);
  if (token) {
    const result = await verifyRefresh(cfg.JWT_SECRET_KEY, token);
    if (result.ok) {
      await revokeFamily(c.var.openDb(), result.claims.fam);
      const user = await userById(c.var.openDb(), result.claims.sub);
      if (user) {
        await auditAuth(c, user.tenant_id, userPrincipal(user, result.claims.fam), {
          action: 'auth.logout',
          targetType: 'session',
          targetId: result.claims.fam,
        });
      }
    }
  }
  clearSession(c);
  return c.body(null, 204);
});

auth.get('/me', requireRole('viewer', { tenant: false }), async (c) => {
  const p = c.var.principal;
  if (p.kind === 'api_key') {
    const me: Me = { kind: 'api_key', id: p.id, email: null, name: null, role: p.role, tenantId: p.tenantId };
    return c.json(me);
  }
  const user = await userById(c.var.openDb(), p.id);
  if (!user || user.disabled) throw new ApiError(401, 'unauthenticated', 'account no longer exists');
  return c.json(meOf(user));
});
