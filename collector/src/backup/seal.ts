// Seals a configuration export to the tenant's export key before it leaves the export step: the outbox on disk
// and the event stream then hold only ciphertext, and only the edge (holding the tenant's private key) opens it.
import { deflateRaw, EXPORT_JWE } from '@tod/contracts';
import { CompactEncrypt, type CryptoKey, importJWK, type KeyObject } from 'jose';

export type ExportKey = CryptoKey | KeyObject;

export async function importExportKey(jwk: Record<string, unknown>): Promise<ExportKey> {
  return (await importJWK(jwk, EXPORT_JWE.alg)) as ExportKey;
}

/** Compact JWE (EXPORT_JWE) of the raw-deflated text, bound to `deviceId` in its protected header. */
export async function sealExport(text: string, deviceId: string, key: ExportKey): Promise<string> {
  const deflated = await deflateRaw(new TextEncoder().encode(text));
  return new CompactEncrypt(deflated)
    .setProtectedHeader({
      alg: EXPORT_JWE.alg,
      enc: EXPORT_JWE.enc,
      cty: EXPORT_JWE.cty,
      [EXPORT_JWE.deviceHeader]: deviceId,
    })
    .encrypt(key);
}
