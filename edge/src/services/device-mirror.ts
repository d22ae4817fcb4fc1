// Mirrors devices into NATS KV `tod-devices` for the collectors (Postgres stays the source of truth). A device
// goes to its collector and, when that collector names a site, to every enrolled collector of the same site (an
// HA group): one entry per collector, each sealed to that collector's key, each listing the group in
// `siteCollectors` so the collectors poll it under a lease (`tod-leases`) and never at the same time.
// Planning happens inside the request's tenant transaction: read the device and its collector's public key,
// decrypt the credentials with the tenant data key and seal them to the collector (JWE). Publishing happens
// after the response (waitUntil), so a NATS outage never fails a write; the next write of the device, or a
// collector's (re)enrolment, brings the mirror back in line.

import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { wsconnect } from '@nats-io/nats-core';
import {
  type BackupPolicy,
  backupPolicyFromSettings,
  type CollectorPublicJwk,
  CREDENTIALS_JWE,
  DEFAULT_LEASE_TTL_MS,
  DEVICES_BUCKET,
  type DeviceRegistration,
  deviceKey,
  EVENT_STREAM,
  eventStreamConfig,
  LEASES_BUCKET,
} from '@tod/contracts';
import { collectors, devices, tenants } from '@tod/drizzle/schema';
import { and, eq, inArray } from 'drizzle-orm';
import type { Context } from 'hono';
import { CompactEncrypt, importJWK } from 'jose';
import type { AppEnv } from '../env';
import type { TenantScope } from '../middleware/auth';
import { configFor } from '../middleware/config';
import { openJson } from './envelope';
import { connectEdge, type EdgeNats, edgeNatsFrom } from './nats-auth';

export type MirrorOp =
  | {
      key: string;
      /** null deletes the key */
      value: DeviceRegistration | null;
    }
  /** Deletes every key matching `pattern` (a KV filter with `*`) except those in `keep`: entries left behind
   * under collectors that no longer poll the device (moved, revoked, left the site). */
  | { pattern: string; keep: string[] };

/** Every collector's entry for one device. */
const deviceKeys = (tenantId: string, deviceId: string) => `${tenantId}.*.${deviceId}`;

type DeviceRow = typeof devices.$inferSelect;

async function sealCredentials(publicKey: CollectorPublicJwk, credentials: unknown): Promise<string> {
  const key = await importJWK(publicKey, CREDENTIALS_JWE.alg);
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(credentials)))
    .setProtectedHeader({ alg: CREDENTIALS_JWE.alg, enc: CREDENTIALS_JWE.enc })
    .encrypt(key);
}

const API_PORT = 8728;
const API_SSL_PORT = 8729;

/** The device row has one port: the API-SSL port for TLS-only modes, the plain API port otherwise (the other
 * one takes RouterOS's default). */
function ports(d: DeviceRow): { port: number; tlsPort: number } {
  return d.tlsMode === 'strict' || d.tlsMode === 'self_signed'
    ? { port: API_PORT, tlsPort: d.port }
    : { port: d.port, tlsPort: API_SSL_PORT };
}

type CollectorRow = { id: string; site: string; publicKey: unknown; status: string };

/** The collectors of the given collectors' sites (a collector without a site is a group of one). */
async function siteGroups(s: TenantScope, collectorIds: string[]): Promise<Map<string, CollectorRow[]>> {
  const columns = {
    id: collectors.id,
    site: collectors.site,
    publicKey: collectors.publicKey,
    status: collectors.status,
  };
  const own = await s.tx
    .select(columns)
    .from(collectors)
    .where(and(eq(collectors.tenantId, s.tenantId), inArray(collectors.id, collectorIds)));
  const sites = [...new Set(own.map((c) => c.site).filter((site) => site !== ''))];
  const peers = sites.length
    ? await s.tx
        .select(columns)
        .from(collectors)
        .where(and(eq(collectors.tenantId, s.tenantId), inArray(collectors.site, sites)))
    : [];
  const groups = new Map<string, CollectorRow[]>();
  for (const c of own) {
    groups.set(c.id, c.site === '' ? [c] : peers.filter((p) => p.site === c.site));
  }
  return groups;
}

/** The tenant's backup policy, which every registry entry of the tenant carries. */
async function tenantBackupPolicy(s: TenantScope): Promise<BackupPolicy> {
  const [t] = await s.tx
    .select({ settings: tenants.settings })
    .from(tenants)
    .where(eq(tenants.id, s.tenantId));
  return backupPolicyFromSettings(t?.settings);
}

/** Registry entries for these devices: one per enrolled, unrevoked collector of the device's collector's site,
 * for devices with credentials. `prune` also removes the device's entries under any other collector (after a
 * change of collector or credentials); a device that cannot be polled is then removed everywhere. */
