// The dispatcher against a real Postgres (as the application role, under RLS) and loopback webhook and
// Slack receivers: alerts recorded once, notifications signed and delivered, maintenance silences them,
// failures retried with backoff and recorded.
import { createHmac } from 'node:crypto';
import type { DeviceEvent } from '@tod/contracts';
import { notificationChannels } from '@tod/drizzle/schema';
import postgres from 'postgres';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../tests/env';
import { type HttpReceiver, httpReceiver } from '../../tests/receivers';
import { type Db, openDb, withTenant } from '../db';
import { localKms } from '../services/kms';
import type { NotifyDeps } from '../services/notify';
import {
  type AlertingSnapshot,
  deliverDue,
  loadAlertingSnapshot,
  MAX_ATTEMPTS,
  nextDeliveryAt,
  recordTransitions,
  sealChannelSecrets,
} from './dispatch';
import { AlertEngine, type AlertTransition } from './engine';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const kms = localKms(Buffer.alloc(32, 9).toString('base64'));
const SECRET = 'whsec-0123456789abcdef';
const deps: NotifyDeps = {
  fetch: (input, init) => fetch(input, init),
  smtpConnect: () => {
    throw new Error('no SMTP in this test');
  },
};

let sql: postgres.Sql;
let db: Db;
let hook: HttpReceiver;
let slack: HttpReceiver;
let device = '';
let otherDevice = '';
let group = '';
let rule = '';
let webhookChannel = '';
let slackChannel = '';
let t0 = new Date('2026-11-23T10:00:00Z');

beforeAll(async () => {
  const fresh = await freshDatabase();
  sql = postgres(fresh.superUrl, { max: 2, onnotice: () => {} });
  const h = openDb(fresh.appUrl);
  db = h.db;
  [hook, slack] = await Promise.all([httpReceiver(), httpReceiver()]);
  await sql`INSERT INTO tenants (id, name, slug) VALUES (${A}, 'A', 'a'), (${B}, 'B', 'b')`;
  [{ id: device }] =
    await sql`INSERT INTO devices (tenant_id, name, host) VALUES (${A}, 'core-1', '10.0.0.1') RETURNING id`;
  [{ id: otherDevice }] =
    await sql`INSERT INTO devices (tenant_id, name, host) VALUES (${A}, 'edge-2', '10.0.0.2') RETURNING id`;
  [{ id: group }] = await sql`INSERT INTO device_groups (tenant_id, name) VALUES (${A}, 'pop') RETURNING id`;
  await sql`INSERT INTO device_group_members (tenant_id, group_id, device_id) VALUES (${A}, ${group}, ${otherDevice})`;
  [{ id: rule }] = await sql`
    INSERT INTO alert_rules (tenant_id, name, metric, comparison, threshold, severity)
    VALUES (${A}, 'CPU high', 'cpu_load', 'gt', 90, 'critical') RETURNING id`;
  webhookChannel = crypto.randomUUID();
  slackChannel = crypto.randomUUID();
  await withTenant(db, A, async (tx) => {
    const env = { tx, kms, tenantId: A };
    const hookSecrets = await sealChannelSecrets(env, webhookChannel, { signingSecret: SECRET });
    const slackSecrets = await sealChannelSecrets(env, slackChannel, {
      webhookUrl: `${slack.url}/services/T/B/X`,
    });
    await tx.insert(notificationChannels).values([
      {
        id: webhookChannel,
        tenantId: A,
        name: 'hook',
        kind: 'webhook',
        config: { url: `${hook.url}/hook` },
        secretsEnc: hookSecrets,
      },
      { id: slackChannel, tenantId: A, name: 'slack', kind: 'slack', config: {}, secretsEnc: slackSecrets },
    ]);
  });
  await sql`INSERT INTO alert_rule_channels (tenant_id, rule_id, channel_id) VALUES
    (${A}, ${rule}, ${webhookChannel}), (${A}, ${rule}, ${slackChannel})`;
  return async () => {
    await h.close();
    await sql.end();
  };
});

beforeEach(async () => {
  hook.requests.length = 0;
  slack.requests.length = 0;
  hook.status = 200;
  slack.status = 200;
  await sql`DELETE FROM alerts`;
  await sql`DELETE FROM maintenance_windows`;
  t0 = new Date(t0.getTime() + 86_400_000);
});

