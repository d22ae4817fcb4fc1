// Configuration backup across the parts, without NATS in between: a simulated router, the collector's poll
// (config-changed marker) and export, the `config-snapshot` event, and the edge's storeSnapshot against a real
// database as the application role. The export travels sealed to the tenant's export key. A change on the device gives a new version with the right diff; an
// unchanged device gives none.
import { randomUUID } from 'node:crypto';
import { DeviceEvent, unifiedDiff } from '@tod/contracts';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importExportKey } from '../../collector/src/backup/seal';
import { takeConfigSnapshot } from '../../collector/src/backup/snapshot-event';
import { type PollMemory, pollDevice } from '../../collector/src/poll/poll-device';
import { RouterSession } from '../../collector/src/routeros/session';
import { type Fleet, startFleet } from '../../simulator/src/fleet';
import { freshDatabase } from '../../tests/env';
import { type DbHandle, openDb, withTenant } from '../src/db';
import {
  getSnapshot,
  type StoreSnapshotResult,
  snapshotText,
  storeSnapshotEvent,
} from '../src/services/config-backups';
import { exportPublicKey } from '../src/services/export-keys';
import { localKms } from '../src/services/kms';

const kms = localKms(Buffer.alloc(32, 3).toString('base64'));
let fleet: Fleet;
let sql: postgres.Sql;
let app: DbHandle;
let collectorSession: RouterSession;
let adminSession: RouterSession;
const ids = { tenantId: '', deviceId: '', collectorId: randomUUID() };
const clock = { now: () => Date.now() };

beforeAll(async () => {
  const db = await freshDatabase();
  sql = postgres(db.superUrl, { max: 1, onnotice: () => {} });
  app = openDb(db.appUrl);
  const [t] = await sql<{ id: string }[]>`INSERT INTO tenants (name, slug) VALUES ('T', 't') RETURNING id`;
  ids.tenantId = t!.id;
  const [d] = await sql<
    { id: string }[]
  >`INSERT INTO devices (tenant_id, name, host) VALUES (${ids.tenantId}, 'sim-0', '127.0.0.1') RETURNING id`;
  ids.deviceId = d!.id;
  fleet = await startFleet({
    devices: 1,
    boards: ['rb5009'],
    tls: false,
    users: [{ name: 'tod', password: 'tod-pass', group: 'read' }],
  });
  const m = fleet.manifest.devices[0]!;
  const target = { host: m.host, port: m.port, tlsPort: m.port, tlsMode: 'plain' as const };
  const opts = { connectTimeoutMs: 5000, commandTimeoutMs: 5000 };
  // The collector's account is read-only, as MSPs set it up for monitoring and backups; the operator changes
  // the device with its own account.
  collectorSession = await RouterSession.open({ ...target, username: 'tod', password: 'tod-pass' }, opts);
  adminSession = await RouterSession.open({ ...target, username: 'admin', password: 'admin' }, opts);
});
afterAll(async () => {
  collectorSession?.close();
  adminSession?.close();
  await fleet?.stop();
  await app?.close();
  await sql?.end();
});

async function backup(trigger: 'change' | 'nightly'): Promise<StoreSnapshotResult> {
  // The collector seals the export to the tenant's export key (given at enrolment).
  const exportKey = await withTenant(app.db, ids.tenantId, (tx) =>
    exportPublicKey({ tx, kms, tenantId: ids.tenantId }),
  );
  const { event } = await takeConfigSnapshot(
    collectorSession,
    ids,
    { trigger, showSensitive: false, delay: async () => {}, sealTo: await importExportKey(exportKey) },
    clock,
    randomUUID,
  );
  // What travels over NATS: JSON, parsed again at the edge. It holds no configuration in plain text.
  const wire = JSON.stringify(event);
  expect(wire).not.toContain('/system identity');
  expect(wire).not.toContain('/ip');
  const received = DeviceEvent.parse(JSON.parse(wire));
  if (received.kind !== 'config-snapshot') throw new Error(`unexpected kind ${received.kind}`);
  return withTenant(app.db, ids.tenantId, (tx) =>
    storeSnapshotEvent({ tx, kms, tenantId: ids.tenantId }, received),
  );
}

const rows = async () =>
  (
    await sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM config_snapshots WHERE device_id = ${ids.deviceId}`
  )[0]!.n;

describe('configuration backup of a simulated router', () => {
  let memory: PollMemory = {};
  let first: StoreSnapshotResult;

  it('stores the first nightly backup', async () => {
    memory = (await pollDevice(collectorSession, ids, memory, clock, randomUUID)).memory;
    first = await backup('nightly');
    expect(first.status).toBe('created');
    expect(first.snapshot.seq).toBe(1);
    expect(first.snapshot.sensitive).toBe(false);
  });

  it('adds nothing when the configuration did not change', async () => {
    const poll = await pollDevice(collectorSession, ids, memory, clock, randomUUID);
    memory = poll.memory;
    expect(poll.events.some((e) => e.kind === 'config-changed')).toBe(false);
    const again = await backup('nightly');
    expect(again.status).toBe('unchanged');
    expect(await rows()).toBe(1);
  });

  it('backs up a change signalled by the config-changed marker, with the right diff', async () => {
    await adminSession.run('/ip/firewall/address-list/add', { list: 'mgmt', address: '203.0.113.0/24' });
    const poll = await pollDevice(collectorSession, ids, memory, clock, randomUUID);
    memory = poll.memory;
    expect(poll.events.some((e) => e.kind === 'config-changed')).toBe(true);
    const changed = await backup('change');
    expect(changed.status).toBe('created');
    expect(changed.snapshot.seq).toBe(2);
    expect(changed.snapshot.trigger).toBe('change');
    const [a, b] = await withTenant(app.db, ids.tenantId, async (tx) => {
      const env = { tx, kms, tenantId: ids.tenantId };
      return Promise.all([
        snapshotText(env, await getSnapshot(env, ids.deviceId, first.snapshot.id)),
        snapshotText(env, await getSnapshot(env, ids.deviceId, changed.snapshot.id)),
      ]);
    });
    const changes = unifiedDiff(a, b)
      .split('\n')
      .filter((l) => /^[+-](?![+-]{2} )/.test(l));
    expect(changes).toEqual(['+add list=mgmt address=203.0.113.0/24']);
  });
});
