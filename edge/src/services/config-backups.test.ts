// storeSnapshot and friends in Node against a real database as the application role (RLS applies).
import { DeviceEvent } from '@tod/contracts';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importExportKey, sealExport } from '../../../collector/src/backup/seal';
import { freshDatabase } from '../../../tests/env';
import { type DbHandle, openDb, withTenant } from '../db';
import {
  type ConfigBackupError,
  getSnapshot,
  listSnapshots,
  type StoreSnapshotInput,
  snapshotText,
  storeSnapshot,
  storeSnapshotEvent,
} from './config-backups';
import type { Envelope } from './envelope';
import { exportPublicKey } from './export-keys';
import { localKms } from './kms';

const kms = localKms(Buffer.alloc(32, 9).toString('base64'));
let sql: postgres.Sql;
let app: DbHandle;
let appUrl = '';
let tenantA = '';
let tenantB = '';
let deviceA = '';
let deviceB = '';

const exportAt = (date: string, identity = 'core-1', secret = 'hunter2-wg-key') =>
  [
    `# ${date} by RouterOS 7.16.2`,
    '# software id = 9EER-511K',
    '#',
    '# model = RB5009UG+S+',
    '# serial number = HE30812ABC1',
    '/interface wireguard',
    `add listen-port=13231 name=wg1 private-key="${secret}"`,
    '/system identity',
    `set name=${identity}`,
    '',
  ].join('\n');

function inTenant<T>(tenantId: string, fn: (env: Envelope) => Promise<T>): Promise<T> {
  return withTenant(app.db, tenantId, (tx) => fn({ tx, kms, tenantId }));
}

const input = (over: Partial<StoreSnapshotInput> = {}): StoreSnapshotInput => ({
  deviceId: deviceA,
  takenAt: new Date('2026-11-23T10:00:00Z'),
  trigger: 'change',
  sensitive: true,
  exportText: exportAt('2026-11-23 10:00:00'),
  routerosVersion: '7.16.2 (stable)',
  ...over,
});

beforeAll(async () => {
  const db = await freshDatabase();
  sql = postgres(db.superUrl, { max: 2, onnotice: () => {} });
  appUrl = db.appUrl;
  app = openDb(db.appUrl);
  const [a] = await sql<{ id: string }[]>`INSERT INTO tenants (name, slug) VALUES ('A', 'a') RETURNING id`;
  const [b] = await sql<{ id: string }[]>`INSERT INTO tenants (name, slug) VALUES ('B', 'b') RETURNING id`;
  tenantA = a!.id;
  tenantB = b!.id;
  const [da] = await sql<
    { id: string }[]
  >`INSERT INTO devices (tenant_id, name, host) VALUES (${tenantA}, 'core-1', '10.0.0.1') RETURNING id`;
  const [db2] = await sql<
    { id: string }[]
  >`INSERT INTO devices (tenant_id, name, host) VALUES (${tenantB}, 'b-1', '10.0.0.2') RETURNING id`;
  deviceA = da!.id;
  deviceB = db2!.id;
});
afterAll(async () => {
  await app?.close();
  await sql?.end();
});

