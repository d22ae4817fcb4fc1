// Collector enrolment: the collector presents a one-time token (created by a tenant admin) and its public key,
// and receives its identity and where to reach NATS.
import { z } from 'zod';

/** A public JWK for ECDH-ES (P-256): what device credentials are sealed to. */
export const CollectorPublicJwk = z
  .object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    y: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  })
  .strict();
export type CollectorPublicJwk = z.infer<typeof CollectorPublicJwk>;

/** A NATS user nkey's public key (base32, 56 characters, starting with U). */
export const NatsUserPublicKey = z.string().regex(/^U[A-Z2-7]{55}$/, 'must be a NATS user public nkey');

export const EnrollRequest = z
  .object({
    token: z.string().min(16).max(200),
    publicKey: CollectorPublicJwk,
    version: z.string().max(64).optional(),
    hostname: z.string().max(253).optional(),
    /** The collector's NATS user nkey (public half; the seed never leaves the collector). When the edge runs
     * NATS with JWT auth it answers with a user JWT for this key. */
    natsPublicKey: NatsUserPublicKey.optional(),
  })
  .strict();
export type EnrollRequest = z.infer<typeof EnrollRequest>;

export const EnrollResponse = z.object({
  tenantId: z.uuid(),
  collectorId: z.uuid(),
  /** NATS URL as the edge knows it; the collector may override it locally (NATS_URL). */
  natsUrl: z.string(),
  /** User JWT for natsPublicKey, scoped by collectorNatsPermissions; absent when NATS runs without auth. */
  natsJwt: z.string().min(1).max(16384).optional(),
  /** The tenant's export key: the collector seals every configuration export to it (EXPORT_JWE). */
  exportKey: CollectorPublicJwk.optional(),
});
export type EnrollResponse = z.infer<typeof EnrollResponse>;

/** A collector renews its NATS user JWT (they expire) by proving it holds the nkey: its current JWT, even an
 * expired one, and a signature with the nkey over natsRenewalChallenge. A revoked or re-enrolled collector is
 * refused, so its NATS access ends when its last JWT expires. */
export const NatsCredentialsRenewRequest = z
  .object({
    jwt: z.string().min(1).max(16384),
    signedAt: z.iso.datetime({ offset: true }),
    /** base64url ed25519 signature of natsRenewalChallenge(publicKey, signedAt) */
    signature: z.string().regex(/^[A-Za-z0-9_-]{80,100}$/),
  })
  .strict();
export type NatsCredentialsRenewRequest = z.infer<typeof NatsCredentialsRenewRequest>;

export const NatsCredentialsRenewResponse = z.object({
  natsJwt: z.string().min(1),
  /** The tenant's export key, so collectors enrolled before it existed learn it at their next renewal. */
  exportKey: CollectorPublicJwk.optional(),
});
export type NatsCredentialsRenewResponse = z.infer<typeof NatsCredentialsRenewResponse>;

/** What the collector signs to renew: bound to its key and a time, so a captured request soon goes stale. */
export function natsRenewalChallenge(userPublicKey: string, signedAt: string): string {
  return `tod-nats-renew\n${userPublicKey}\n${signedAt}`;
}

/** How far signedAt may be from the edge's clock. */
export const NATS_RENEWAL_SKEW_MS = 5 * 60_000;
