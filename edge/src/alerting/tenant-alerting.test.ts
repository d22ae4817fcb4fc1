// The hub-side alerting loop end to end against Postgres and a loopback webhook: device status events in,
// an alert and a signed notification out after the hysteresis count, resolution when the device returns,
// silence inside a maintenance window, and a replayed batch after a crash storing nothing twice.
import { createHmac } from 'node:crypto';
import type { DeviceEvent } from '@tod/contracts';
import { notificationChannels } from '@tod/drizzle/schema';
import postgres from 'postgres';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../tests/env';
import { type HttpReceiver, httpReceiver } from '../../tests/receivers';
import { type Db, openDb, withTenant } from '../db';
import { localKms } from '../services/kms';
import type { NotifyDeps } from '../services/notify';
import { sealChannelSecrets } from './dispatch';
import { ENGINE_STATE_PREFIX, type StateStorage, TenantAlerting } from './tenant-alerting';

const A = '00000000-0000-4000-8000-00000000000a';
const COLLECTOR = '00000000-0000-4000-8000-0000000000c1';
const SECRET = 'whsec-tenant-alerting-0001';
const kms = localKms(Buffer.alloc(32, 5).toString('base64'));
const deps: NotifyDeps = {
  fetch: (i, init) => fetch(i, init),
  smtpConnect: () => {
    throw new Error('no SMTP here');
  },
};

let sql: postgres.Sql;
let db: Db;
let hook: HttpReceiver;
let device = '';
let rule = '';

/** The DurableObjectStorage calls TenantAlerting makes, over a Map (with its 128-keys-per-call limit). */
function memoryStorage(): StateStorage & { map: Map<string, unknown> } {
  const map = new Map<string, unknown>();
  return {
    map,
    list: async <T>({ prefix }: { prefix: string }) =>
      new Map([...map].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k, structuredClone(v) as T])),
    put: async <T>(entries: Record<string, T>) => {
      if (Object.keys(entries).length > 128) throw new Error('too many keys in one put');
      for (const [k, v] of Object.entries(entries)) map.set(k, structuredClone(v));
    },
    delete: async (keys: string[]) => {
      if (keys.length > 128) throw new Error('too many keys in one delete');
      return keys.filter((k) => map.delete(k)).length;
    },
  };
}

let seq = 0;
const status = (at: Date, s: 'online' | 'unreachable'): DeviceEvent => ({
  v: 1,
  id: `status-${seq++}`,
  tenantId: A,
  deviceId: device,
  collectorId: COLLECTOR,
  at: at.toISOString(),
  kind: 'status',
  data: { status: s, consecutiveFailures: 0 },
});

/** What the TenantHub does per committed batch. */
async function batch(
  alerting: TenantAlerting,
  events: DeviceEvent[],
  now: Date,
  opts: { commit?: boolean } = {},
) {
  await alerting.refresh(db, now);
  const b = alerting.evaluate(events, now);
  const recorded = await withTenant(db, A, (tx) => alerting.record(tx, b, now));
  if (opts.commit !== false) await alerting.commit(b);
  return recorded;
}

beforeAll(async () => {
  const fresh = await freshDatabase();
  sql = postgres(fresh.superUrl, { max: 2, onnotice: () => {} });
  const h = openDb(fresh.appUrl);
  db = h.db;
  hook = await httpReceiver();
  await sql`INSERT INTO tenants (id, name, slug) VALUES (${A}, 'A', 'a')`;
  const [d] = await sql<
    { id: string }[]
  >`INSERT INTO devices (tenant_id, name, host) VALUES (${A}, 'core-1', '10.0.0.1') RETURNING id`;
  device = d!.id;
  const [r] = await sql<{ id: string }[]>`
    INSERT INTO alert_rules (tenant_id, name, metric, severity) VALUES (${A}, 'Device down', 'device_offline', 'critical')
    RETURNING id`;
  rule = r!.id;
  const channel = crypto.randomUUID();
  await withTenant(db, A, async (tx) => {
    const secretsEnc = await sealChannelSecrets({ tx, kms, tenantId: A }, channel, { signingSecret: SECRET });
    await tx.insert(notificationChannels).values({
      id: channel,
      tenantId: A,
      name: 'hook',
      kind: 'webhook',
      config: { url: `${hook.url}/alerts` },
      secretsEnc,
    });
  });
  await sql`INSERT INTO alert_rule_channels (tenant_id, rule_id, channel_id) VALUES (${A}, ${rule}, ${channel})`;
  return async () => {
    await h.close();
    await sql.end();
  };
});

