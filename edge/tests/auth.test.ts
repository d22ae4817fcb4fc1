// Login, sessions and the first admin, from outside the Worker (workerd + Postgres).

import { computeLoginProof, createEnrolment, startLogin } from '@tod/contracts/srp';
import { SignJWT } from 'jose';
import postgres from 'postgres';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../tests/env';
import { type EdgeHandle, startEdge, TEST_SECRETS } from '../../tests/env/edge';
import {
  type Account,
  bootstrap,
  cookiesOf,
  errorCode,
  login,
  newAccount,
  Session,
  setCookieLines,
} from './client';

const ADMIN_EMAIL = 'root@tod.test';
const BOOTSTRAP_PASSWORD = 'bootstrap-password-123';
let edge: EdgeHandle;
let sql: postgres.Sql;
let root: Account;

beforeAll(async () => {
  const db = await freshDatabase();
  sql = postgres(db.superUrl, { max: 1, onnotice: () => {} });
  edge = await startEdge({
    DATABASE_URL: db.appUrl,
    NATS_WS_URL: 'ws://127.0.0.1:1',
    FIRST_ADMIN_EMAIL: ADMIN_EMAIL,
    FIRST_ADMIN_PASSWORD: BOOTSTRAP_PASSWORD,
    CORS_ORIGINS: 'https://portal.tod.test',
    ...TEST_SECRETS,
  });
  // The first admin keeps the real 650,000-iteration derivation: this is the full browser-side login.
  root = { ...newAccount(ADMIN_EMAIL), iterations: undefined };
  return () => sql.end();
});

async function initHandshake(s: Session, email: string) {
  const res = await s.post('/api/auth/srp/init', { email });
  return { res, body: (await res.json()) as { handshakeId: string; salt: string; B: string } };
}

describe('first admin bootstrap', () => {
  it('requires enrolment before the first login', async () => {
    const res = await new Session(edge).post('/api/auth/srp/init', { email: ADMIN_EMAIL });
    expect(res.status).toBe(409);
    expect(await errorCode(res)).toBe('enrollment_required');
    const [u] =
      await sql`SELECT role, tenant_id, must_enroll, srp_verifier FROM users WHERE email = ${ADMIN_EMAIL}`;
    expect(u).toEqual({ role: 'super_admin', tenant_id: null, must_enroll: true, srp_verifier: null });
  });

  it('refuses a wrong bootstrap password', async () => {
    const res = await bootstrap(edge, root, 'not-the-password');
    expect(res.status).toBe(401);
  });

  it('enrols with the bootstrap password once, then only SRP works', async () => {
    const res = await bootstrap(edge, root, BOOTSTRAP_PASSWORD);
    expect(res.status, await res.clone().text()).toBe(200);
    const again = await bootstrap(edge, newAccount(ADMIN_EMAIL), BOOTSTRAP_PASSWORD);
    expect(again.status).toBe(409);
    const [u] = await sql`SELECT must_enroll, secret_key_id FROM users WHERE email = ${ADMIN_EMAIL}`;
    expect(u).toEqual({ must_enroll: false, secret_key_id: root.secretKey.id });
  });

  it('logs in with SRP-6a and 650,000-iteration 2SKD, setting httpOnly Secure SameSite=Strict cookies', async () => {
    const s = new Session(edge);
    const { body } = await initHandshake(s, ADMIN_EMAIL);
    const start = startLogin();
    const proof = await computeLoginProof(root, start, body);
    const res = await s.post('/api/auth/srp/verify', {
      handshakeId: body.handshakeId,
      A: start.A,
      M1: proof.M1,
    });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { M2: string; user: { role: string } };
    expect(json.M2).toBe(proof.expectedM2);
    expect(json.user.role).toBe('super_admin');
    const setCookies = setCookieLines(res);
    expect(setCookies).toHaveLength(2);
    for (const line of setCookies) {
      expect(line).toMatch(/HttpOnly/i);
      expect(line).toMatch(/Secure/i);
      expect(line).toMatch(/SameSite=Strict/i);
    }
    const me = await s.get('/api/auth/me');
    expect(await me.json()).toMatchObject({
      kind: 'user',
      email: ADMIN_EMAIL,
      role: 'super_admin',
      tenantId: null,
    });
    const [audit] =
      await sql`SELECT outcome FROM audit_log WHERE action = 'auth.login' ORDER BY id DESC LIMIT 1`;
    expect(audit).toEqual({ outcome: 'success' });
  });
});

