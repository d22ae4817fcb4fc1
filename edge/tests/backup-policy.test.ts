// The tenant's backup policy: only its admins read and change it, a change is audited and stays in its tenant,
// and every registry entry of the tenant's devices carries it (re-mirrored on change), which is what makes the
// collector export with or without secrets.
import { type KvEntry, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { DEVICES_BUCKET, DeviceRegistration } from '@tod/contracts';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, Session } from './client';
import { createWorld, type World } from './fixtures';

let w: World;
let nc: NatsConnection;
const seen: KvEntry[] = [];

beforeAll(async () => {
  w = await createWorld({ nats: true });
  nc = await connect({ servers: w.natsUrl! });
  const kv = await new Kvm(nc).create(DEVICES_BUCKET, { history: 1 });
  const watch = await kv.watch({ key: '>' });
  void (async () => {
    for await (const e of watch) seen.push(e);
  })();
  return () => w.sql.end();
});
afterAll(async () => {
  await nc?.close();
});

async function until<T>(get: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const PATH = '/api/settings/backup-policy';

describe('/api/settings/backup-policy', () => {
  it('lets admins (and super admins in the tenant) read and change it, nobody below', async () => {
    const cases: [string, Session, number][] = [
      ['anonymous', new Session(w.edge), 401],
      ['viewer', w.a.viewer, 403],
      ['operator', w.a.operator, 403],
      ['operator key', w.a.keyOperator, 403],
      ['viewer key', w.a.keyViewer, 403],
      ['admin', w.a.admin, 200],
      ['super admin', w.rootIn(w.tenantA), 200],
    ];
    for (const [who, s, status] of cases) {
      expect((await s.get(PATH)).status, `${who} GET`).toBe(status);
      const put = await s.put(PATH, { showSensitive: false });
      expect(put.status, `${who} PUT`).toBe(status);
      if (status !== 200) expect(await errorCode(put)).toBe(status === 401 ? 'unauthenticated' : 'forbidden');
    }
  });

  it('defaults to no secrets in exports', async () => {
    const res = await w.b.admin.get(PATH);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ showSensitive: false, nightlyWindow: null });
  });

  it('rejects a bad body with a message', async () => {
    for (const body of [
      {},
      { showSensitive: 'yes' },
      { showSensitive: true, extra: 1 },
      { nightlyWindow: '25:00-03:00' },
      { nightlyWindow: '02:00-02:00' },
    ]) {
      const res = await w.a.admin.put(PATH, body);
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe('invalid_request');
    }
  });

  it('changes only the caller’s tenant, with an audit entry', async () => {
    const res = await w.a.admin.put(PATH, { showSensitive: true });
    expect(await res.json()).toEqual({ showSensitive: true, nightlyWindow: null });
    // A field left out keeps its value.
    const win = await w.a.admin.put(PATH, { nightlyWindow: '23:00-01:30' });
    expect(await win.json()).toEqual({ showSensitive: true, nightlyWindow: '23:00-01:30' });
    expect(await (await w.a.admin.get(PATH)).json()).toEqual({
      showSensitive: true,
      nightlyWindow: '23:00-01:30',
    });
    expect(await (await w.b.admin.get(PATH)).json()).toEqual({ showSensitive: false, nightlyWindow: null });
    // B's admin cannot reach A's setting with A's tenant header: the header is for super admins only.
    const probe = await w.b.admin.fetch(PATH, {
      method: 'PUT',
      json: { showSensitive: false },
      headers: { 'x-tenant-id': w.tenantA },
    });
    expect(probe.status).not.toBe(500);
    expect(await (await w.a.admin.get(PATH)).json()).toMatchObject({ showSensitive: true });
    const rows = await w.sql<{ tenant_id: string }[]>`
      SELECT tenant_id FROM audit_log WHERE action = 'backup_policy.update' AND tenant_id = ${w.tenantA}`;
    expect(rows.length).toBeGreaterThan(0);
    await w.a.admin.put(PATH, { showSensitive: false, nightlyWindow: null });
  });

  it('writes the policy into each device’s registry entry and re-mirrors the devices on change', async () => {
    const { publicKey } = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true });
    const jwk = await exportJWK(publicKey);
    const col = (await (await w.a.admin.post('/api/collectors', { name: 'policy-site' })).json()) as {
      id: string;
      enrollToken: string;
    };
    const enrol = await new Session(w.edge).post('/api/collectors/enroll', {
      token: col.enrollToken,
      publicKey: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
      version: '0.1.0',
    });
    expect(enrol.status).toBe(200);
    const dev = (await (
      await w.a.operator.post('/api/devices', {
        name: 'policy-r1',
        host: '192.0.2.41',
        collectorId: col.id,
        credentials: { username: 'admin', password: 'x' },
      })
    ).json()) as { id: string };
    const key = `${w.tenantA}.${col.id}.${dev.id}`;
    const entry = (from: number, showSensitive: boolean) =>
      until(
        () =>
          seen
            .slice(from)
            .map((e) => (e.key === key && e.operation === 'PUT' ? DeviceRegistration.parse(e.json()) : null))
            .find((r) => r?.backup?.showSensitive === showSensitive) ?? undefined,
        `registry entry with showSensitive=${showSensitive}`,
      );
    expect((await entry(0, false)).backup).toEqual({ showSensitive: false });

    const mark = seen.length;
    expect((await w.a.admin.put(PATH, { showSensitive: true, nightlyWindow: '21:00-22:00' })).status).toBe(
      200,
    );
    const updated = await entry(mark, true);
    expect(updated.deviceId).toBe(dev.id);
    expect(updated.backup).toEqual({ showSensitive: true, window: '21:00-22:00' });
  });
});
