// The device registry against a real nats-server: full resync at start, live changes, only this collector's
// keys, and credentials only this collector can open.
import { type KV, Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CREDENTIALS_JWE, DEVICES_BUCKET, type DeviceRegistration } from '@tod/contracts';
import { CompactEncrypt, type CryptoKey, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshNats } from '../../tests/env';
import { DeviceRegistry, type RegisteredDevice } from '../src/registry/registry';
import { until } from './harness';

const TENANT = '7b1d3c52-1b1e-4c3f-9a55-0a0000000001';
const OTHER_TENANT = '7b1d3c52-1b1e-4c3f-9a55-0a0000000002';
const COLLECTOR = '7b1d3c52-1b1e-4c3f-9a55-0c0000000001';
const OTHER_COLLECTOR = '7b1d3c52-1b1e-4c3f-9a55-0c0000000002';
const dev = (n: number) => `7b1d3c52-1b1e-4c3f-9a55-0d${String(n).padStart(10, '0')}`;

let nc: NatsConnection;
let kv: KV;
let keys: { publicKey: CryptoKey; privateKey: CryptoKey };
let otherKeys: { publicKey: CryptoKey; privateKey: CryptoKey };

beforeAll(async () => {
  const nats = await freshNats();
  nc = await connect({ servers: nats.url });
  kv = await new Kvm(nc).create(DEVICES_BUCKET, { history: 1 });
  keys = await generateKeyPair(CREDENTIALS_JWE.alg, { crv: CREDENTIALS_JWE.crv });
  otherKeys = await generateKeyPair(CREDENTIALS_JWE.alg, { crv: CREDENTIALS_JWE.crv });
});
afterAll(() => nc?.close());

async function seal(creds: object, key: CryptoKey): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(creds)))
    .setProtectedHeader({ alg: CREDENTIALS_JWE.alg, enc: CREDENTIALS_JWE.enc })
    .encrypt(key);
}

async function put(
  tenant: string,
  collector: string,
  n: number,
  host: string,
  key = keys.publicKey,
): Promise<void> {
  const reg: DeviceRegistration = {
    v: 1,
    tenantId: tenant,
    collectorId: collector,
    deviceId: dev(n),
    name: `r${n}`,
    host,
    port: 8728,
    tlsPort: 8729,
    tlsMode: 'any',
    pollIntervalSeconds: 60,
    credentials: await seal({ username: 'admin', password: `pw-${n}` }, key),
    updatedAt: new Date().toISOString(),
  };
  await kv.put(`${tenant}.${collector}.${dev(n)}`, JSON.stringify(reg));
}

describe('device registry', () => {
  it('resyncs its own devices at start and follows changes and deletions', async () => {
    await put(TENANT, COLLECTOR, 1, '10.0.0.1');
    await put(TENANT, COLLECTOR, 2, '10.0.0.2');
    await put(TENANT, OTHER_COLLECTOR, 3, '10.0.0.3');
    await put(OTHER_TENANT, COLLECTOR, 4, '10.0.0.4');
    const devices = new Map<string, RegisteredDevice>();
    const registry = new DeviceRegistry({
      kv,
      tenantId: TENANT,
      collectorId: COLLECTOR,
      privateKey: keys.privateKey,
      onUpsert: (d) => devices.set(d.registration.deviceId, d),
      onRemove: (id) => devices.delete(id),
    });
    await registry.start();
    expect([...devices.keys()].sort()).toEqual([dev(1), dev(2)]);
    expect(devices.get(dev(2))?.credentials).toEqual({ username: 'admin', password: 'pw-2' });

    await put(TENANT, COLLECTOR, 5, '10.0.0.5');
    await put(TENANT, COLLECTOR, 1, '10.9.9.9');
    await kv.delete(`${TENANT}.${COLLECTOR}.${dev(2)}`);
    await until(
      () =>
        devices.has(dev(5)) && !devices.has(dev(2)) && devices.get(dev(1))?.registration.host === '10.9.9.9',
      Boolean,
      5000,
    );
    await registry.stop();
  });

  it('skips (and reports) entries it cannot trust, without stopping', async () => {
    const invalid: string[] = [];
    const devices = new Map<string, RegisteredDevice>();
    const registry = new DeviceRegistry({
      kv,
      tenantId: TENANT,
      collectorId: COLLECTOR,
      privateKey: keys.privateKey,
      onUpsert: (d) => devices.set(d.registration.deviceId, d),
      onRemove: (id) => devices.delete(id),
      onInvalid: (key) => invalid.push(key),
    });
    await registry.start();
    // Sealed to another collector's key: unreadable here.
    await put(TENANT, COLLECTOR, 6, '10.0.0.6', otherKeys.publicKey);
    // Not JSON at all.
    await kv.put(`${TENANT}.${COLLECTOR}.${dev(7)}`, 'garbage');
    // Valid, after the bad ones.
    await put(TENANT, COLLECTOR, 8, '10.0.0.8');
    await until(() => devices.has(dev(8)), Boolean, 5000);
    expect(invalid).toEqual([`${TENANT}.${COLLECTOR}.${dev(6)}`, `${TENANT}.${COLLECTOR}.${dev(7)}`]);
    expect(devices.has(dev(6))).toBe(false);
    await registry.stop();
  });
});