describe('storeSnapshot', () => {
  it('stores the first export, then adds no row for the same config exported later', async () => {
    const first = await inTenant(tenantA, (env) => storeSnapshot(env, input()));
    expect(first.status).toBe('created');
    expect(first.snapshot.seq).toBe(1);
    const again = await inTenant(tenantA, (env) =>
      storeSnapshot(env, input({ exportText: exportAt('2026-11-24 03:00:00'), trigger: 'nightly' })),
    );
    expect(again).toEqual({ status: 'unchanged', snapshot: first.snapshot });
    const [{ n }] = (await sql`SELECT count(*)::int AS n FROM config_snapshots`) as unknown as [
      { n: number },
    ];
    expect(n).toBe(1);
  });

  it('adds a version for a change and again for a return to an earlier config', async () => {
    const changed = await inTenant(tenantA, (env) =>
      storeSnapshot(env, input({ exportText: exportAt('2026-11-24 04:00:00', 'core-2') })),
    );
    expect(changed.status).toBe('created');
    expect(changed.snapshot.seq).toBe(2);
    const back = await inTenant(tenantA, (env) => storeSnapshot(env, input()));
    expect(back.status).toBe('created');
    expect(back.snapshot.seq).toBe(3);
    const page = await inTenant(tenantA, (env) => listSnapshots(env, deviceA, { limit: 2 }));
    expect(page.items.map((s) => s.seq)).toEqual([3, 2]);
    const older = await inTenant(tenantA, (env) =>
      listSnapshots(env, deviceA, { limit: 2, before: page.nextBefore! }),
    );
    expect(older.items.map((s) => s.seq)).toEqual([1]);
    expect(older.nextBefore).toBeNull();
  });

  it('keeps the content sealed and reads back the normalised text', async () => {
    const rows = await sql<
      { content_enc: Buffer; id: string }[]
    >`SELECT id, content_enc FROM config_snapshots`;
    for (const r of rows) expect(r.content_enc.toString('latin1')).not.toContain('hunter2');
    const text = await inTenant(tenantA, async (env) =>
      snapshotText(env, await getSnapshot(env, deviceA, rows[0]!.id)),
    );
    expect(text).toContain('private-key="hunter2-wg-key"');
    expect(text).not.toContain('serial number');
    expect(text.startsWith('# model = RB5009UG+S+\n')).toBe(true);
  });

  it('refuses a ciphertext moved to another row', async () => {
    const rows = await sql<{ id: string; seq: number }[]>`SELECT id, seq FROM config_snapshots ORDER BY seq`;
    await sql`UPDATE config_snapshots SET content_enc = (SELECT content_enc FROM config_snapshots WHERE seq = 2)
              WHERE seq = 1`;
    const err = await inTenant(tenantA, async (env) =>
      snapshotText(env, await getSnapshot(env, deviceA, rows[0]!.id)),
    ).catch((e: unknown) => e);
    expect((err as ConfigBackupError).code).toBe('snapshot_corrupt');
  });

  it('stores a redelivered event once', async () => {
    const event = DeviceEvent.parse({
      v: 1,
      id: 'evt-config-0001',
      tenantId: tenantA,
      deviceId: deviceA,
      collectorId: '00000000-0000-4000-8000-0000000000cc',
      at: '2026-11-24T05:00:00.000Z',
      kind: 'config-snapshot',
      data: { trigger: 'change', sensitive: false, export: exportAt('2026-11-24 05:00:00', 'core-3') },
    });
    if (event.kind !== 'config-snapshot') throw new Error('parsed to another kind');
    const first = await inTenant(tenantA, (env) => storeSnapshotEvent(env, event));
    expect(first.status).toBe('created');
    const again = await inTenant(tenantA, (env) => storeSnapshotEvent(env, event));
    expect(again).toEqual({ status: 'duplicate', snapshot: first.snapshot });
    const foreign = await inTenant(tenantB, (env) => storeSnapshotEvent(env, event)).catch((e: unknown) => e);
    expect((foreign as ConfigBackupError).code).toBe('tenant_mismatch');
  });

  it('appends concurrent exports of one device in order without duplicates', async () => {
    const texts = ['x1', 'x2', 'x2', 'x3'].map((id) => exportAt('2026-11-25 00:00:00', id));
    // One connection each, so the transactions really overlap.
    const handles = texts.map(() => openDb(appUrl));
    const results = await Promise.all(
      texts.map((t, i) =>
        withTenant(handles[i]!.db, tenantA, (tx) =>
          storeSnapshot({ tx, kms, tenantId: tenantA }, input({ exportText: t })),
        ),
      ),
    ).finally(() => Promise.all(handles.map((h) => h.close())));
    const created = results.filter((r) => r.status === 'created').map((r) => r.snapshot.seq);
    expect(new Set(created).size).toBe(created.length);
    const seqs = await sql<
      { seq: number }[]
    >`SELECT seq FROM config_snapshots WHERE device_id = ${deviceA} ORDER BY seq`;
    expect(seqs.map((r) => r.seq)).toEqual(seqs.map((_, i) => i + 1));
  });
});

