// The Worker with KMS_BACKEND=transit: tenant data keys are wrapped by a (loopback) Transit engine, and
// device credentials still never leave the API.
import postgres from 'postgres';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../tests/env';
import { type EdgeHandle, startEdge, TEST_SECRETS } from '../../tests/env/edge';
import { bootstrap, login, newAccount, Session } from './client';
import { FakeTransit, TRANSIT_TOKEN } from './fake-transit';

const transit = new FakeTransit();
let edge: EdgeHandle;
let sql: postgres.Sql;
let root: Session;

beforeAll(async () => {
  const addr = await transit.listen();
  const db = await freshDatabase();
  sql = postgres(db.superUrl, { max: 1, onnotice: () => {} });
  edge = await startEdge({
    DATABASE_URL: db.appUrl,
    NATS_WS_URL: 'ws://127.0.0.1:1',
    FIRST_ADMIN_EMAIL: 'root@tod.test',
    FIRST_ADMIN_PASSWORD: 'bootstrap-password-123',
    KMS_BACKEND: 'transit',
    TRANSIT_ADDR: addr,
    TRANSIT_TOKEN,
    ...TEST_SECRETS,
  });
  const account = newAccount('root@tod.test');
  await new Session(edge).post('/api/auth/srp/init', { email: 'root@tod.test' });
  expect((await bootstrap(edge, account, 'bootstrap-password-123')).status).toBe(200);
  root = await login(edge, account);
  return async () => {
    await sql.end();
    await transit.close();
  };
});

describe('Transit KMS in the Worker', () => {
  it('wraps the tenant data key with the tenant Transit key and logs the use', async () => {
    const t = await root.post('/api/tenants', { name: 'Transit', slug: 'transit' });
    const { id: tenantId } = (await t.json()) as { id: string };
    const s = new Session(edge, { 'x-tenant-id': tenantId });
    s.cookies = root.cookies;
    const res = await s.post('/api/devices', {
      name: 'r1',
      host: '192.0.2.1',
      credentials: { username: 'admin', password: 'transit-secret-pw' },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await res.text()).not.toContain('transit-secret-pw');
    const [key] = await sql<{ kms: string; wrapped: string }[]>`
      SELECT kms, convert_from(wrapped_key, 'UTF8') AS wrapped FROM tenant_keys WHERE tenant_id = ${tenantId}`;
    expect(key!.kms).toBe('transit');
    expect(key!.wrapped).toMatch(/^vault:v1:/);
    expect(transit.calls).toContain(`encrypt:tod-tenant-${tenantId}`);
    const events = await sql`SELECT operation, kms FROM kms_events WHERE tenant_id = ${tenantId} ORDER BY id`;
    expect(events.map((e) => `${e.operation}:${e.kms}`)).toEqual(['generate:transit', 'wrap:transit']);
    // The audit details of that write decrypt through the same key.
    const audit = await s.get('/api/audit-logs?action=device.create');
    const body = (await audit.json()) as { items: { details: { name: string } }[] };
    expect(body.items[0]!.details.name).toBe('r1');

    // Rotating the tenant's Transit key, then rewrapping: same data key, newest key version.
    transit.rotate(`tod-tenant-${tenantId}`);
    const rewrap = await s.post('/api/kms-events/rewrap');
    expect(rewrap.status).toBe(200);
    expect(await rewrap.json()).toEqual({ rewrapped: 1 });
    const [after] = await sql<{ wrapped: string }[]>`
      SELECT convert_from(wrapped_key, 'UTF8') AS wrapped FROM tenant_keys WHERE tenant_id = ${tenantId}`;
    expect(after!.wrapped).toMatch(/^vault:v2:/);
    expect(transit.calls).toContain(`rewrap:tod-tenant-${tenantId}`);
    const [ev] =
      await sql`SELECT count(*)::int AS n FROM kms_events WHERE tenant_id = ${tenantId} AND operation = 'rewrap'`;
    expect(ev).toEqual({ n: 1 });
  });
});