const snapshot = () => withTenant(db, A, (tx) => loadAlertingSnapshot(tx));
const transition = (
  kind: 'fired' | 'resolved',
  at: Date,
  over: Partial<AlertTransition> = {},
): AlertTransition => ({
  kind,
  ruleId: rule,
  ruleName: 'CPU high',
  metric: 'cpu_load',
  severity: 'critical',
  deviceId: device,
  subject: '',
  value: 97,
  threshold: 90,
  at: at.toISOString(),
  reason: kind === 'fired' ? 'breach' : 'cleared',
  ...over,
});
const record = async (ts: AlertTransition[], now = t0, snap?: AlertingSnapshot) => {
  const s = snap ?? (await snapshot());
  return withTenant(db, A, (tx) => recordTransitions(tx, A, ts, s, now));
};
const deliveries = () =>
  sql<
    {
      event: string;
      status: string;
      attempts: number;
      last_error: string | null;
      channel_id: string;
      next_attempt_at: Date | null;
    }[]
  >`
    SELECT event, status, attempts, last_error, channel_id, next_attempt_at FROM notification_deliveries
    WHERE alert_id IS NOT NULL ORDER BY created_at, channel_id`;

describe('recording transitions', () => {
  it('stores a firing alert once, however often the transition is replayed', async () => {
    const first = await record([transition('fired', t0)]);
    expect(first).toHaveLength(1);
    expect(first[0]!.alert).toMatchObject({
      state: 'firing',
      deviceId: device,
      value: 97,
      suppressed: false,
    });
    expect(await record([transition('fired', t0)])).toEqual([]);
    const rows = await sql`SELECT state FROM alerts`;
    expect(rows).toHaveLength(1);
    const d = await deliveries();
    expect(d.filter((x) => x.event === 'firing')).toHaveLength(2);
  });

  it('resolves the open alert automatically and queues the resolution', async () => {
    await record([transition('fired', t0)]);
    const later = new Date(t0.getTime() + 60_000);
    const [r] = await record([transition('resolved', later)], later);
    expect(r!.alert).toMatchObject({ state: 'resolved', resolution: 'auto' });
    expect(new Date(r!.alert.endedAt!).toISOString()).toBe(later.toISOString());
    expect(await record([transition('resolved', later)], later)).toEqual([]);
  });

  it('skips transitions for devices that no longer exist', async () => {
    const gone = crypto.randomUUID();
    expect(await record([transition('fired', t0, { deviceId: gone })])).toEqual([]);
  });

  it('records but does not notify inside a maintenance window, nor when the silenced alert resolves', async () => {
    await sql`DELETE FROM notification_deliveries`;
    await sql`INSERT INTO maintenance_windows (tenant_id, name, scope, scope_target_id, kind, starts_at, ends_at)
      VALUES (${A}, 'pop work', 'group', ${group}, 'once', ${new Date(t0.getTime() - 1000)}, ${new Date(t0.getTime() + 3_600_000)})`;
    const [quiet] = await record([transition('fired', t0, { deviceId: otherDevice })]);
    expect(quiet!.alert.suppressed).toBe(true);
    // The window covers the group only: the other device still notifies.
    const [loud] = await record([transition('fired', t0)]);
    expect(loud!.alert.suppressed).toBe(false);
    const after = new Date(t0.getTime() + 7_200_000);
    await record([transition('resolved', after, { deviceId: otherDevice })], after);
    const d = await sql`SELECT a.device_id FROM notification_deliveries n JOIN alerts a ON a.id = n.alert_id`;
    expect(d.map((r) => r.device_id)).toEqual([device, device]);
  });

  it('feeds straight from the engine: events in, one alert and its notifications out', async () => {
    const snap = await snapshot();
    const engine = new AlertEngine();
    engine.setRules(snap.rules, snap.membership, t0);
    const ev = (sec: number, cpuLoad: number): DeviceEvent => ({
      v: 1,
      id: `evt-${sec}-${t0.getTime()}`,
      tenantId: A,
      deviceId: device,
      collectorId: '00000000-0000-4000-8000-0000000000c1',
      at: new Date(t0.getTime() + sec * 1000).toISOString(),
      kind: 'resource',
      data: {
        identity: 'core-1',
        cpuLoad,
        freeMemory: 1,
        totalMemory: 2,
        freeHdd: 1,
        totalHdd: 2,
        uptimeSeconds: 1,
        version: '7',
        boardName: 'x',
        architecture: 'arm',
      },
    });
    const ts = engine.ingest([ev(0, 95), ev(10, 96), ev(20, 97)], t0);
    const recorded = await record(ts, t0, snap);
    expect(recorded.map((r) => [r.kind, r.alert.value])).toEqual([['fired', 96]]);
  });

  it("never sees another tenant's rules or devices", async () => {
    const snapB = await withTenant(db, B, (tx) => loadAlertingSnapshot(tx));
    expect(snapB.rules).toEqual([]);
    const out = await withTenant(db, B, (tx) =>
      recordTransitions(tx, B, [transition('fired', t0)], snapB, t0),
    );
    expect(out).toEqual([]);
  });
});

