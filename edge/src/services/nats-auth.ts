// NATS credentials issued by the edge (decentralized JWT auth, operator mode). The edge holds the seed of a
// signing key of the TOD account (NATS_ACCOUNT_SIGNING_SEED) and signs user JWTs with it: one for each
// collector at enrolment (for the nkey the collector made; its seed never leaves the collector), and short-lived
// ones for its own connections (device mirror, hubs), each with a fresh nkey kept only in memory. Runs in
// workerd and in Node (scripts, tests).
import { decode, encodeUser } from '@nats-io/jwt';
import { jwtAuthenticator, wsconnect } from '@nats-io/nats-core';
import { createUser, fromPublic, fromSeed } from '@nats-io/nkeys';
import { collectorNatsPermissions, type NatsPermissions } from '@tod/contracts';

export interface NatsAccountSigner {
  /** The account's identity (public key, A…): what user JWTs name as `issuer_account`. */
  accountPublicKey: string;
  /** Seed (SA…) of one of the account's signing keys. */
  signingSeed: string;
}

export interface NatsUserCreds {
  jwt: string;
  /** The user nkey seed (SU…). */
  seed: string;
}

/** The edge's signer from its config, or null when NATS runs without auth. */
export function natsSignerFrom(cfg: {
  NATS_ACCOUNT_PUBLIC_KEY?: string;
  NATS_ACCOUNT_SIGNING_SEED?: string;
}): NatsAccountSigner | null {
  if (!cfg.NATS_ACCOUNT_PUBLIC_KEY || !cfg.NATS_ACCOUNT_SIGNING_SEED) return null;
  return { accountPublicKey: cfg.NATS_ACCOUNT_PUBLIC_KEY, signingSeed: cfg.NATS_ACCOUNT_SIGNING_SEED };
}

/** Signs a user JWT for `userPublicKey`. No permissions = everything in the account (the edge's own users).
 * `ttlSeconds` sets `exp`: nats-server refuses the JWT and closes connections made with it after that. */
export async function mintUserJwt(
  signer: NatsAccountSigner,
  opts: {
    name: string;
    userPublicKey: string;
    permissions?: NatsPermissions;
    ttlSeconds?: number;
    tags?: string[];
  },
): Promise<string> {
  const signingKey = fromSeed(new TextEncoder().encode(signer.signingSeed));
  const user = opts.permissions
    ? {
        pub: opts.permissions.pub,
        sub: opts.permissions.sub,
        ...(opts.permissions.resp ? { resp: opts.permissions.resp } : {}),
      }
    : {};
  return encodeUser(
    opts.name,
    opts.userPublicKey,
    signer.accountPublicKey,
    { ...user, bearer_token: false, ...(opts.tags ? { tags: opts.tags } : {}) },
    {
      signer: signingKey,
      ...(opts.ttlSeconds ? { exp: Math.floor(Date.now() / 1000) + opts.ttlSeconds } : {}),
    },
  );
}

const TENANT_TAG = 'tod-tenant:';
const COLLECTOR_TAG = 'tod-collector:';

/** The JWT a collector connects with: its tenant's events, its own registry keys, nothing else. It expires
 * after `ttlSeconds` (the collector renews it); without, it never does. */
export function mintCollectorJwt(
  signer: NatsAccountSigner,
  ids: { tenantId: string; collectorId: string; userPublicKey: string },
  ttlSeconds?: number,
): Promise<string> {
  return mintUserJwt(signer, {
    name: `collector ${ids.collectorId}`,
    userPublicKey: ids.userPublicKey,
    permissions: collectorNatsPermissions(ids.tenantId, ids.collectorId),
    tags: [`${TENANT_TAG}${ids.tenantId}`, `${COLLECTOR_TAG}${ids.collectorId}`],
    ...(ttlSeconds ? { ttlSeconds } : {}),
  });
}

export interface CollectorJwtClaims {
  tenantId: string;
  collectorId: string;
  userPublicKey: string;
  /** seconds since the epoch */
  issuedAt: number;
}

