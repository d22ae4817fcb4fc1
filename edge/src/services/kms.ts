// Key management for envelope encryption: a KMS wraps and unwraps per-tenant data keys. `local` wraps with
// AES-256-GCM under the master key from CREDENTIAL_ENCRYPTION_KEY; the tenant id is bound as associated
// data, so a wrapped key copied to another tenant's row does not unwrap.
import { buf, concatBytes, randomBytes, utf8 } from '@tod/contracts/srp';

export interface Kms {
  readonly name: 'local' | 'transit';
  wrap(tenantId: string, dataKey: Uint8Array): Promise<Uint8Array>;
  unwrap(tenantId: string, wrapped: Uint8Array): Promise<Uint8Array>;
  /** Re-encrypts a wrapped key under the KMS's current key version (the data key stays the same). */
  rewrap(tenantId: string, wrapped: Uint8Array): Promise<Uint8Array>;
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
  const kms: Kms = {
    name: 'local',
    // One master key: a rewrap is a fresh IV under the same key.
    async rewrap(tenantId, wrapped) {
      return kms.wrap(tenantId, await kms.unwrap(tenantId, wrapped));
    },
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
  return kms;
}

export interface TransitOptions {
  /** e.g. https://openbao.internal:8200 */
  addr: string;
  token: string;
  /** mount path of the Transit engine, default `transit` */
  mount?: string;
  /** per-tenant key name prefix, default `tod-tenant-` */
  keyPrefix?: string;
  namespace?: string;
  fetch?: typeof fetch;
}

export type TransitKms = Kms;

function b64encode(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** OpenBao / Vault Transit: one Transit key per tenant; the data key travels to Transit only to be wrapped
 * or unwrapped. The wrapped form is Transit's `vault:vN:…` ciphertext string. */
export function transitKms(opts: TransitOptions): TransitKms {
  const mount = (opts.mount ?? 'transit').replace(/^\/+|\/+$/g, '');
  const prefix = opts.keyPrefix ?? 'tod-tenant-';
  const doFetch = opts.fetch ?? fetch;
  const base = opts.addr.replace(/\/+$/, '');

  async function call(op: 'encrypt' | 'decrypt' | 'rewrap', tenantId: string, body: Record<string, string>) {
    if (!/^[0-9a-f-]{36}$/i.test(tenantId)) throw new KmsError('invalid tenant id');
    const headers: Record<string, string> = {
      'X-Vault-Token': opts.token,
      'Content-Type': 'application/json',
    };
    if (opts.namespace) headers['X-Vault-Namespace'] = opts.namespace;
    let res: Response;
    try {
      res = await doFetch(`${base}/v1/${mount}/${op}/${prefix}${tenantId}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
    } catch {
      throw new KmsError(`transit ${op}: KMS unreachable`);
    }
    // Never echo the response body: it can carry key material on misconfigured proxies.
    if (!res.ok) {
      await res.body?.cancel();
      throw new KmsError(`transit ${op} failed with HTTP ${res.status}`);
    }
    const json = (await res.json()) as { data?: { ciphertext?: unknown; plaintext?: unknown } };
    return json.data ?? {};
  }

  const ciphertextOf = (wrapped: Uint8Array) => {
    const text = new TextDecoder().decode(wrapped);
    if (!/^vault:v\d+:[A-Za-z0-9+/=]+$/.test(text)) throw new KmsError('not a Transit ciphertext');
    return text;
  };

  return {
    name: 'transit',
    async wrap(tenantId, dataKey) {
      const data = await call('encrypt', tenantId, { plaintext: b64encode(dataKey) });
      if (typeof data.ciphertext !== 'string') throw new KmsError('transit encrypt: no ciphertext');
      return utf8(data.ciphertext);
    },
    async unwrap(tenantId, wrapped) {
      const data = await call('decrypt', tenantId, { ciphertext: ciphertextOf(wrapped) });
      if (typeof data.plaintext !== 'string') throw new KmsError('transit decrypt: no plaintext');
      return b64decode(data.plaintext);
    },
    async rewrap(tenantId, wrapped) {
      const data = await call('rewrap', tenantId, { ciphertext: ciphertextOf(wrapped) });
      if (typeof data.ciphertext !== 'string') throw new KmsError('transit rewrap: no ciphertext');
      return utf8(data.ciphertext);
    },
  };
}