describe('TenantAlerting', () => {
  it('fires after the hysteresis count, notifies once, survives a replay, and resolves when the device returns', async () => {
    const storage = memoryStorage();
    const t = (s: number) => new Date(Date.now() + s * 1000);
    const alerting = new TenantAlerting({ tenantId: A, storage, kms, deps });
    expect(await batch(alerting, [status(t(0), 'online'), status(t(10), 'unreachable')], t(10))).toEqual([]);

    // The second unreachable poll fires; the hub crashes before keeping the engine state.
    const second = [status(t(20), 'unreachable')];
    const fired = await batch(alerting, second, t(20), { commit: false });
    expect(fired.map((r) => [r.kind, r.alert.deviceId, r.alert.severity])).toEqual([
      ['fired', device, 'critical'],
    ]);

    // A new hub instance replays the same batch from the previous state: nothing is stored twice.
    const revived = new TenantAlerting({ tenantId: A, storage, kms, deps });
    expect(await batch(revived, second, t(21))).toEqual([]);
    expect(await sql`SELECT state FROM alerts`).toEqual([{ state: 'firing' }]);
    expect([...storage.map.keys()]).toEqual([`${ENGINE_STATE_PREFIX}${device}`]);

    const sent = await revived.deliver(db, t(22));
    expect(sent).toMatchObject({ sent: 1, retrying: 0, failed: 0, nextAt: null });
    expect(hook.requests).toHaveLength(1);
    const req = hook.requests[0]!;
    expect(req.headers['x-tod-signature']).toBe(
      `sha256=${createHmac('sha256', SECRET).update(req.body).digest('hex')}`,
    );
    expect(JSON.parse(req.body)).toMatchObject({
      event: 'firing',
      alert: { ruleName: 'Device down', deviceName: 'core-1' },
    });

    // One online poll is not enough (M = 2); the second resolves.
    expect(await batch(revived, [status(t(30), 'online')], t(30))).toEqual([]);
    const resolved = await batch(revived, [status(t(40), 'online')], t(40));
    expect(resolved.map((r) => [r.kind, r.alert.resolution])).toEqual([['resolved', 'auto']]);
    await revived.deliver(db, t(41));
    expect(hook.requests.map((r) => JSON.parse(r.body).event)).toEqual(['firing', 'resolved']);
  });

  it('records but does not notify inside a maintenance window', async () => {
    hook.requests.length = 0;
    await sql`DELETE FROM alerts`;
    await sql`INSERT INTO maintenance_windows (tenant_id, name, scope, scope_target_id, kind, starts_at, ends_at)
      VALUES (${A}, 'upgrade', 'device', ${device}, 'once', now() - interval '1 hour', now() + interval '1 hour')`;
    const alerting = new TenantAlerting({ tenantId: A, storage: memoryStorage(), kms, deps });
    const t = (s: number) => new Date(Date.now() + s * 1000);
    const recorded = await batch(
      alerting,
      [status(t(0), 'unreachable'), status(t(10), 'unreachable')],
      t(10),
    );
    expect(recorded.map((r) => [r.kind, r.alert.suppressed])).toEqual([['fired', true]]);
    const resolved = await batch(alerting, [status(t(20), 'online'), status(t(30), 'online')], t(30));
    expect(resolved.map((r) => r.kind)).toEqual(['resolved']);
    expect(await alerting.deliver(db, t(31))).toMatchObject({ sent: 0, nextAt: null });
    expect(hook.requests).toEqual([]);
    await sql`DELETE FROM maintenance_windows`;
  });

  it('resolves open alerts of a rule that was disabled, once the rules are re-read', async () => {
    await sql`DELETE FROM alerts`;
    const alerting = new TenantAlerting({ tenantId: A, storage: memoryStorage(), kms, deps });
    const t = (s: number) => new Date(Date.now() + s * 1000);
    await batch(alerting, [status(t(0), 'unreachable'), status(t(10), 'unreachable')], t(10));
    await sql`UPDATE alert_rules SET enabled = false WHERE id = ${rule}`;
    try {
      alerting.invalidate();
      const gone = await alerting.refresh(db, t(20));
      expect(gone.map((r) => [r.kind, r.alert.state])).toEqual([['resolved', 'resolved']]);
      expect(alerting.firing()).toEqual([]);
    } finally {
      await sql`UPDATE alert_rules SET enabled = true WHERE id = ${rule}`;
    }
  });

  it('rolls the engine back when the batch transaction fails, so the replay fires', async () => {
    await sql`DELETE FROM alerts`;
    const alerting = new TenantAlerting({ tenantId: A, storage: memoryStorage(), kms, deps });
    const t = (s: number) => new Date(Date.now() + s * 1000);
    await batch(alerting, [status(t(0), 'unreachable')], t(0));
    const events = [status(t(10), 'unreachable')];
    await alerting.refresh(db, t(10));
    const b = alerting.evaluate(events, t(10));
    expect(b.transitions).toHaveLength(1);
    await expect(
      withTenant(db, A, async (tx) => {
        await alerting.record(tx, b, t(10));
        throw new Error('batch write failed');
      }),
    ).rejects.toThrow('batch write failed');
    alerting.rollback(b);
    expect(await sql`SELECT id FROM alerts`).toEqual([]);
    const replay = await batch(alerting, events, t(11));
    expect(replay.map((r) => r.kind)).toEqual(['fired']);
  });
});
