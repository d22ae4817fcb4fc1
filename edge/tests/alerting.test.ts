// The alerting API from outside the Worker (workerd): rules, alerts by hand, maintenance windows, and
// notification channels whose secrets never come back, tested for real against loopback receivers: a
// webhook (signature checked), a Slack incoming webhook, and an SMTP server that only accepts AUTH after
// STARTTLS (self-signed certificate, trusted by workerd through NODE_EXTRA_CA_CERTS).
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { World } from './fixtures';
import {
  type HttpReceiver,
  httpReceiver,
  mailText,
  type SmtpReceiver,
  selfSignedCert,
  smtpReceiver,
} from './receivers';

const SMTP_USER = 'alerts@mail.test';
const SMTP_PASSWORD = 'smtp-pass-Qx81!';
const HOOK_SECRET = 'hook-secret-0123456789';

let w: World;
let hook: HttpReceiver;
let slack: HttpReceiver;
let smtp: SmtpReceiver;
let smtpImplicit: SmtpReceiver;
let smtpNoTls: SmtpReceiver;

beforeAll(async () => {
  // workerd trusts the loopback SMTP server's certificate only if miniflare sees it in NODE_EXTRA_CA_CERTS
  // when it is first loaded, so the edge (and wrangler with it) is imported after this.
  const tls = await selfSignedCert();
  const caFile = join(tmpdir(), `tod-test-smtp-ca-${process.pid}.pem`);
  writeFileSync(caFile, tls.cert);
  process.env.NODE_EXTRA_CA_CERTS = caFile;
  const { createWorld } = await import('./fixtures');
  [w, hook, slack, smtp, smtpImplicit, smtpNoTls] = await Promise.all([
    createWorld(),
    httpReceiver(),
    httpReceiver(),
    smtpReceiver({ user: SMTP_USER, password: SMTP_PASSWORD }, tls),
    smtpReceiver({ user: SMTP_USER, password: SMTP_PASSWORD, secure: true }, tls),
    smtpReceiver({ user: SMTP_USER, password: SMTP_PASSWORD, hideStartTls: true }, tls),
  ]);
  return () => w.sql.end();
});

async function json<T = Record<string, unknown>>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return (text ? JSON.parse(text) : null) as T;
}

const device = async (tenant: string, name: string) => {
  const [row] = await w.sql<{ id: string }[]>`
    INSERT INTO devices (tenant_id, name, host) VALUES (${tenant}, ${name}, '10.1.1.1') RETURNING id`;
  return row!.id;
};

