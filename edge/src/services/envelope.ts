// Envelope encryption of tenant secrets (device credentials, audit details, config backups): one AES-256-GCM
// data key per tenant, created on first use, stored wrapped by the KMS in tenant_keys. Each KMS use is
// logged in kms_events for the transparency view. Ciphertext layout:
//   0x01 | key version (u32 BE) | iv (12) | AES-GCM(ciphertext+tag), AAD = "<tenant>:<purpose>"
import { buf, concatBytes, randomBytes, utf8 } from '@tod/contracts/srp';
import { kmsEvents, tenantKeys } from '@tod/drizzle/schema';
import { and, desc, eq } from 'drizzle-orm';
import type { Tx } from '../db';
import type { Kms } from './kms';

const FORMAT = 1;

interface DataKey {
  version: number;
  key: CryptoKey;
}

// Unwrapped keys per isolate: an unwrap (and its KMS log entry) happens once per isolate and key.
const cache = new Map<string, DataKey>();

export class EnvelopeError extends Error {
  readonly code = 'decrypt_failed';
}

export interface Envelope {
  tx: Tx;
  kms: Kms;
  tenantId: string;
  requestId?: string;
}

async function importKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', buf(raw), 'AES-GCM', false, ['encrypt', 'decrypt']);
}

async function logKms(
  env: Envelope,
  operation: 'generate' | 'wrap' | 'unwrap' | 'rewrap',
  version: number,
  purpose: string,
) {
  await env.tx.insert(kmsEvents).values({
    tenantId: env.tenantId,
    operation,
    kms: env.kms.name,
    keyVersion: version,
    purpose,
    requestId: env.requestId ?? null,
  });
}

async function loadKey(env: Envelope, version: number | null, purpose: string): Promise<DataKey | null> {
  const cacheKey = (v: number) => `${env.kms.name}:${env.tenantId}:${v}`;
  if (version !== null) {
    const hit = cache.get(cacheKey(version));
    if (hit) return hit;
  }
  const where =
    version === null
      ? eq(tenantKeys.tenantId, env.tenantId)
      : and(eq(tenantKeys.tenantId, env.tenantId), eq(tenantKeys.version, version));
  const [row] = await env.tx
    .select()
    .from(tenantKeys)
    .where(where)
    .orderBy(desc(tenantKeys.version))
    .limit(1);
  if (!row) return null;
  const hit = cache.get(cacheKey(row.version));
  if (hit) return hit;
  const raw = await env.kms.unwrap(env.tenantId, new Uint8Array(row.wrappedKey));
  await logKms(env, 'unwrap', row.version, purpose);
  const dk = { version: row.version, key: await importKey(raw) };
  cache.set(cacheKey(row.version), dk);
  return dk;
}

async function currentKey(env: Envelope, purpose: string): Promise<DataKey> {
  const existing = await loadKey(env, null, purpose);
  if (existing) return existing;
  const raw = randomBytes(32);
  const wrapped = await env.kms.wrap(env.tenantId, raw);
  const inserted = await env.tx
    .insert(tenantKeys)
    .values({ tenantId: env.tenantId, version: 1, kms: env.kms.name, wrappedKey: wrapped })
    .onConflictDoNothing()
    .returning({ version: tenantKeys.version });
  if (inserted.length === 0) {
    const raced = await loadKey(env, null, purpose);
    if (!raced) throw new EnvelopeError('tenant data key vanished');
    return raced;
  }
  await logKms(env, 'generate', 1, purpose);
  await logKms(env, 'wrap', 1, purpose);
  const dk = { version: 1, key: await importKey(raw) };
  cache.set(`${env.kms.name}:${env.tenantId}:1`, dk);
  return dk;
}

export async function seal(env: Envelope, purpose: string, plaintext: Uint8Array): Promise<Uint8Array> {
  const dk = await currentKey(env, purpose);
  const iv = randomBytes(12);
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: buf(iv), additionalData: buf(utf8(`${env.tenantId}:${purpose}`)) },
    dk.key,
    buf(plaintext),
  );
  const header = new Uint8Array(5);
  header[0] = FORMAT;
  new DataView(header.buffer).setUint32(1, dk.version);
  return concatBytes(header, iv, new Uint8Array(ct));
}

export async function open(env: Envelope, purpose: string, sealed: Uint8Array): Promise<Uint8Array> {
  if (sealed.length < 5 + 12 + 16 || sealed[0] !== FORMAT)
    throw new EnvelopeError('unknown ciphertext format');
  const version = new DataView(sealed.buffer, sealed.byteOffset, sealed.byteLength).getUint32(1);
  const dk = await loadKey(env, version, purpose);
  if (!dk) throw new EnvelopeError('no data key for this ciphertext');
  try {
    const pt = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: buf(sealed.slice(5, 17)),
        additionalData: buf(utf8(`${env.tenantId}:${purpose}`)),
      },
      dk.key,
      buf(sealed.slice(17)),
    );
    return new Uint8Array(pt);
  } catch {
    throw new EnvelopeError('ciphertext does not decrypt');
  }
}

export async function sealJson(env: Envelope, purpose: string, value: unknown): Promise<Uint8Array> {
  return seal(env, purpose, utf8(JSON.stringify(value)));
}

export async function openJson(env: Envelope, purpose: string, sealed: Uint8Array): Promise<unknown> {
  return JSON.parse(new TextDecoder().decode(await open(env, purpose, sealed)));
}

/** Rewraps every data key of the tenant under the KMS's current key version (after a KMS key rotation). */
export async function rewrapTenantKeys(env: Envelope): Promise<number> {
  const rows = await env.tx
    .select()
    .from(tenantKeys)
    .where(and(eq(tenantKeys.tenantId, env.tenantId), eq(tenantKeys.kms, env.kms.name)));
  for (const row of rows) {
    const wrapped = await env.kms.rewrap(env.tenantId, new Uint8Array(row.wrappedKey));
    await env.tx
      .update(tenantKeys)
      .set({ wrappedKey: wrapped })
      .where(and(eq(tenantKeys.tenantId, env.tenantId), eq(tenantKeys.version, row.version)));
    await logKms(env, 'rewrap', row.version, 'rotation');
  }
  return rows.length;
}