describe('exports sealed on the collector', () => {
  const sealedEvent = (id: string, deviceId: string, sealedExport: string) => {
    const event = DeviceEvent.parse({
      v: 1,
      id,
      tenantId: tenantA,
      deviceId,
      collectorId: '00000000-0000-4000-8000-0000000000cc',
      at: '2026-11-26T05:00:00.000Z',
      kind: 'config-snapshot',
      data: { trigger: 'manual', sensitive: true, sealedExport },
    });
    if (event.kind !== 'config-snapshot') throw new Error('parsed to another kind');
    return event;
  };

  it('opens an export sealed to the tenant export key and stores it like a plain one', async () => {
    const jwk = await inTenant(tenantA, (env) => exportPublicKey(env));
    // One key pair per tenant: asking again gives the same key; another tenant has its own.
    expect(await inTenant(tenantA, (env) => exportPublicKey(env))).toEqual(jwk);
    expect(await inTenant(tenantB, (env) => exportPublicKey(env))).not.toEqual(jwk);
    const text = exportAt('2026-11-26 05:00:00', 'sealed-1', 'sealed-secret-key');
    const jwe = await sealExport(text, deviceA, await importExportKey(jwk));
    expect(jwe).not.toContain('sealed-secret-key');
    const stored = await inTenant(tenantA, (env) =>
      storeSnapshotEvent(env, sealedEvent('evt-sealed-1', deviceA, jwe)),
    );
    expect(stored.status).toBe('created');
    const back = await inTenant(tenantA, async (env) =>
      snapshotText(env, await getSnapshot(env, deviceA, stored.snapshot.id)),
    );
    expect(back).toContain('private-key="sealed-secret-key"');
    expect(back).toContain('set name=sealed-1');
  });

  it('refuses a sealed export replayed under another device, another tenant or altered', async () => {
    const jwk = await inTenant(tenantA, (env) => exportPublicKey(env));
    const key = await importExportKey(jwk);
    const jwe = await sealExport(exportAt('2026-11-26 06:00:00', 'sealed-2'), deviceA, key);
    // Same tenant, other device: the header names deviceA.
    const [otherDevice] = await sql<{ id: string }[]>`
      INSERT INTO devices (tenant_id, name, host) VALUES (${tenantA}, 'other', '192.0.2.99') RETURNING id`;
    const replayed = await inTenant(tenantA, (env) =>
      storeSnapshotEvent(env, sealedEvent('evt-sealed-2', otherDevice!.id, jwe)),
    ).catch((e: unknown) => e);
    expect((replayed as ConfigBackupError).code).toBe('snapshot_corrupt');
    // Another tenant cannot open it (its own key does not fit).
    const foreign = await inTenant(tenantB, (env) =>
      storeSnapshotEvent(env, { ...sealedEvent('evt-sealed-3', deviceA, jwe), tenantId: tenantB }),
    ).catch((e: unknown) => e);
    expect((foreign as ConfigBackupError).code).toBe('snapshot_corrupt');
    // A flipped byte in the ciphertext fails authentication.
    const parts = jwe.split('.');
    const ct = parts[3]!;
    parts[3] = (ct[0] === 'A' ? 'B' : 'A') + ct.slice(1);
    const altered = await inTenant(tenantA, (env) =>
      storeSnapshotEvent(env, sealedEvent('evt-sealed-4', deviceA, parts.join('.'))),
    ).catch((e: unknown) => e);
    expect((altered as ConfigBackupError).code).toBe('snapshot_corrupt');
  });

  it('refuses an event with both or neither of export and sealedExport', () => {
    const base = {
      v: 1,
      id: 'evt-x',
      tenantId: tenantA,
      deviceId: deviceA,
      collectorId: '00000000-0000-4000-8000-0000000000cc',
      at: '2026-11-26T05:00:00.000Z',
      kind: 'config-snapshot',
    };
    expect(DeviceEvent.safeParse({ ...base, data: { trigger: 'manual', sensitive: false } }).success).toBe(
      false,
    );
    expect(
      DeviceEvent.safeParse({
        ...base,
        data: { trigger: 'manual', sensitive: false, export: 'x', sealedExport: 'a.b.c.d.e' },
      }).success,
    ).toBe(false);
  });
});

describe('tenant isolation', () => {
  it('cannot store for or read the devices of another tenant', async () => {
    const err = await inTenant(tenantB, (env) => storeSnapshot(env, input())).catch((e: unknown) => e);
    expect((err as ConfigBackupError).code).toBe('device_not_found');
    const list = await inTenant(tenantB, (env) => listSnapshots(env, deviceA, { limit: 50 }));
    expect(list.items).toEqual([]);
    const [row] = await sql<{ id: string }[]>`SELECT id FROM config_snapshots LIMIT 1`;
    const read = await inTenant(tenantB, (env) => getSnapshot(env, deviceA, row!.id)).catch(
      (e: unknown) => e,
    );
    expect((read as ConfigBackupError).code).toBe('snapshot_not_found');
    expect((await inTenant(tenantB, (env) => storeSnapshot(env, input({ deviceId: deviceB })))).status).toBe(
      'created',
    );
  });
});