/** Reads a collector JWT this edge's signing key issued (signature checked; expiry not: renewal accepts an
 * expired one). Throws on anything else. */
export function readCollectorJwt(signer: NatsAccountSigner, jwt: string): CollectorJwtClaims {
  const claims = decode<{ tags?: string[]; issuer_account?: string; type?: string }>(jwt);
  const signingKey = fromSeed(new TextEncoder().encode(signer.signingSeed)).getPublicKey();
  if (claims.iss !== signingKey || claims.nats?.issuer_account !== signer.accountPublicKey)
    throw new Error('not issued by this edge');
  if (claims.nats?.type !== 'user') throw new Error('not a user JWT');
  const tag = (prefix: string) => claims.nats?.tags?.find((t) => t.startsWith(prefix))?.slice(prefix.length);
  const tenantId = tag(TENANT_TAG);
  const collectorId = tag(COLLECTOR_TAG);
  if (!tenantId || !collectorId || !claims.sub || !claims.iat) throw new Error('not a collector JWT');
  return { tenantId, collectorId, userPublicKey: claims.sub, issuedAt: claims.iat };
}

/** Checks a signature made with a user nkey (base64url) over `message`. */
export function verifyNkeySignature(userPublicKey: string, message: string, signature: string): boolean {
  try {
    return fromPublic(userPublicKey).verify(new TextEncoder().encode(message), base64urlDecode(signature));
  } catch {
    return false;
  }
}

function base64urlDecode(s: string): Uint8Array {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
}

/** Fresh credentials for one of the edge's own connections (a new nkey each time, never stored). */
export async function mintEdgeCreds(
  signer: NatsAccountSigner,
  name = 'tod-edge',
  ttlSeconds = 3600,
): Promise<NatsUserCreds> {
  const kp = createUser();
  const jwt = await mintUserJwt(signer, { name, userPublicKey: kp.getPublicKey(), ttlSeconds });
  return { jwt, seed: new TextDecoder().decode(kp.getSeed()) };
}

/** Connection options for nats.js (`connect`/`wsconnect`) with these credentials. */
export function natsAuthOptions(creds: NatsUserCreds | null): {
  authenticator?: ReturnType<typeof jwtAuthenticator>;
} {
  if (!creds) return {};
  return { authenticator: jwtAuthenticator(creds.jwt, new TextEncoder().encode(creds.seed)) };
}

/** The edge's own connection options: minted credentials when NATS has auth, none otherwise. */
export async function edgeNatsOptions(
  signer: NatsAccountSigner | null,
  name?: string,
): Promise<{ authenticator?: ReturnType<typeof jwtAuthenticator> }> {
  return natsAuthOptions(signer ? await mintEdgeCreds(signer, name) : null);
}

/** Where and how the edge reaches NATS. */
export interface EdgeNats {
  wsUrl: string;
  signer: NatsAccountSigner | null;
}

export function edgeNatsFrom(cfg: {
  NATS_WS_URL: string;
  NATS_ACCOUNT_PUBLIC_KEY?: string;
  NATS_ACCOUNT_SIGNING_SEED?: string;
}): EdgeNats {
  return { wsUrl: cfg.NATS_WS_URL, signer: natsSignerFrom(cfg) };
}

/** One of the edge's own NATS connections (over WebSocket), with fresh credentials when NATS has auth.
 * Short-lived by default: no reconnects, so a refused login fails at once instead of retrying until the
 * timeout. A long-lived connection (a hub) passes `reconnect: true` and reconnects with fresh credentials
 * when its JWT (1 h) expires. */
export async function connectEdge(nats: EdgeNats, name: string, opts: { reconnect?: boolean } = {}) {
  return wsconnect({
    servers: nats.wsUrl,
    timeout: 5000,
    reconnect: opts.reconnect ?? false,
    name,
    ...(await edgeNatsOptions(nats.signer, name)),
  });
}