describe('notification channels', () => {
  it('never returns secrets, only their names, and stores them sealed', async () => {
    const created = await json<{ id: string; secretsSet: string[]; config: Record<string, unknown> }>(
      await w.a.admin.post('/api/notification-channels', {
        name: 'ops mail',
        kind: 'email',
        config: {
          host: '127.0.0.1',
          port: smtp.port,
          username: SMTP_USER,
          from: 'tod@mail.test',
          to: ['noc@mail.test'],
        },
        secrets: { password: SMTP_PASSWORD },
      }),
      201,
    );
    expect(created.secretsSet).toEqual(['password']);
    expect(created.config).toMatchObject({ host: '127.0.0.1', security: 'starttls', username: SMTP_USER });
    const fetched = await w.a.operator.get(`/api/notification-channels/${created.id}`);
    const list = await w.a.admin.get('/api/notification-channels');
    for (const text of [JSON.stringify(created), await fetched.text(), await list.text()]) {
      expect(text).not.toContain(SMTP_PASSWORD);
      expect(text).not.toContain('secrets_enc');
    }
    const [row] = await w.sql<{ secrets_enc: Buffer; config: unknown }[]>`
      SELECT secrets_enc, config FROM notification_channels WHERE id = ${created.id}`;
    expect(row!.secrets_enc.toString('latin1')).not.toContain(SMTP_PASSWORD);
    expect(JSON.stringify(row!.config)).not.toContain(SMTP_PASSWORD);
  });

  it('sends a test email through STARTTLS and AUTH to the loopback SMTP server', async () => {
    const ch = await json<{ id: string }>(
      await w.a.admin.post('/api/notification-channels', {
        name: 'mail starttls',
        kind: 'email',
        config: {
          host: '127.0.0.1',
          port: smtp.port,
          username: SMTP_USER,
          from: 'tod@mail.test',
          to: ['noc@mail.test', 'oncall@mail.test'],
        },
        secrets: { password: SMTP_PASSWORD },
      }),
      201,
    );
    const before = smtp.mails.length;
    const result = await json<{ ok: boolean; error: string | null; deliveryId: string }>(
      await w.a.admin.post(`/api/notification-channels/${ch.id}/test`),
      200,
    );
    expect(result).toMatchObject({ ok: true, error: null });
    expect(smtp.mails.length).toBe(before + 1);
    const mail = smtp.mails[smtp.mails.length - 1]!;
    expect(mail).toMatchObject({
      from: 'tod@mail.test',
      to: ['noc@mail.test', 'oncall@mail.test'],
      user: SMTP_USER,
      secure: true,
    });
    expect(mail.raw).toMatch(/^Subject: \[TOD\] Test notification$/m);
    expect(mailText(mail.raw)).toContain('test notification');
    const deliveries = await json<{ items: { id: string; status: string; event: string }[] }>(
      await w.a.operator.get(`/api/notification-channels/${ch.id}/deliveries`),
      200,
    );
    expect(deliveries.items).toEqual([
      expect.objectContaining({ id: result.deliveryId, status: 'sent', event: 'test' }),
    ]);
  });

  it('reports a refused SMTP login as a failed delivery without the password in the error', async () => {
    const ch = await json<{ id: string }>(
      await w.a.admin.post('/api/notification-channels', {
        name: 'mail wrong password',
        kind: 'email',
        config: {
          host: '127.0.0.1',
          port: smtp.port,
          username: SMTP_USER,
          from: 'tod@mail.test',
          to: ['noc@mail.test'],
        },
        secrets: { password: 'not-the-password' },
      }),
      201,
    );
    const before = smtp.mails.length;
    const refused = smtp.refusedLogins;
    const result = await json<{ ok: boolean; error: string }>(
      await w.a.admin.post(`/api/notification-channels/${ch.id}/test`),
      200,
    );
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/AUTH PLAIN: 535/);
    expect(result.error).not.toContain('not-the-password');
    expect(smtp.refusedLogins).toBe(refused + 1);
    expect(smtp.mails.length).toBe(before);
    const [d] =
      await w.sql`SELECT status, last_error FROM notification_deliveries WHERE channel_id = ${ch.id}`;
    expect(d).toMatchObject({ status: 'failed' });
  });

  it('sends over implicit TLS, and refuses a server that does not offer STARTTLS instead of going plain', async () => {
    const mk = async (name: string, port: number, security: string) =>
      json<{ id: string }>(
        await w.a.admin.post('/api/notification-channels', {
          name,
          kind: 'email',
          config: {
            host: '127.0.0.1',
            port,
            security,
            username: SMTP_USER,
            from: 'tod@mail.test',
            to: ['noc@mail.test'],
          },
          secrets: { password: SMTP_PASSWORD },
        }),
        201,
      );
    const implicit = await mk('mail implicit tls', smtpImplicit.port, 'tls');
    const ok = await json<{ ok: boolean; error: string | null }>(
      await w.a.admin.post(`/api/notification-channels/${implicit.id}/test`),
      200,
    );
    expect(ok).toMatchObject({ ok: true, error: null });
    expect(smtpImplicit.mails).toHaveLength(1);
    expect(smtpImplicit.mails[0]).toMatchObject({ secure: true, user: SMTP_USER });

    const downgrade = await mk('mail no starttls', smtpNoTls.port, 'starttls');
    const refused = await json<{ ok: boolean; error: string }>(
      await w.a.admin.post(`/api/notification-channels/${downgrade.id}/test`),
      200,
    );
    expect(refused).toMatchObject({ ok: false, error: 'the server does not offer STARTTLS' });
    expect(smtpNoTls.mails).toHaveLength(0);
  });

  it('refuses to send credentials over a plain connection', async () => {
    const ch = await json<{ id: string }>(
      await w.a.admin.post('/api/notification-channels', {
        name: 'mail plain',
        kind: 'email',
        config: {
          host: '127.0.0.1',
          port: smtp.port,
          security: 'none',
          username: SMTP_USER,
          from: 'tod@mail.test',
          to: ['noc@mail.test'],
        },
        secrets: { password: SMTP_PASSWORD },
      }),
      201,
    );
    const result = await json<{ ok: boolean; error: string }>(
      await w.a.admin.post(`/api/notification-channels/${ch.id}/test`),
      200,
    );
    expect(result).toMatchObject({ ok: false });
    expect(result.error).toMatch(/plain connection/);
  });

  it('sends a signed test webhook and a Slack Block Kit test message', async () => {
    const hookCh = await json<{ id: string }>(
      await w.a.admin.post('/api/notification-channels', {
        name: 'hook',
        kind: 'webhook',
        config: { url: `${hook.url}/tod` },
        secrets: { signingSecret: HOOK_SECRET },
      }),
      201,
    );
    const res = await json<{ ok: boolean; deliveryId: string }>(
      await w.a.admin.post(`/api/notification-channels/${hookCh.id}/test`),
      200,
    );
    expect(res.ok).toBe(true);
    const req = hook.requests.at(-1)!;
    expect(req.path).toBe('/tod');
    expect(req.headers['x-tod-signature']).toBe(
      `sha256=${createHmac('sha256', HOOK_SECRET).update(req.body).digest('hex')}`,
    );
    expect(req.headers['x-tod-delivery']).toBe(res.deliveryId);
    expect(JSON.parse(req.body)).toMatchObject({ event: 'test', tenantId: w.tenantA });

    const slackCh = await json<{ id: string; secretsSet: string[] }>(
      await w.a.admin.post('/api/notification-channels', {
        name: 'slack',
        kind: 'slack',
        secrets: { webhookUrl: `${slack.url}/services/T000/B000/XXXX` },
      }),
      201,
    );
    expect(slackCh.secretsSet).toEqual(['webhookUrl']);
    expect(JSON.stringify(slackCh)).not.toContain('/services/T000');
    expect(
      (
        await json<{ ok: boolean }>(
          await w.a.admin.post(`/api/notification-channels/${slackCh.id}/test`),
          200,
        )
      ).ok,
    ).toBe(true);
    const msg = JSON.parse(slack.requests.at(-1)!.body);
    expect(msg.blocks.map((b: { type: string }) => b.type)).toEqual(['header', 'section', 'context']);
  });

  it('records a failing webhook as a failed test delivery', async () => {
    hook.status = 500;
    try {
      const ch = await json<{ id: string }>(
        await w.a.admin.post('/api/notification-channels', {
          name: 'hook failing',
          kind: 'webhook',
          config: { url: `${hook.url}/down` },
          secrets: { signingSecret: HOOK_SECRET },
        }),
        201,
      );
      const res = await json<{ ok: boolean; error: string }>(
        await w.a.admin.post(`/api/notification-channels/${ch.id}/test`),
        200,
      );
      expect(res).toMatchObject({ ok: false, error: 'HTTP 500' });
    } finally {
      hook.status = 200;
    }
  });

  it('keeps secrets on a PATCH that omits them, replaces them when given, and validates config per kind', async () => {
    const ch = await json<{ id: string }>(
      await w.a.admin.post('/api/notification-channels', {
        name: 'hook patch',
        kind: 'webhook',
        config: { url: `${hook.url}/a` },
        secrets: { signingSecret: HOOK_SECRET },
      }),
      201,
    );
    await json(
      await w.a.admin.patch(`/api/notification-channels/${ch.id}`, { config: { url: `${hook.url}/b` } }),
      200,
    );
    expect(
      (await json<{ ok: boolean }>(await w.a.admin.post(`/api/notification-channels/${ch.id}/test`), 200)).ok,
    ).toBe(true);
    let req = hook.requests.at(-1)!;
    expect(req.path).toBe('/b');
    expect(req.headers['x-tod-signature']).toBe(
      `sha256=${createHmac('sha256', HOOK_SECRET).update(req.body).digest('hex')}`,
    );
    const NEW = 'a-brand-new-secret-xyz';
    await json(
      await w.a.admin.patch(`/api/notification-channels/${ch.id}`, { secrets: { signingSecret: NEW } }),
      200,
    );
    await w.a.admin.post(`/api/notification-channels/${ch.id}/test`);
    req = hook.requests.at(-1)!;
    expect(req.headers['x-tod-signature']).toBe(
      `sha256=${createHmac('sha256', NEW).update(req.body).digest('hex')}`,
    );
    expect(
      (await w.a.admin.patch(`/api/notification-channels/${ch.id}`, { config: { host: 'x' } })).status,
    ).toBe(400);
    expect(
      (await w.a.admin.patch(`/api/notification-channels/${ch.id}`, { secrets: { signingSecret: 'short' } }))
        .status,
    ).toBe(400);
    expect(
      (await w.a.admin.patch(`/api/notification-channels/${ch.id}`, { config: { url: 'ftp://x.test/' } }))
        .status,
    ).toBe(400);
  });

  it('refuses bad channel bodies with 400', async () => {
    const bad: unknown[] = [
      { name: 'x', kind: 'email', config: { host: 'h', from: 'not-an-email', to: ['a@b.test'] } },
      { name: 'x', kind: 'email', config: { host: 'h', from: 'a@b.test', to: [] } },
      {
        name: 'x',
        kind: 'email',
        config: { host: 'h\r\nRCPT TO:<x@y>', from: 'a@b.test', to: ['a@b.test'] },
      },
      {
        name: 'x',
        kind: 'webhook',
        config: { url: 'javascript:alert(1)' },
        secrets: { signingSecret: HOOK_SECRET },
      },
      { name: 'x', kind: 'webhook', config: { url: 'https://x.test' } },
      { name: 'x', kind: 'slack', secrets: {} },
      { name: 'x', kind: 'pager' },
    ];
    for (const body of bad) {
      const res = await w.a.admin.post('/api/notification-channels', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe('alert rules', () => {
  it('creates a rule with defaults, scope and channels, and reads it back', async () => {
    const [{ id: group }] = (await w.sql<{ id: string }[]>`
      INSERT INTO device_groups (tenant_id, name) VALUES (${w.tenantA}, 'pops') RETURNING id`) as unknown as [
      { id: string },
    ];
    const ch = await json<{ id: string }>(
      await w.a.admin.post('/api/notification-channels', {
        name: 'rule hook',
        kind: 'webhook',
        config: { url: `${hook.url}/r` },
        secrets: { signingSecret: HOOK_SECRET },
      }),
      201,
    );
    const rule = await json<Record<string, unknown>>(
      await w.a.operator.post('/api/alert-rules', {
        name: 'CPU hot',
        metric: 'cpu_load',
        comparison: 'gt',
        threshold: 90,
        scope: 'group',
        scopeTargetId: group,
        channelIds: [ch.id],
      }),
      201,
    );
    expect(rule).toMatchObject({
      fireAfter: 2,
      clearAfter: 2,
      durationSeconds: 0,
      severity: 'warning',
      enabled: true,
      channelIds: [ch.id],
    });
    const got = await json(await w.a.viewer.get(`/api/alert-rules/${rule.id}`), 200);
    expect(got).toEqual(rule);
    const patched = await json(
      await w.a.operator.patch(`/api/alert-rules/${rule.id}`, {
        threshold: 95,
        fireAfter: 3,
        channelIds: [],
      }),
      200,
    );
    expect(patched).toMatchObject({ threshold: 95, fireAfter: 3, channelIds: [], scope: 'group' });

    // Deleting the rule ends its open alerts (resolved by whoever deleted it); the history stays.
    const dev = await device(w.tenantA, 'rule-delete');
    const [open] = await w.sql<{ id: string }[]>`
      INSERT INTO alerts (tenant_id, rule_id, rule_name, metric, severity, device_id, started_at)
      VALUES (${w.tenantA}, ${rule.id as string}, 'CPU hot', 'cpu_load', 'warning', ${dev}, now()) RETURNING id`;
    expect((await w.a.operator.delete(`/api/alert-rules/${rule.id}`)).status).toBe(204);
    const after = await json<Record<string, unknown>>(await w.a.viewer.get(`/api/alerts/${open!.id}`), 200);
    expect(after).toMatchObject({
      state: 'resolved',
      resolution: 'manual',
      resolvedBy: w.userIds.operatorA,
      ruleId: null,
    });
  });

  it('refuses inconsistent rules, and scopes or channels of another tenant', async () => {
    const [{ id: groupB }] = (await w.sql<{ id: string }[]>`
      INSERT INTO device_groups (tenant_id, name) VALUES (${w.tenantB}, 'b-pops') RETURNING id`) as unknown as [
      { id: string },
    ];
    const [{ id: chB }] = (await w.sql<{ id: string }[]>`
      INSERT INTO notification_channels (tenant_id, name, kind) VALUES (${w.tenantB}, 'b-hook', 'webhook') RETURNING id`) as unknown as [
      { id: string },
    ];
    const cases: [unknown, number][] = [
      [{ name: 'x', metric: 'cpu_load' }, 400],
      [{ name: 'x', metric: 'cpu_load', comparison: 'gt' }, 400],
      [{ name: 'x', metric: 'device_offline', threshold: 1, comparison: 'gt' }, 400],
      [{ name: 'x', metric: 'device_offline', scope: 'group' }, 400],
      [{ name: 'x', metric: 'device_offline', scopeTargetId: groupB }, 400],
      [{ name: 'x', metric: 'device_offline', fireAfter: 0 }, 400],
      [{ name: 'x', metric: 'cpu_load', comparison: 'gt', threshold: 'NaN' }, 400],
      [{ name: 'x', metric: 'disk', comparison: 'gt', threshold: 1 }, 400],
      [{ name: 'x', metric: 'device_offline', scope: 'group', scopeTargetId: groupB }, 404],
      [{ name: 'x', metric: 'device_offline', channelIds: [chB] }, 404],
    ];
    for (const [body, status] of cases) {
      const res = await w.a.admin.post('/api/alert-rules', body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(await res.text()).not.toContain(w.tenantB);
    }
    const rule = await json<{ id: string }>(
      await w.a.admin.post('/api/alert-rules', { name: 'ok', metric: 'device_offline' }),
      201,
    );
    // A PATCH is checked as the whole rule it would produce.
    expect((await w.a.admin.patch(`/api/alert-rules/${rule.id}`, { metric: 'cpu_load' })).status).toBe(400);
    expect((await w.a.admin.patch(`/api/alert-rules/${rule.id}`, { scope: 'device' })).status).toBe(400);
  });
});

describe('alerts by hand', () => {
  it('lists, filters and pages alerts, acknowledges and resolves them with an audit trail', async () => {
    const dev = await device(w.tenantA, 'core-alerts');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [row] = await w.sql<{ id: string }[]>`
        INSERT INTO alerts (tenant_id, rule_name, metric, severity, device_id, started_at, value, threshold)
        VALUES (${w.tenantA}, 'CPU hot', 'cpu_load', 'critical', ${dev}, now() - ${`${i} minutes`}::interval, 97, 90)
        RETURNING id`;
      ids.push(row!.id);
    }
    const page1 = await json<{ items: { id: string }[]; nextCursor: string }>(
      await w.a.viewer.get(`/api/alerts?deviceId=${dev}&limit=2`),
      200,
    );
    expect(page1.items.map((a) => a.id)).toEqual(ids.slice(0, 2));
    const page2 = await json<{ items: { id: string }[]; nextCursor: string | null }>(
      await w.a.viewer.get(`/api/alerts?deviceId=${dev}&limit=2&cursor=${page1.nextCursor}`),
      200,
    );
    expect(page2.items.map((a) => a.id)).toEqual([ids[2]]);
    expect(page2.nextCursor).toBeNull();

    const acked = await json<Record<string, unknown>>(
      await w.a.operator.post(`/api/alerts/${ids[0]}/acknowledge`),
      200,
    );
    expect(acked).toMatchObject({ acknowledgedBy: w.userIds.operatorA, state: 'firing' });
    const resolved = await json<Record<string, unknown>>(
      await w.a.admin.post(`/api/alerts/${ids[0]}/resolve`, { note: 'replaced the PSU' }),
      200,
    );
    expect(resolved).toMatchObject({ state: 'resolved', resolution: 'manual', resolvedBy: w.userIds.adminA });
    expect(resolved.endedAt).toEqual(expect.any(String));
    expect((await w.a.admin.post(`/api/alerts/${ids[0]}/resolve`)).status).toBe(409);
    const firing = await json<{ items: { id: string }[] }>(
      await w.a.viewer.get(`/api/alerts?deviceId=${dev}&state=firing`),
      200,
    );
    expect(firing.items.map((a) => a.id)).toEqual(ids.slice(1));
    const audit =
      await w.sql`SELECT action, actor_id FROM audit_log WHERE target_id = ${ids[0]!} ORDER BY id`;
    expect(audit).toEqual([
      { action: 'alert.acknowledge', actor_id: w.userIds.operatorA },
      { action: 'alert.resolve', actor_id: w.userIds.adminA },
    ]);
    // The resolve note is in the (sealed) audit details, as the audit API shows them.
    const trail = await json<{ items: { action: string; targetId: string; details: unknown }[] }>(
      await w.a.admin.get(`/api/audit-logs?action=alert.resolve`),
      200,
    );
    expect(trail.items.find((e) => e.targetId === ids[0])?.details).toEqual({ note: 'replaced the PSU' });
    // A note that is not a string is refused, and changes nothing.
    expect((await w.a.operator.post(`/api/alerts/${ids[1]}/acknowledge`, { note: 5 })).status).toBe(400);
  });

  it("cannot see, acknowledge or resolve another tenant's alert", async () => {
    const devB = await device(w.tenantB, 'b-core');
    const [row] = await w.sql<{ id: string }[]>`
      INSERT INTO alerts (tenant_id, rule_name, metric, severity, device_id, started_at)
      VALUES (${w.tenantB}, 'Down', 'device_offline', 'critical', ${devB}, now()) RETURNING id`;
    const list = await w.a.admin.get('/api/alerts?limit=200');
    expect(await list.text()).not.toContain(row!.id);
    for (const path of [`/api/alerts/${row!.id}/acknowledge`, `/api/alerts/${row!.id}/resolve`]) {
      expect((await w.a.admin.post(path)).status).toBe(404);
    }
    const [after] = await w.sql`SELECT state, acknowledged_at FROM alerts WHERE id = ${row!.id}`;
    expect(after).toEqual({ state: 'firing', acknowledged_at: null });
  });

  it('refuses bad list queries with 400', async () => {
    for (const q of ['state=open', 'severity=meh', 'deviceId=1', 'limit=0', 'cursor=abc', 'x=1']) {
      expect((await w.a.viewer.get(`/api/alerts?${q}`)).status, q).toBe(400);
    }
  });
});

describe('maintenance windows', () => {
  it('creates weekly windows in a time zone and tells whether one is in force now', async () => {
    const now = new Date();
    const wd = now.getUTCDay();
    const hh = String(now.getUTCHours()).padStart(2, '0');
    const on = await json<Record<string, unknown>>(
      await w.a.operator.post('/api/maintenance-windows', {
        name: 'nightly',
        kind: 'weekly',
        weekdays: [wd, (wd + 6) % 7],
        startTime: `${hh}:00`,
        durationMinutes: 120,
        timeZone: 'UTC',
      }),
      201,
    );
    expect(on).toMatchObject({
      activeNow: true,
      scope: 'fleet',
      startsAt: null,
      weekdays: [wd, (wd + 6) % 7],
    });
    const off = await json<Record<string, unknown>>(
      await w.a.operator.post('/api/maintenance-windows', {
        name: 'past',
        kind: 'once',
        startsAt: '2020-01-01T00:00:00Z',
        endsAt: '2020-01-01T01:00:00Z',
      }),
      201,
    );
    expect(off.activeNow).toBe(false);
    const patched = await json<Record<string, unknown>>(
      await w.a.operator.patch(`/api/maintenance-windows/${on.id}`, {
        timeZone: 'Pacific/Kiritimati',
        enabled: false,
      }),
      200,
    );
    expect(patched).toMatchObject({ timeZone: 'Pacific/Kiritimati', enabled: false, activeNow: false });
  });

  it('refuses bad windows with 400 and foreign scopes with 404', async () => {
    const devB = await device(w.tenantB, 'b-maint');
    const cases: [unknown, number][] = [
      [
        {
          name: 'x',
          kind: 'weekly',
          weekdays: [1],
          startTime: '25:00',
          durationMinutes: 10,
          timeZone: 'UTC',
        },
        400,
      ],
      [
        {
          name: 'x',
          kind: 'weekly',
          weekdays: [7],
          startTime: '01:00',
          durationMinutes: 10,
          timeZone: 'UTC',
        },
        400,
      ],
      [
        {
          name: 'x',
          kind: 'weekly',
          weekdays: [1, 1],
          startTime: '01:00',
          durationMinutes: 10,
          timeZone: 'UTC',
        },
        400,
      ],
      [
        {
          name: 'x',
          kind: 'weekly',
          weekdays: [1],
          startTime: '01:00',
          durationMinutes: 10,
          timeZone: 'Mars/Olympus',
        },
        400,
      ],
      [{ name: 'x', kind: 'once', startsAt: '2026-01-02T00:00:00Z', endsAt: '2026-01-01T00:00:00Z' }, 400],
      [{ name: 'x', kind: 'once', startsAt: 'tomorrow', endsAt: '2026-01-01T00:00:00Z' }, 400],
      [
        {
          name: 'x',
          kind: 'once',
          startsAt: '2026-01-01T00:00:00Z',
          endsAt: '2026-01-02T00:00:00Z',
          scope: 'device',
        },
        400,
      ],
      [
        {
          name: 'x',
          kind: 'once',
          startsAt: '2026-01-01T00:00:00Z',
          endsAt: '2026-01-02T00:00:00Z',
          scope: 'device',
          scopeTargetId: devB,
        },
        404,
      ],
    ];
    for (const [body, status] of cases) {
      expect((await w.a.operator.post('/api/maintenance-windows', body)).status, JSON.stringify(body)).toBe(
        status,
      );
    }
    const once = await json<{ id: string }>(
      await w.a.operator.post('/api/maintenance-windows', {
        name: 'one-off',
        kind: 'once',
        startsAt: '2026-01-01T00:00:00Z',
        endsAt: '2026-01-02T00:00:00Z',
      }),
      201,
    );
    expect(
      (await w.a.operator.patch(`/api/maintenance-windows/${once.id}`, { timeZone: 'UTC' })).status,
    ).toBe(400);
    expect(
      (await w.a.operator.patch(`/api/maintenance-windows/${once.id}`, { endsAt: '2025-01-01T00:00:00Z' }))
        .status,
    ).toBe(400);
  });
});
