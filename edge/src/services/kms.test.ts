// The KMS clients in Node: local wrapping, and the Transit client against a loopback HTTP server that
// implements Transit's encrypt/decrypt/rewrap endpoints (versioned keys, `vault:vN:` ciphertexts).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTransit, TRANSIT_TOKEN as TOKEN } from '../../tests/fake-transit';
import { KmsError, localKms, transitKms } from './kms';

const TENANT = '00000000-0000-4000-8000-00000000000a';
const OTHER = '00000000-0000-4000-8000-00000000000b';

const fake = new FakeTransit();
let addr = '';
beforeAll(async () => {
  addr = await fake.listen();
});
afterAll(() => fake.close());

const dataKey = () => new Uint8Array(randomBytes(32));

describe('local KMS', () => {
  const kms = localKms(Buffer.alloc(32, 7).toString('base64'));

  it('wraps and unwraps a data key', async () => {
    const dk = dataKey();
    const wrapped = await kms.wrap(TENANT, dk);
    expect(wrapped).toHaveLength(12 + 32 + 16);
    expect(await kms.unwrap(TENANT, wrapped)).toEqual(dk);
  });

  it('binds the wrapped key to its tenant', async () => {
    const wrapped = await kms.wrap(TENANT, dataKey());
    await expect(kms.unwrap(OTHER, wrapped)).rejects.toBeInstanceOf(KmsError);
  });

  it('refuses a key wrapped under another master key', async () => {
    const wrapped = await kms.wrap(TENANT, dataKey());
    const other = localKms(Buffer.alloc(32, 9).toString('base64'));
    await expect(other.unwrap(TENANT, wrapped)).rejects.toBeInstanceOf(KmsError);
  });
});

describe('Transit KMS', () => {
  it('wraps with the tenant key and unwraps again', async () => {
    const kms = transitKms({ addr, token: TOKEN });
    const dk = dataKey();
    const wrapped = await kms.wrap(TENANT, dk);
    expect(new TextDecoder().decode(wrapped)).toMatch(/^vault:v1:/);
    expect(await kms.unwrap(TENANT, wrapped)).toEqual(dk);
    expect(fake.calls).toContain(`encrypt:tod-tenant-${TENANT}`);
    expect(fake.calls).toContain(`decrypt:tod-tenant-${TENANT}`);
  });

  it('keeps tenants apart: another tenant key cannot unwrap', async () => {
    const kms = transitKms({ addr, token: TOKEN });
    const wrapped = await kms.wrap(TENANT, dataKey());
    await kms.wrap(OTHER, dataKey());
    await expect(kms.unwrap(OTHER, wrapped)).rejects.toThrow(/HTTP 400/);
  });

  it('rewraps under the newest key version after a rotation', async () => {
    const kms = transitKms({ addr, token: TOKEN });
    const dk = dataKey();
    const wrapped = await kms.wrap(TENANT, dk);
    fake.rotate(`tod-tenant-${TENANT}`);
    const rewrapped = await kms.rewrap(TENANT, wrapped);
    expect(new TextDecoder().decode(rewrapped)).toMatch(/^vault:v2:/);
    expect(await kms.unwrap(TENANT, rewrapped)).toEqual(dk);
  });

  it('fails with a KmsError, without echoing the server, on a bad token or an unreachable server', async () => {
    const bad = transitKms({ addr, token: 'wrong' });
    await expect(bad.wrap(TENANT, dataKey())).rejects.toThrow(/HTTP 403/);
    const down = transitKms({ addr: 'http://127.0.0.1:1', token: TOKEN });
    await expect(down.wrap(TENANT, dataKey())).rejects.toBeInstanceOf(KmsError);
    await expect(
      transitKms({ addr, token: TOKEN }).unwrap(TENANT, new TextEncoder().encode('garbage')),
    ).rejects.toThrow(/not a Transit ciphertext/);
  });
});
