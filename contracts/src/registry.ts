// The device registry the edge mirrors into NATS KV `tod-devices` (key `<tenant>.<collector>.<device>`)
// for the collector: what to poll and how, credentials sealed to the collector's public key.
import { z } from 'zod';

/** A collector's public key (JWK, P-256 for ECDH-ES). Never a private key. */
export const CollectorPublicKey = z.strictObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  y: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  kid: z.string().max(100).optional(),
  use: z.literal('enc').optional(),
  alg: z.literal('ECDH-ES+A256KW').optional(),
});
export type CollectorPublicKey = z.infer<typeof CollectorPublicKey>;

export const CollectorEnrollRequest = z.strictObject({
  token: z.string().min(10).max(200),
  publicKey: CollectorPublicKey,
  version: z.string().max(100).default(''),
});

/** JWE (compact, ECDH-ES+A256KW / A256GCM) of `DeviceCredentialsPlain`, to the collector's key. */
export const DEVICE_CREDENTIALS_JWE = { alg: 'ECDH-ES+A256KW', enc: 'A256GCM' } as const;

export const DeviceCredentialsPlain = z.object({ username: z.string(), password: z.string() });

export const DeviceRegistryEntry = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  collectorId: z.uuid(),
  name: z.string(),
  host: z.string(),
  port: z.number().int(),
  tlsMode: z.enum(['strict', 'self_signed', 'any', 'plain']),
  /** null when the device has no credentials */
  credentials: z.string().nullable(),
  updatedAt: z.string(),
});
export type DeviceRegistryEntry = z.infer<typeof DeviceRegistryEntry>;