export async function planDevicePuts(
  s: TenantScope,
  rows: DeviceRow[],
  opts: { prune?: boolean } = {},
): Promise<MirrorOp[]> {
  const collectorIds = [...new Set(rows.map((r) => r.collectorId).filter((id): id is string => id !== null))];
  const groups = collectorIds.length ? await siteGroups(s, collectorIds) : new Map<string, CollectorRow[]>();
  const ops: MirrorOp[] = [];
  const backup = rows.length ? await tenantBackupPolicy(s) : null;
  for (const d of rows) {
    const targets = (d.collectorId ? (groups.get(d.collectorId) ?? []) : [])
      .filter((c) => c.publicKey && c.status !== 'revoked')
      .sort((a, b) => a.id.localeCompare(b.id));
    const kept: string[] = [];
    if (d.credentialsEnc && targets.length) {
      const plain = await openJson(s.envelope, 'device-credentials', new Uint8Array(d.credentialsEnc));
      const siteCollectors = targets.map((c) => c.id);
      for (const target of targets) {
        const key = deviceKey(d.tenantId, target.id, d.id);
        kept.push(key);
        ops.push({
          key,
          value: {
            v: 1,
            tenantId: d.tenantId,
            collectorId: target.id,
            deviceId: d.id,
            name: d.name,
            host: d.host,
            ...ports(d),
            tlsMode: d.tlsMode,
            pollIntervalSeconds: 60,
            siteCollectors,
            ...(backup
              ? {
                  backup: {
                    showSensitive: backup.showSensitive,
                    ...(backup.nightlyWindow ? { window: backup.nightlyWindow } : {}),
                  },
                }
              : {}),
            credentials: await sealCredentials(target.publicKey as CollectorPublicJwk, plain),
            updatedAt: (d.updatedAt instanceof Date ? d.updatedAt : new Date(d.updatedAt)).toISOString(),
          },
        });
      }
    }
    if (opts.prune || (!d.credentialsEnc && targets.length)) {
      ops.push({ pattern: deviceKeys(d.tenantId, d.id), keep: kept });
    }
  }
  return ops;
}

export function planDeviceDelete(tenantId: string, collectorId: string | null, deviceId: string): MirrorOp[] {
  return collectorId ? [{ pattern: deviceKeys(tenantId, deviceId), keep: [] }] : [];
}

/** Every device of one collector's site group: after it enrols (new key: its entries appear, its peers' entries
 * list it) or is revoked (its entries go, the remaining peers take over its devices). */
export async function planCollectorDevices(
  s: TenantScope,
  collectorId: string,
  remove: boolean,
): Promise<MirrorOp[]> {
  const group = (await siteGroups(s, [collectorId])).get(collectorId) ?? [];
  const ids = [...new Set([collectorId, ...group.map((c) => c.id)])];
  const rows = await s.tx
    .select()
    .from(devices)
    .where(and(eq(devices.tenantId, s.tenantId), inArray(devices.collectorId, ids)));
  const puts = await planDevicePuts(s, rows);
  if (!remove) return puts;
  return [{ pattern: `${s.tenantId}.${collectorId}.*`, keep: [] }, ...puts];
}

/** Every device of the tenant, after a change that every registry entry carries (the backup policy). */
export async function planTenantDevices(s: TenantScope): Promise<MirrorOp[]> {
  const rows = await s.tx.select().from(devices).where(eq(devices.tenantId, s.tenantId));
  return planDevicePuts(s, rows);
}

function logNatsFailure(msg: string, err: unknown, extra: Record<string, unknown> = {}): void {
  console.error(
    JSON.stringify({
      level: 'error',
      msg,
      ...extra,
      error: (err as Error).message.replace(/[a-z]+:\/\/\S+/gi, '<url>').slice(0, 200),
    }),
  );
}

/** Applies the ops to the KV bucket (created on first use). Logs failures without values. */
export async function publishMirror(nats: EdgeNats, ops: MirrorOp[]): Promise<void> {
  if (ops.length === 0) return;
  let nc: Awaited<ReturnType<typeof wsconnect>> | null = null;
  try {
    nc = await connectEdge(nats, 'tod-edge-mirror');
    const kv = await new Kvm(nc).create(DEVICES_BUCKET, { history: 1 });
    for (const op of ops) {
      if ('pattern' in op) {
        const stale: string[] = [];
        for await (const key of await kv.keys(op.pattern)) if (!op.keep.includes(key)) stale.push(key);
        for (const key of stale) await kv.delete(key);
      } else if (op.value) await kv.put(op.key, JSON.stringify(op.value));
      else await kv.delete(op.key);
    }
  } catch (err) {
    logNatsFailure('device mirror failed', err, { ops: ops.length });
  } finally {
    await nc?.close().catch(() => undefined);
  }
}

/** Creates what collectors use but may not create themselves (with NATS auth they lack the rights): the
 * registry bucket and the event stream. Idempotent; a failure is logged, never thrown (the collector retries). */
export async function ensureCollectorResources(nats: EdgeNats): Promise<void> {
  let nc: Awaited<ReturnType<typeof wsconnect>> | null = null;
  try {
    nc = await connectEdge(nats, 'tod-edge-setup');
    await new Kvm(nc).create(DEVICES_BUCKET, { history: 1 });
    // Collectors of an HA site take per-device leases here; under NATS auth they cannot create the bucket.
    await new Kvm(nc).create(LEASES_BUCKET, { history: 1, ttl: DEFAULT_LEASE_TTL_MS });
    const jsm = await jetstreamManager(nc);
    try {
      await jsm.streams.info(EVENT_STREAM.name);
    } catch {
      await jsm.streams.add(eventStreamConfig());
    }
  } catch (err) {
    logNatsFailure('could not create the NATS registry bucket or event stream', err);
  } finally {
    await nc?.close().catch(() => undefined);
  }
}

/** Publishes after the response; the write has committed by then. */
export function mirrorAfterResponse(c: Context<AppEnv>, ops: MirrorOp[]): void {
  if (ops.length === 0) return;
  c.executionCtx.waitUntil(publishMirror(edgeNatsFrom(configFor(c.env)), ops));
}
