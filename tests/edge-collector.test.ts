// The edge and the collector together: the collector enrols through the real edge endpoint with its own
// enrol code, a device added in the portal API reaches the collector's registry over NATS KV with credentials
// only its private key opens, and a deleted device leaves it. NATS runs with JWT auth: the collector connects
// with the credentials the edge issued it at enrolment.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { CREDENTIALS_JWE, DEVICES_BUCKET } from '@tod/contracts';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enroll } from '../collector/src/enroll';
import { DeviceRegistry, type RegisteredDevice } from '../collector/src/registry/registry';
import { collectorNatsOptions } from '../collector/src/state';
import { createWorld, type World } from '../edge/tests/fixtures';

let w: World;
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

    const nc = await connect({ servers: state.natsUrl, ...collectorNatsOptions(state) });
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
});