describe('delivering', () => {
  it('posts a signed webhook and a Slack Block Kit message, then marks both sent', async () => {
    await sql`DELETE FROM notification_deliveries`;
    await record([transition('fired', t0)]);
    const report = await deliverDue({ db, tenantId: A, kms, deps, now: t0 });
    expect(report).toEqual({ sent: 2, retrying: 0, failed: 0 });
    expect(hook.requests).toHaveLength(1);
    const req = hook.requests[0]!;
    const expected = createHmac('sha256', SECRET).update(req.body).digest('hex');
    expect(req.headers['x-tod-signature']).toBe(`sha256=${expected}`);
    expect(req.headers['x-tod-event']).toBe('firing');
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({
      event: 'firing',
      tenantId: A,
      alert: { deviceName: 'core-1', value: 97, severity: 'critical' },
    });
    expect(slack.requests).toHaveLength(1);
    const msg = JSON.parse(slack.requests[0]!.body);
    expect(msg.text).toContain('CPU high');
    expect(msg.blocks[0]).toMatchObject({ type: 'header' });
    expect(JSON.stringify(msg.blocks)).toContain('core-1');
    expect((await deliveries()).map((d) => d.status)).toEqual(['sent', 'sent']);
    // Nothing is sent twice.
    expect(await deliverDue({ db, tenantId: A, kms, deps, now: t0 })).toEqual({
      sent: 0,
      retrying: 0,
      failed: 0,
    });
    expect(await nextDeliveryAt(db, A)).toBeNull();
  });

  it('retries a failing webhook with backoff, records each error, and sends once it recovers', async () => {
    await sql`DELETE FROM notification_deliveries`;
    await sql`UPDATE notification_channels SET enabled = false WHERE id = ${slackChannel}`;
    try {
      await record([transition('fired', t0)]);
      hook.status = 503;
      expect(await deliverDue({ db, tenantId: A, kms, deps, now: t0 })).toEqual({
        sent: 0,
        retrying: 1,
        failed: 0,
      });
      let [d] = await deliveries();
      expect(d).toMatchObject({ status: 'pending', attempts: 1, last_error: 'HTTP 503' });
      expect(d!.next_attempt_at!.getTime()).toBe(t0.getTime() + 30_000);
      expect((await nextDeliveryAt(db, A))!.getTime()).toBe(t0.getTime() + 30_000);
      // Not due yet: nothing happens.
      expect(await deliverDue({ db, tenantId: A, kms, deps, now: new Date(t0.getTime() + 29_000) })).toEqual({
        sent: 0,
        retrying: 0,
        failed: 0,
      });
      hook.status = 200;
      expect(await deliverDue({ db, tenantId: A, kms, deps, now: new Date(t0.getTime() + 30_000) })).toEqual({
        sent: 1,
        retrying: 0,
        failed: 0,
      });
      [d] = await deliveries();
      expect(d).toMatchObject({ status: 'sent', attempts: 2 });
      expect(hook.requests).toHaveLength(2);
    } finally {
      await sql`UPDATE notification_channels SET enabled = true WHERE id = ${slackChannel}`;
    }
  });

  it(`gives up after ${MAX_ATTEMPTS} attempts, and at once on a 4xx`, async () => {
    await sql`DELETE FROM notification_deliveries`;
    await record([transition('fired', t0)]);
    hook.status = 500;
    slack.status = 404;
    let now = t0;
    const first = await deliverDue({ db, tenantId: A, kms, deps, now });
    expect(first).toEqual({ sent: 0, retrying: 1, failed: 1 });
    for (let i = 1; i < MAX_ATTEMPTS; i++) {
      now = (await nextDeliveryAt(db, A))!;
      await deliverDue({ db, tenantId: A, kms, deps, now });
    }
    const rows = await deliveries();
    expect(rows.map((r) => [r.status, r.attempts])).toEqual(
      [webhookChannel, slackChannel]
        .sort()
        .map((c) => (c === webhookChannel ? ['failed', MAX_ATTEMPTS] : ['failed', 1])),
    );
    expect(hook.requests).toHaveLength(MAX_ATTEMPTS);
    expect(await nextDeliveryAt(db, A)).toBeNull();
  });

  it('records an unreachable endpoint as an error and never throws', async () => {
    await sql`DELETE FROM notification_deliveries`;
    await sql`UPDATE notification_channels SET config = '{"url":"http://127.0.0.1:1/x"}'::jsonb WHERE id = ${webhookChannel}`;
    try {
      await record([transition('fired', t0)]);
      const report = await deliverDue({ db, tenantId: A, kms, deps, now: t0 });
      expect(report.retrying + report.sent).toBe(2);
      const rows =
        await sql`SELECT last_error FROM notification_deliveries WHERE channel_id = ${webhookChannel}`;
      expect(rows[0]!.last_error).toMatch(/request failed/);
    } finally {
      await sql`UPDATE notification_channels SET config = ${sql.json({ url: `${hook.url}/hook` })} WHERE id = ${webhookChannel}`;
    }
  });
});