describe('SRP login failures', () => {
  it('refuses a wrong password with 401 and audits the failure', async () => {
    const s = new Session(edge);
    const { body } = await initHandshake(s, ADMIN_EMAIL);
    const start = startLogin();
    const proof = await computeLoginProof({ ...root, password: 'wrong password' }, start, body);
    const res = await s.post('/api/auth/srp/verify', {
      handshakeId: body.handshakeId,
      A: start.A,
      M1: proof.M1,
    });
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('invalid_credentials');
    expect(cookiesOf(res)).toEqual({});
    const [audit] =
      await sql`SELECT outcome FROM audit_log WHERE action = 'auth.login' ORDER BY id DESC LIMIT 1`;
    expect(audit).toEqual({ outcome: 'failure' });
  });

  it('accepts a proof once: the replay is refused', async () => {
    const s = new Session(edge);
    const { body } = await initHandshake(s, ADMIN_EMAIL);
    const start = startLogin();
    const proof = await computeLoginProof(root, start, body);
    const msg = { handshakeId: body.handshakeId, A: start.A, M1: proof.M1 };
    expect((await s.post('/api/auth/srp/verify', msg)).status).toBe(200);
    const replay = await new Session(edge).post('/api/auth/srp/verify', msg);
    expect(replay.status).toBe(401);
    expect(await errorCode(replay)).toBe('invalid_handshake');
  });

  it('refuses an expired handshake', async () => {
    const s = new Session(edge);
    const { body } = await initHandshake(s, ADMIN_EMAIL);
    await sql`UPDATE srp_handshakes SET expires_at = now() - interval '1 second' WHERE id = ${body.handshakeId}`;
    const start = startLogin();
    const proof = await computeLoginProof(root, start, body);
    const res = await s.post('/api/auth/srp/verify', {
      handshakeId: body.handshakeId,
      A: start.A,
      M1: proof.M1,
    });
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('handshake_expired');
  });

  it('answers unknown emails like known ones (a stable fake salt), then fails the proof', async () => {
    const s = new Session(edge);
    const a = await initHandshake(s, 'nobody@tod.test');
    const b = await initHandshake(s, 'nobody@tod.test');
    expect(a.res.status).toBe(200);
    expect(a.body.salt).toBe(b.body.salt);
    const start = startLogin();
    const proof = await computeLoginProof(newAccount('nobody@tod.test'), start, a.body);
    const res = await s.post('/api/auth/srp/verify', {
      handshakeId: a.body.handshakeId,
      A: start.A,
      M1: proof.M1,
    });
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('invalid_credentials');
  });

  it('limits each IP to 60 auth requests per minute with 429 and Retry-After', async () => {
    const s = new Session(edge, { 'cf-connecting-ip': '192.0.2.77' });
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++)
      statuses.push((await s.post('/api/auth/srp/init', { email: `office${i}@tod.test` })).status);
    expect(statuses.filter((x) => x !== 200)).toEqual([]);
    const res = await s.post('/api/auth/srp/init', { email: 'office60@tod.test' });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await errorCode(res)).toBe('rate_limited');
  });

  it('locks an account after 5 failed proofs in a minute, from any IP, and leaves other accounts alone', async () => {
    const victim = 'victim@tod.test';
    const attempt = async (s: Session, hs: Awaited<ReturnType<typeof initHandshake>>) => {
      const start = startLogin();
      const proof = await computeLoginProof(newAccount(victim), start, hs.body);
      return s.post('/api/auth/srp/verify', { handshakeId: hs.body.handshakeId, A: start.A, M1: proof.M1 });
    };
    // A handshake gathered before the failures, to try after them.
    const early = new Session(edge, { 'cf-connecting-ip': '198.51.100.99' });
    const gathered = await initHandshake(early, victim);
    expect(gathered.res.status).toBe(200);
    for (let i = 1; i <= 5; i++) {
      const s = new Session(edge, { 'cf-connecting-ip': `198.51.100.${i}` });
      const hs = await initHandshake(s, victim);
      expect(hs.res.status).toBe(200);
      const res = await attempt(s, hs);
      expect(res.status).toBe(401);
      expect(await errorCode(res)).toBe('invalid_credentials');
    }
    const office = new Session(edge, { 'cf-connecting-ip': '198.51.100.50' });
    const locked = await office.post('/api/auth/srp/init', { email: victim });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await errorCode(locked)).toBe('rate_limited');
    const late = await attempt(early, gathered);
    expect(late.status).toBe(429);
    // Same office, another account: unaffected.
    expect((await office.post('/api/auth/srp/init', { email: 'neighbour@tod.test' })).status).toBe(200);
  });
});

