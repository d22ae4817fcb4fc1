// Device writes mirror into NATS KV `tod-devices` for the collector, credentials sealed (JWE) to the
// collector's public key registered at enrolment. Watched from outside with a real NATS client.

import { type KV, type KvEntry, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { DEVICES_BUCKET, DeviceRegistration, EnrollResponse } from '@tod/contracts';
import { type CryptoKey, compactDecrypt, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, Session } from './client';
import { createWorld, type World } from './fixtures';

let w: World;
let nc: NatsConnection;
let kv: KV;
const seen: KvEntry[] = [];
const waiters: { match: (e: KvEntry) => boolean; resolve: (e: KvEntry) => void }[] = [];

/** The next KV change (from now on, or already seen after `from`) that matches. */
function change(match: (e: KvEntry) => boolean, from = 0): Promise<KvEntry> {
  const hit = seen.slice(from).find(match);
  if (hit) return Promise.resolve(hit);
  return new Promise((resolve) => waiters.push({ match, resolve }));
}

beforeAll(async () => {
  w = await createWorld({ nats: true });
  nc = await connect({ servers: w.natsUrl! });
  kv = await new Kvm(nc).create(DEVICES_BUCKET, { history: 1 });
  const watch = await kv.watch({ key: '>' });
  (async () => {
    for await (const e of watch) {
      seen.push(e);
      for (const wt of [...waiters]) {
        if (wt.match(e)) {
          waiters.splice(waiters.indexOf(wt), 1);
          wt.resolve(e);
        }
      }
    }
  })();
  return () => w.sql.end();
});
afterAll(async () => {
  await nc?.close();
});

const isPut = (key: string) => (e: KvEntry) => e.key === key && e.operation === 'PUT';
const isDel = (key: string) => (e: KvEntry) => e.key === key && e.operation !== 'PUT';

describe('device registry in NATS KV', () => {
  it('mirrors a collector’s devices with credentials sealed to its key, and keeps them in line', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ECDH-ES+A256KW', {
      crv: 'P-256',
      extractable: true,
    });
    const jwk = await exportJWK(publicKey);
    const created = await w.a.admin.post('/api/collectors', { name: 'site-1' });
    const col = (await created.json()) as { id: string; enrollToken: string };

    // Added before the collector enrolled: nothing to seal to yet.
    const d1res = await w.a.operator.post('/api/devices', {
      name: 'r1',
      host: '192.0.2.1',
      collectorId: col.id,
      credentials: { username: 'admin', password: 'kv-sealed-secret' },
    });
    const d1 = (await d1res.json()) as { id: string };
    const key1 = `${w.tenantA}.${col.id}.${d1.id}`;

    const enrol = await new Session(w.edge).post('/api/collectors/enroll', {
      token: col.enrollToken,
      publicKey: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
      version: '0.1.0',
    });
    expect(enrol.status, await enrol.clone().text()).toBe(200);
    expect(EnrollResponse.parse(await enrol.json())).toEqual({
      tenantId: w.tenantA,
      collectorId: col.id,
      natsUrl: w.natsUrl,
      // The tenant's export key, which the collector seals configuration exports to.
      exportKey: { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String) },
    });
    const entry = DeviceRegistration.parse((await change(isPut(key1))).json());
    expect(entry).toMatchObject({
      v: 1,
      deviceId: d1.id,
      collectorId: col.id,
      host: '192.0.2.1',
      port: 8728,
      tlsPort: 8729,
      tlsMode: 'any',
    });
    expect(entry.credentials).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+$/);
    const { plaintext } = await compactDecrypt(entry.credentials!, privateKey);
    expect(JSON.parse(new TextDecoder().decode(plaintext))).toEqual({
      username: 'admin',
      password: 'kv-sealed-secret',
    });

    // The token was consumed.
    const again = await new Session(w.edge).post('/api/collectors/enroll', {
      token: col.enrollToken,
      publicKey: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
    });
    expect(again.status).toBe(401);
    expect(await errorCode(again)).toBe('invalid_token');

    // Updates follow; moving the device off the collector removes its key.
    let mark = seen.length;
    await w.a.operator.patch(`/api/devices/${d1.id}`, { name: 'r1-renamed' });
    const renamed = await change(
      (e) => isPut(key1)(e) && e.json<{ name: string }>().name === 'r1-renamed',
      mark,
    );
    expect(renamed.json<{ name: string }>().name).toBe('r1-renamed');
    mark = seen.length;
    await w.a.operator.patch(`/api/devices/${d1.id}`, { collectorId: null });
    await change(isDel(key1), mark);

    // A new device appears (API-SSL only: its port is the TLS port); without credentials it cannot be polled
    // and leaves the registry; deleting it removes it.
    const d2 = (await (
      await w.a.operator.post('/api/devices', {
        name: 'r2',
        host: '192.0.2.2',
        port: 8730,
        tlsMode: 'strict',
        collectorId: col.id,
        credentials: { username: 'u2', password: 'p2' },
      })
    ).json()) as { id: string };
    const key2 = `${w.tenantA}.${col.id}.${d2.id}`;
    expect(DeviceRegistration.parse((await change(isPut(key2))).json())).toMatchObject({
      port: 8728,
      tlsPort: 8730,
    });
    mark = seen.length;
    await w.a.operator.patch(`/api/devices/${d2.id}`, { credentials: null });
    await change(isDel(key2), mark);
    await w.a.operator.patch(`/api/devices/${d2.id}`, { credentials: { username: 'u2', password: 'p3' } });
    await change(isPut(key2), mark);
    mark = seen.length;
    expect((await w.a.operator.delete(`/api/devices/${d2.id}`)).status).toBe(204);
    await change(isDel(key2), mark);

    // Revoking the collector removes all of its devices from the registry.
    const d3 = (await (
      await w.a.operator.post('/api/devices', {
        name: 'r3',
        host: '192.0.2.3',
        collectorId: col.id,
        credentials: { username: 'u3', password: 'p3' },
      })
    ).json()) as { id: string };
    const key3 = `${w.tenantA}.${col.id}.${d3.id}`;
    await change(isPut(key3));
    mark = seen.length;
    expect((await w.a.admin.post(`/api/collectors/${col.id}/revoke`)).status).toBe(200);
    await change(isDel(key3), mark);
  });

  it('gives a device to every collector of its site (an HA group) and re-plans as collectors join and leave', async () => {
    const enrolled = async (name: string) => {
      const pair = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true });
      const jwk = await exportJWK(pair.publicKey);
      const col = (await (await w.a.admin.post('/api/collectors', { name, site: 'ha-site' })).json()) as {
        id: string;
        enrollToken: string;
      };
      const enrol = await new Session(w.edge).post('/api/collectors/enroll', {
        token: col.enrollToken,
        publicKey: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
      });
      expect(enrol.status).toBe(200);
      return { id: col.id, privateKey: pair.privateKey };
    };
    const opened = async (e: KvEntry, privateKey: CryptoKey) => {
      const { plaintext } = await compactDecrypt(DeviceRegistration.parse(e.json()).credentials, privateKey);
      return JSON.parse(new TextDecoder().decode(plaintext)) as unknown;
    };
    const a = await enrolled('ha-a');
    const d = (await (
      await w.a.operator.post('/api/devices', {
        name: 'ha-r1',
        host: '192.0.2.10',
        collectorId: a.id,
        credentials: { username: 'ha', password: 'ha-secret' },
      })
    ).json()) as { id: string };
    const keyA = `${w.tenantA}.${a.id}.${d.id}`;
    expect(DeviceRegistration.parse((await change(isPut(keyA))).json()).siteCollectors).toEqual([a.id]);

    // A second collector of the site enrols: it receives the device sealed to its own key, and both entries
    // list the pair, so each polls it only under the device's lease.
    let mark = seen.length;
    const b = await enrolled('ha-b');
    const keyB = `${w.tenantA}.${b.id}.${d.id}`;
    const pair = [a.id, b.id].sort();
    const entryB = await change(isPut(keyB), mark);
    expect(DeviceRegistration.parse(entryB.json())).toMatchObject({
      collectorId: b.id,
      siteCollectors: pair,
    });
    expect(await opened(entryB, b.privateKey)).toEqual({ username: 'ha', password: 'ha-secret' });
    await expect(opened(entryB, a.privateKey)).rejects.toThrow();
    const entryA = await change(
      (e) => isPut(keyA)(e) && DeviceRegistration.parse(e.json()).siteCollectors?.length === 2,
      mark,
    );
    expect(await opened(entryA, a.privateKey)).toEqual({ username: 'ha', password: 'ha-secret' });

    // The device's own collector is revoked: its entry goes, the peer keeps the device alone.
    mark = seen.length;
    expect((await w.a.admin.post(`/api/collectors/${a.id}/revoke`)).status).toBe(200);
    await change(isDel(keyA), mark);
    await change(
      (e) => isPut(keyB)(e) && DeviceRegistration.parse(e.json()).siteCollectors?.length === 1,
      mark,
    );

    // Deleting the device removes it from every collector of the site.
    mark = seen.length;
    expect((await w.a.operator.delete(`/api/devices/${d.id}`)).status).toBe(204);
    await change(isDel(keyB), mark);
  });

  it('refuses private keys and malformed public keys at enrolment', async () => {
    const created = await w.a.admin.post('/api/collectors', { name: 'site-2' });
    const col = (await created.json()) as { enrollToken: string };
    const { privateKey } = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true });
    const priv = await exportJWK(privateKey);
    for (const publicKey of [
      priv,
      { kty: 'RSA', n: 'x', e: 'AQAB' },
      { kty: 'EC', crv: 'P-256', x: 'short', y: 'y' },
    ]) {
      const res = await new Session(w.edge).post('/api/collectors/enroll', {
        token: col.enrollToken,
        publicKey,
      });
      expect(res.status).toBe(400);
    }
  });
});
