// The edge and the collector together: the collector enrols through the real edge endpoint with its own
// enrol code, a device added in the portal API reaches the collector's registry over NATS KV with credentials
// only its private key opens, and a deleted device leaves it. NATS runs with JWT auth: the collector connects
// with the credentials the edge issued it at enrolment.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import { createUser, fromSeed } from '@nats-io/nkeys';
import { connect } from '@nats-io/transport-node';
import { CREDENTIALS_JWE, DEVICES_BUCKET, natsRenewalChallenge } from '@tod/contracts';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enroll } from '../collector/src/enroll';
import { jwtTimes, NatsCredentials } from '../collector/src/nats-credentials';
import { DeviceRegistry, type RegisteredDevice } from '../collector/src/registry/registry';
import { loadState } from '../collector/src/state';
import { mintCollectorJwt } from '../edge/src/services/nats-auth';
import { freshIp } from '../edge/tests/client';
import { createWorld, type World } from '../edge/tests/fixtures';
import { natsOperator } from '../scripts/services/nats-auth';

let w: World;
/** Each call from its own client address, so the auth rate limit (60/min per address) never bites here. */
const fromFreshIp: typeof fetch = (input, init) => {
  const headers = new Headers(init?.headers);
  headers.set('cf-connecting-ip', freshIp());
  return fetch(input, { ...init, headers });
};
let stateDir = '';