describe('sessions', () => {
  it('refuses an expired access token with token_expired', async () => {
    const iat = Math.floor(Date.now() / 1000) - 3600;
    const token = await new SignJWT({
      tid: null,
      role: 'super_admin',
      sid: crypto.randomUUID(),
      typ: 'access',
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(crypto.randomUUID())
      .setIssuer('tod-edge')
      .setAudience('tod')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 900)
      .sign(new TextEncoder().encode(TEST_SECRETS.JWT_SECRET_KEY));
    const res = await edge.fetch('/api/auth/me', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('token_expired');
  });

  it('refuses a token signed with another key or with alg none', async () => {
    const forged = await new SignJWT({ tid: null, role: 'super_admin', sid: 'x', typ: 'access' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(crypto.randomUUID())
      .setIssuer('tod-edge')
      .setAudience('tod')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode('another-secret-another-secret-another-secret'));
    const none = `${btoa('{"alg":"none"}')}.${btoa('{"sub":"x","role":"super_admin","typ":"access"}')}.`;
    for (const token of [forged, none]) {
      const res = await edge.fetch('/api/auth/me', { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
    }
  });

  it('rotates the refresh token and revokes the family when an old one is reused', async () => {
    const s = await login(edge, root);
    const first = s.cookies.tod_refresh!;
    const r1 = await s.post('/api/auth/refresh');
    expect(r1.status).toBe(200);
    const second = s.cookies.tod_refresh!;
    expect(second).not.toBe(first);
    // An attacker replays the first token: refused, and the whole family (including `second`) ends.
    const thief = new Session(edge);
    thief.cookies.tod_refresh = first;
    const reuse = await thief.post('/api/auth/refresh');
    expect(reuse.status).toBe(401);
    expect(await errorCode(reuse)).toBe('token_reused');
    const legit = await s.post('/api/auth/refresh');
    expect(legit.status).toBe(401);
    const [audit] = await sql`SELECT outcome FROM audit_log WHERE action = 'auth.refresh_reuse'`;
    expect(audit).toEqual({ outcome: 'failure' });
  });

  it('logs out: the refresh token stops working and cookies are cleared', async () => {
    const s = await login(edge, root);
    const refresh = s.cookies.tod_refresh!;
    const out = await s.post('/api/auth/logout');
    expect(out.status).toBe(204);
    expect(s.cookies.tod_access).toBe('');
    const again = new Session(edge);
    again.cookies.tod_refresh = refresh;
    expect((await again.post('/api/auth/refresh')).status).toBe(401);
  });

  it('requires a session for /api/auth/me', async () => {
    const res = await edge.fetch('/api/auth/me');
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('unauthenticated');
  });
});

describe('re-enrolment (password change, Secret Key rotation)', () => {
  it('replaces the verifier after a fresh proof; the old secrets stop working', async () => {
    const rotated: Account = { ...newAccount(ADMIN_EMAIL), iterations: undefined };
    const s = await login(edge, root);
    const { body } = await initHandshake(s, ADMIN_EMAIL);
    const start = startLogin();
    const proof = await computeLoginProof(root, start, body);
    const enrolment = await createEnrolment(rotated);
    const res = await s.post('/api/auth/srp/reenroll', {
      proof: { handshakeId: body.handshakeId, A: start.A, M1: proof.M1 },
      enrolment,
    });
    expect(res.status, await res.clone().text()).toBe(200);
    await login(edge, rotated);
    const old = new Session(edge);
    const h = await initHandshake(old, ADMIN_EMAIL);
    const st = startLogin();
    const p = await computeLoginProof(root, st, h.body);
    expect(
      (await old.post('/api/auth/srp/verify', { handshakeId: h.body.handshakeId, A: st.A, M1: p.M1 })).status,
    ).toBe(401);
    root = rotated;
  });
});

describe('API description', () => {
  it('serves /api/openapi.json and, outside production, /docs', async () => {
    const res = await edge.fetch('/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toContain('/api/auth/srp/verify');
    const docs = await edge.fetch('/docs');
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-security-policy')).toContain('unpkg.com');
    expect(docs.headers.get('x-frame-options')).toBe('DENY');
  });
});

describe('CORS and headers', () => {
  it('allows only the configured origins, with credentials', async () => {
    const preflight = (origin: string) =>
      edge.fetch('/api/auth/srp/init', {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    const ok = await preflight('https://portal.tod.test');
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://portal.tod.test');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    const evil = await preflight('https://evil.example');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends nosniff, Referrer-Policy, HSTS, frame DENY and a strict CSP on API errors too', async () => {
    const res = await edge.fetch('/api/devices');
    expect(res.status).toBe(401);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});
