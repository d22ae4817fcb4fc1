// Session tokens: HS256 JWTs (jose) with a 15-minute access token and a 7-day refresh token, both in
// httpOnly, Secure, SameSite=Strict cookies. Refresh tokens are also rows in refresh_tokens so they rotate
// and can be revoked per family.

import type { Role } from '@tod/contracts';
import { errors, jwtVerify, SignJWT } from 'jose';

export const ACCESS_TTL_SECONDS = 15 * 60;
export const REFRESH_TTL_SECONDS = 7 * 24 * 60 * 60;
export const ACCESS_COOKIE = 'tod_access';
export const REFRESH_COOKIE = 'tod_refresh';
const ISSUER = 'tod-edge';
const AUDIENCE = 'tod';

export interface AccessClaims {
  sub: string;
  tid: string | null;
  role: Role;
  /** refresh family (the login session) */
  sid: string;
}

export interface RefreshClaims {
  sub: string;
  fam: string;
  jti: string;
}

function key(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export async function signAccess(secret: string, claims: AccessClaims, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({ tid: claims.tid, role: claims.role, sid: claims.sid, typ: 'access' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ACCESS_TTL_SECONDS)
    .sign(key(secret));
}

export async function signRefresh(secret: string, claims: RefreshClaims, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({ fam: claims.fam, typ: 'refresh' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setJti(claims.jti)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + REFRESH_TTL_SECONDS)
    .sign(key(secret));
}

export type VerifyResult<T> = { ok: true; claims: T } | { ok: false; reason: 'expired' | 'invalid' };

async function verify(
  secret: string,
  token: string,
  typ: string,
): Promise<VerifyResult<Record<string, unknown>>> {
  try {
    const { payload } = await jwtVerify(token, key(secret), {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    if (payload.typ !== typ || typeof payload.sub !== 'string') return { ok: false, reason: 'invalid' };
    return { ok: true, claims: payload as Record<string, unknown> };
  } catch (err) {
    return { ok: false, reason: err instanceof errors.JWTExpired ? 'expired' : 'invalid' };
  }
}

const ROLES = new Set(['super_admin', 'admin', 'operator', 'viewer']);

export async function verifyAccess(secret: string, token: string): Promise<VerifyResult<AccessClaims>> {
  const r = await verify(secret, token, 'access');
  if (!r.ok) return r;
  const { sub, tid, role, sid } = r.claims;
  if (typeof role !== 'string' || !ROLES.has(role) || typeof sid !== 'string') {
    return { ok: false, reason: 'invalid' };
  }
  if (tid !== null && typeof tid !== 'string') return { ok: false, reason: 'invalid' };
  return { ok: true, claims: { sub: sub as string, tid: tid as string | null, role: role as Role, sid } };
}

export async function verifyRefresh(secret: string, token: string): Promise<VerifyResult<RefreshClaims>> {
  const r = await verify(secret, token, 'refresh');
  if (!r.ok) return r;
  const { sub, fam, jti } = r.claims;
  if (typeof fam !== 'string' || typeof jti !== 'string') return { ok: false, reason: 'invalid' };
  return { ok: true, claims: { sub: sub as string, fam, jti } };
}

/** A short-lived token for one SSE connection (EventSource cannot send headers; cross-origin clients may not
 * send the cookie). Bound to the tenant and role it was issued for. */
export interface SseClaims {
  sub: string;
  kind: 'user' | 'api_key';
  tid: string;
  role: Role;
}

export async function signSse(
  secret: string,
  claims: SseClaims,
  ttlSeconds: number,
  now = Date.now(),
): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({ tid: claims.tid, role: claims.role, knd: claims.kind, typ: 'sse' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(key(secret));
}

export async function verifySse(secret: string, token: string): Promise<VerifyResult<SseClaims>> {
  const r = await verify(secret, token, 'sse');
  if (!r.ok) return r;
  const { sub, tid, role, knd } = r.claims;
  if (typeof role !== 'string' || !ROLES.has(role) || typeof tid !== 'string') {
    return { ok: false, reason: 'invalid' };
  }
  if (knd !== 'user' && knd !== 'api_key') return { ok: false, reason: 'invalid' };
  return { ok: true, claims: { sub: sub as string, tid, role: role as Role, kind: knd } };
}
