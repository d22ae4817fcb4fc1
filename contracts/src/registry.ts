// The device registry as the collector sees it: NATS KV bucket `tod-devices`, key
// `<tenant>.<collector>.<device>`, written by the edge whenever a device is created, changed or deleted.
import { z } from 'zod';
import { BackupWindow } from './api/backup-policy';
import { TlsMode } from './api/devices';

export const DeviceRegistration = z.object({
  v: z.literal(1),
  tenantId: z.uuid(),
  collectorId: z.uuid(),
  deviceId: z.uuid(),
  name: z.string().min(1).max(200),
  host: z.string().min(1).max(253),
  /** Plain API port. */
  port: z.number().int().min(1).max(65535),
  /** API-SSL port. */
  tlsPort: z.number().int().min(1).max(65535).default(8729),
  tlsMode: TlsMode,
  pollIntervalSeconds: z.number().int().min(10).max(3600).default(60),
  /** Every collector of the device's site that receives this entry (each under its own key, sealed to its own
   * key). More than one means the device is shared by an HA group: each poll then needs the device's lease in
   * `tod-leases`. Empty (older entries) means this collector alone. */
  siteCollectors: z.array(z.uuid()).max(32).optional(),
  /** The tenant's backup policy for this device; absent = the collector's BACKUP_SHOW_SENSITIVE (default false).
   * `window`: the tenant's nightly window (`HH:MM-HH:MM`, collector's local time); absent = BACKUP_WINDOW. */
  backup: z.object({ showSensitive: z.boolean(), window: BackupWindow.optional() }).optional(),
  /** JWE (compact) of DeviceCredentials, sealed to the collector's public key; only that collector can open it. */
  credentials: z.string().min(1).max(8192),
  updatedAt: z.iso.datetime({ offset: true }),
});
export type DeviceRegistration = z.infer<typeof DeviceRegistration>;

export const DeviceCredentials = z.object({
  username: z.string().min(1).max(255),
  password: z.string().max(255),
});
export type DeviceCredentials = z.infer<typeof DeviceCredentials>;

/** Key management algorithm and content encryption for sealed credentials. */
export const CREDENTIALS_JWE = { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', crv: 'P-256' } as const;

/** NATS KV bucket holding one lease per shared device; its max_age is the lease TTL (set by its creator). */
export const LEASES_BUCKET = 'tod-leases';

/** The lease TTL the edge creates `tod-leases` with (collectors under NATS auth cannot create buckets): 1.5 ×
 * the default 60 s poll interval, what a collector with default settings would pick itself. */
export const DEFAULT_LEASE_TTL_MS = 90_000;

/** Key in `tod-leases`: `<tenant>.<device>`. */
export function leaseKey(tenantId: string, deviceId: string): string {
  return `${tenantId}.${deviceId}`;
}

/** Who holds a device's lease. Written with compare-and-swap on the key's revision; the bucket's max_age expires
 * it when the holder stops renewing (it renews on every poll). */
export const DeviceLease = z.object({
  v: z.literal(1),
  collectorId: z.uuid(),
  renewedAt: z.iso.datetime({ offset: true }),
  ttlMs: z.number().int().positive(),
});
export type DeviceLease = z.infer<typeof DeviceLease>;
