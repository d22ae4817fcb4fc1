// The tenant's export key: collectors seal every configuration export to its public half (EXPORT_JWE), so a
// sensitive export is never plain text in a collector's outbox or in the event stream; only the edge opens it,
// inside the tenant transaction that stores the snapshot. One P-256 key pair per tenant, made on first use;
// the private JWK is sealed with the tenant's data key (envelope purpose 'export-key').
import { CONFIG_EXPORT_MAX_CHARS, type CollectorPublicJwk, EXPORT_JWE, inflateRaw } from '@tod/contracts';
import { tenantExportKeys } from '@tod/drizzle/schema';
import { eq } from 'drizzle-orm';
import { compactDecrypt, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { type Envelope, openJson, sealJson } from './envelope';

const PURPOSE = 'export-key';

export class SealedExportError extends Error {
  readonly code = 'sealed_export_invalid';
}

// Opened private keys per isolate and tenant: one envelope open per isolate, not one per snapshot.
const privateKeys = new Map<string, CryptoKey>();

function publicOnly(jwk: JWK): CollectorPublicJwk {
  return { kty: 'EC', crv: 'P-256', x: jwk.x as string, y: jwk.y as string };
}

/** The tenant's export public key, created (with its sealed private half) on first use. Runs in the caller's
 * tenant transaction. */
export async function exportPublicKey(env: Envelope): Promise<CollectorPublicJwk> {
  const [row] = await env.tx
    .select({ publicJwk: tenantExportKeys.publicJwk })
    .from(tenantExportKeys)
    .where(eq(tenantExportKeys.tenantId, env.tenantId));
  if (row) return publicOnly(row.publicJwk as JWK);
  const pair = await generateKeyPair(EXPORT_JWE.alg, { crv: EXPORT_JWE.crv, extractable: true });
  const pub = publicOnly(await exportJWK(pair.publicKey));
  const priv = await exportJWK(pair.privateKey);
  // Two first uses at once: the first insert wins and both answer with the stored key.
  const inserted = await env.tx
    .insert(tenantExportKeys)
    .values({ tenantId: env.tenantId, publicJwk: pub, privateJwkEnc: await sealJson(env, PURPOSE, priv) })
    .onConflictDoNothing()
    .returning({ publicJwk: tenantExportKeys.publicJwk });
  if (inserted[0]) return publicOnly(inserted[0].publicJwk as JWK);
  return exportPublicKey(env);
}

async function privateKey(env: Envelope): Promise<CryptoKey> {
  const hit = privateKeys.get(env.tenantId);
  if (hit) return hit;
  const [row] = await env.tx
    .select({ privateJwkEnc: tenantExportKeys.privateJwkEnc })
    .from(tenantExportKeys)
    .where(eq(tenantExportKeys.tenantId, env.tenantId));
  if (!row)
    throw new SealedExportError('this tenant has no export key: the export cannot have been sealed to it');
  const jwk = (await openJson(env, PURPOSE, new Uint8Array(row.privateJwkEnc))) as JWK;
  const key = (await importJWK(jwk, EXPORT_JWE.alg)) as CryptoKey;
  privateKeys.set(env.tenantId, key);
  return key;
}

/** Opens an export a collector sealed for `deviceId`; refuses another device's export, another algorithm, and
 * anything that inflates past the largest export an event may carry. */
export async function openSealedExport(env: Envelope, deviceId: string, jwe: string): Promise<string> {
  const key = await privateKey(env);
  let opened: Awaited<ReturnType<typeof compactDecrypt>>;
  try {
    opened = await compactDecrypt(jwe, key, {
      keyManagementAlgorithms: [EXPORT_JWE.alg],
      contentEncryptionAlgorithms: [EXPORT_JWE.enc],
    });
  } catch {
    throw new SealedExportError('the sealed export cannot be opened with this tenant’s export key');
  }
  const header = opened.protectedHeader as Record<string, unknown>;
  if (header[EXPORT_JWE.deviceHeader] !== deviceId || header.cty !== EXPORT_JWE.cty)
    throw new SealedExportError('the sealed export belongs to another device');
  let bytes: Uint8Array;
  try {
    // UTF-8 takes at most 4 bytes a character.
    bytes = await inflateRaw(opened.plaintext, CONFIG_EXPORT_MAX_CHARS * 4);
  } catch {
    throw new SealedExportError('the sealed export does not inflate');
  }
  const text = new TextDecoder().decode(bytes);
  if (text.length > CONFIG_EXPORT_MAX_CHARS) throw new SealedExportError('the sealed export is too large');
  return text;
}
