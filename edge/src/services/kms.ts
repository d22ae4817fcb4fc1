// Key management for envelope encryption: a KMS wraps and unwraps per-tenant data keys. `local` wraps with
// AES-256-GCM under the master key from CREDENTIAL_ENCRYPTION_KEY; the tenant id is bound as associated
// data, so a wrapped key copied to another tenant's row does not unwrap.
import { buf, concatBytes, randomBytes, utf8 } from '@tod/contracts/srp';

export interface Kms {
  readonly name: 'local' | 'transit';
  wrap(tenantId: string, dataKey: Uint8Array): Promise<Uint8Array>;
  unwrap(tenantId: string, wrapped: Uint8Array): Promise<Uint8Array>;
}

export class KmsError extends Error {
  readonly code = 'kms_failed';
}

function b64decode(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
}

export function localKms(masterKeyB64: string): Kms {
  const keyPromise = crypto.subtle.importKey('raw', buf(b64decode(masterKeyB64)), 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ]);
  const aad = (tenantId: string) => buf(utf8(`tod-dek:${tenantId}`));
  return {
    name: 'local',
    async wrap(tenantId, dataKey) {
      const iv = randomBytes(12);
      const ct = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv: buf(iv), additionalData: aad(tenantId) },
        await keyPromise,
        buf(dataKey),
      );
      return concatBytes(iv, new Uint8Array(ct));
    },
    async unwrap(tenantId, wrapped) {
      try {
        const pt = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: buf(wrapped.slice(0, 12)), additionalData: aad(tenantId) },
          await keyPromise,
          buf(wrapped.slice(12)),
        );
        return new Uint8Array(pt);
      } catch {
        throw new KmsError('data key does not unwrap under this master key');
      }
    },
  };
}
