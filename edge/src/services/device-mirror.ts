// Mirrors devices into NATS KV `tod-devices` for the collectors (Postgres stays the source of truth).
// Planning happens inside the request's tenant transaction: read the device and its collector's public key,
// decrypt the credentials with the tenant data key and seal them to the collector (JWE). Publishing happens
// after the response (waitUntil), so a NATS outage never fails a write; the next write of the device, or a
// collector's (re)enrolment, brings the mirror back in line.

import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { wsconnect } from '@nats-io/nats-core';
import {
  type CollectorPublicJwk,
  CREDENTIALS_JWE,
  DEVICES_BUCKET,
  type DeviceRegistration,
  deviceKey,
  EVENT_STREAM,
  eventStreamConfig,
} from '@tod/contracts';
import { collectors, devices } from '@tod/drizzle/schema';
import { and, eq, inArray } from 'drizzle-orm';
import type { Context } from 'hono';
import { CompactEncrypt, importJWK } from 'jose';
import type { AppEnv } from '../env';
import type { TenantScope } from '../middleware/auth';
import { configFor } from '../middleware/config';
import { openJson } from './envelope';
import { connectEdge, type EdgeNats, edgeNatsFrom } from './nats-auth';

export interface MirrorOp {
  key: string;
  /** null deletes the key */
  value: DeviceRegistration | null;
}

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

/** Registry entries for these devices: those with credentials and an enrolled, unrevoked collector. A device
 * that cannot be polled (no credentials) has its key removed. */
export async function planDevicePuts(s: TenantScope, rows: DeviceRow[]): Promise<MirrorOp[]> {
  const collectorIds = [...new Set(rows.map((r) => r.collectorId).filter((id): id is string => id !== null))];
  if (collectorIds.length === 0) return [];
  const cols = await s.tx
    .select({ id: collectors.id, publicKey: collectors.publicKey, status: collectors.status })
    .from(collectors)
    .where(inArray(collectors.id, collectorIds));
  const keys = new Map(
    cols
      .filter((c) => c.publicKey && c.status !== 'revoked')
      .map((c) => [c.id, c.publicKey as unknown as CollectorPublicJwk]),
  );
  const ops: MirrorOp[] = [];
  for (const d of rows) {
    const publicKey = d.collectorId ? keys.get(d.collectorId) : undefined;
    if (!d.collectorId || !publicKey) continue;
    const key = deviceKey(d.tenantId, d.collectorId, d.id);
    if (!d.credentialsEnc) {
      ops.push({ key, value: null });
      continue;
    }
    const credentials = await sealCredentials(
      publicKey,
      await openJson(s.envelope, 'device-credentials', new Uint8Array(d.credentialsEnc)),
    );
    ops.push({
      key,
      value: {
        v: 1,
        tenantId: d.tenantId,
        collectorId: d.collectorId,
        deviceId: d.id,
        name: d.name,
        host: d.host,
        ...ports(d),
        tlsMode: d.tlsMode,
        pollIntervalSeconds: 60,
        credentials,
        updatedAt: (d.updatedAt instanceof Date ? d.updatedAt : new Date(d.updatedAt)).toISOString(),
      },
    });
  }
  return ops;
}

export function planDeviceDelete(tenantId: string, collectorId: string | null, deviceId: string): MirrorOp[] {
  return collectorId ? [{ key: deviceKey(tenantId, collectorId, deviceId), value: null }] : [];
}

/** Every device of one collector: after it enrols (new key) or is revoked (remove). */
export async function planCollectorDevices(
  s: TenantScope,
  collectorId: string,
  remove: boolean,
): Promise<MirrorOp[]> {
  const rows = await s.tx
    .select()
    .from(devices)
    .where(and(eq(devices.tenantId, s.tenantId), eq(devices.collectorId, collectorId)));
  if (remove) return rows.map((d) => ({ key: deviceKey(d.tenantId, collectorId, d.id), value: null }));
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
      if (op.value) await kv.put(op.key, JSON.stringify(op.value));
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