beforeAll(async () => {
  w = await createWorld({ nats: 'auth' });
  stateDir = await mkdtemp(join(tmpdir(), 'tod-collector-state-'));
});
afterAll(async () => {
  await w?.sql.end();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('edge → collector device registry', () => {
  it('delivers a device with credentials only the enrolled collector can open', async () => {
    const created = await w.a.admin.post('/api/collectors', { name: 'vienna' });
    const { id: collectorId, enrollToken } = (await created.json()) as { id: string; enrollToken: string };
    const state = await enroll({ edgeUrl: w.edge.url, token: enrollToken, stateDir, version: 'test' });
    expect(state).toMatchObject({ tenantId: w.tenantA, collectorId, natsUrl: w.natsUrl });
    expect(state.nats?.jwt).toBeTruthy();
    await expect(connect({ servers: state.natsUrl, reconnect: false })).rejects.toThrow(/authorization/i);

    const nc = await connect({
      servers: state.natsUrl,
      ...new NatsCredentials(state, { stateDir }).connectOptions(),
    });
    try {
      const kv = await new Kvm(nc).create(DEVICES_BUCKET, { history: 1 });
      const privateKey = await importJWK(state.privateKeyJwk, CREDENTIALS_JWE.alg);
      const upserts: RegisteredDevice[] = [];
      let upserted: (d: RegisteredDevice) => void = () => {};
      let removed: (id: string) => void = () => {};
      const registry = new DeviceRegistry({
        kv,
        tenantId: state.tenantId,
        collectorId: state.collectorId,
        privateKey: privateKey as CryptoKey,
        onUpsert: (d) => {
          upserts.push(d);
          upserted(d);
        },
        onRemove: (id) => removed(id),
        onInvalid: (key, reason) => {
          throw new Error(`invalid registry entry ${key}: ${reason}`);
        },
      });
      await registry.start();

      const arrived = new Promise<RegisteredDevice>((resolve) => {
        upserted = resolve;
      });
      const res = await w.a.operator.post('/api/devices', {
        name: 'core-1',
        host: '192.0.2.10',
        port: 8729,
        tlsMode: 'self_signed',
        collectorId,
        credentials: { username: 'tod', password: 'from-the-portal' },
      });
      expect(res.status).toBe(201);
      const { id: deviceId } = (await res.json()) as { id: string };
      const device = await arrived;
      expect(device.registration).toMatchObject({
        deviceId,
        host: '192.0.2.10',
        tlsPort: 8729,
        tlsMode: 'self_signed',
      });
      expect(device.credentials).toEqual({ username: 'tod', password: 'from-the-portal' });

      const gone = new Promise<string>((resolve) => {
        removed = resolve;
      });
      expect((await w.a.operator.delete(`/api/devices/${deviceId}`)).status).toBe(204);
      expect(await gone).toBe(deviceId);
      await registry.stop();
    } finally {
      await nc.close();
    }
  });

  it('refuses an enrolment without a NATS key when NATS requires credentials, without spending the token', async () => {
    const created = await w.a.admin.post('/api/collectors', { name: 'graz' });
    const { enrollToken } = (await created.json()) as { enrollToken: string };
    const { publicKey } = await generateKeyPair(CREDENTIALS_JWE.alg, {
      crv: CREDENTIALS_JWE.crv,
      extractable: true,
    });
    const jwk = await exportJWK(publicKey);
    const res = await w.edge.fetch('/api/collectors/enroll', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        token: enrollToken,
        publicKey: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { message: expect.stringMatching(/natsPublicKey/) } });
    const dir = await mkdtemp(join(tmpdir(), 'tod-collector-state-'));
    try {
      const state = await enroll({ edgeUrl: w.edge.url, token: enrollToken, stateDir: dir, version: 'test' });
      expect(state.nats?.jwt).toBeTruthy();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('renews the NATS JWT for the nkey holder and refuses forged, stale and revoked renewals', async () => {
    const created = await w.a.admin.post('/api/collectors', { name: 'linz' });
    const { id: collectorId, enrollToken } = (await created.json()) as { id: string; enrollToken: string };
    const dir = await mkdtemp(join(tmpdir(), 'tod-collector-state-'));
    try {
      const state = await enroll({
        edgeUrl: w.edge.url,
        token: enrollToken,
        stateDir: dir,
        version: 'test',
        fetchImpl: fromFreshIp,
      });
      const first = jwtTimes(state.nats!.jwt);
      expect(first.exp! - first.iat).toBe(86_400);
      // The tenant's export key comes with the enrolment; a collector enrolled before export keys existed
      // learns it at its next renewal.
      const exportKey = state.exportKeyJwk;
      expect(exportKey).toMatchObject({ kty: 'EC', crv: 'P-256' });
      const { exportKeyJwk: _, ...olderState } = state;

      const renewed: (Date | null)[] = [];
      const learned: unknown[] = [];
      const creds = new NatsCredentials(olderState, {
        stateDir: dir,
        fetchImpl: fromFreshIp,
        onRenewed: (d) => renewed.push(d),
        onExportKey: (jwk) => learned.push(jwk),
      });
      await creds.renew();
      expect(renewed).toHaveLength(1);
      expect(learned).toEqual([exportKey]);
      expect((await loadState(dir)).exportKeyJwk).toEqual(exportKey);
      await creds.renew();
      expect(learned).toHaveLength(1);
      expect(jwtTimes(creds.jwt).exp).toBeGreaterThanOrEqual(first.exp!);
      expect((await loadState(dir)).nats?.jwt).toBe(creds.jwt);
      const nc = await connect({ servers: state.natsUrl, ...creds.connectOptions() });
      await nc.close();

      const renew = (body: unknown) =>
        w.edge.fetch('/api/collectors/nats-credentials', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'cf-connecting-ip': freshIp() },
          body: JSON.stringify(body),
        });
      const key = fromSeed(new TextEncoder().encode(state.nats!.seed));
      const sign = (signedAt: string, k = key) =>
        Buffer.from(
          k.sign(new TextEncoder().encode(natsRenewalChallenge(key.getPublicKey(), signedAt))),
        ).toString('base64url');
      const now = new Date().toISOString();
      expect((await renew({ jwt: creds.jwt, signedAt: now, signature: sign(now) })).status).toBe(200);
      // Signed with another key, signed long ago, or a JWT from another issuer.
      expect(
        (await renew({ jwt: creds.jwt, signedAt: now, signature: sign(now, createUser()) })).status,
      ).toBe(401);
      const old = new Date(Date.now() - 3_600_000).toISOString();
      expect((await renew({ jwt: creds.jwt, signedAt: old, signature: sign(old) })).status).toBe(401);
      const foreign = await mintCollectorJwt((await natsOperator()).signer, {
        tenantId: w.tenantA,
        collectorId,
        userPublicKey: key.getPublicKey(),
      });
      expect((await renew({ jwt: foreign, signedAt: now, signature: sign(now) })).status).toBe(401);

      expect((await w.a.admin.post(`/api/collectors/${collectorId}/revoke`)).status).toBe(200);
      const later = new Date().toISOString();
      const refused = await renew({ jwt: creds.jwt, signedAt: later, signature: sign(later) });
      expect(refused.status).toBe(401);
      await expect(creds.renew()).rejects.toThrow(/refused/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
