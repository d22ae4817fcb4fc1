// Alerting end to end with every real part: simulated RouterOS devices, a collector enrolled through the edge
// and polling them, nats-server, the TenantHub in workerd, Postgres, and loopback receivers for the
// notifications (an SMTP server that wants STARTTLS and AUTH, a webhook receiver that checks the signature).
// A device going down reaches the SSE client as a status event, then (after the rule's hysteresis) as an alert
// on SSE, an email and a signed webhook; it resolves when the device returns. A device inside a maintenance
// window gets its alert recorded as suppressed and notifies nobody.
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { AlertNotice } from '@tod/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../collector/src/clock';
import type { Collector } from '../collector/src/collector';
import { startEnrolledCollector, stepWhenIdle } from '../collector/tests/harness';
import type { World } from '../edge/tests/fixtures';
import {
  type HttpReceiver,
  httpReceiver,
  mailText,
  type SmtpReceiver,
  selfSignedCert,
  smtpReceiver,
} from '../edge/tests/receivers';
import { SseClient } from '../edge/tests/sse-client';
import { type Fleet, startFleet } from '../simulator/src/fleet';

const SMTP_USER = 'alerts@mail.test';
const SMTP_PASSWORD = 'smtp-pass-Lw42!';
const HOOK_SECRET = 'hook-secret-e2e-0123456789';

let w: World;
let fleet: Fleet;
let hook: HttpReceiver;
let smtp: SmtpReceiver;
let nc: NatsConnection;
let collector: Collector;
let stateDir = '';
const clock = new ManualClock(Date.now());
// The edge registers devices with a 60 s poll interval.
const POLL_STEP_MS = 61_000;

async function poll(done: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

beforeAll(async () => {
  // workerd trusts the loopback SMTP server's certificate only if miniflare sees it in NODE_EXTRA_CA_CERTS
  // when it is first loaded, so the edge fixtures (and wrangler with them) are imported after this.
  const tls = await selfSignedCert();
  const caFile = join(tmpdir(), `tod-test-smtp-ca-e2e-${process.pid}.pem`);
  writeFileSync(caFile, tls.cert);
  process.env.NODE_EXTRA_CA_CERTS = caFile;
  const { createWorld } = await import('../edge/tests/fixtures');
  [w, hook, smtp, fleet] = await Promise.all([
    createWorld({ nats: true }),
    httpReceiver(),
    smtpReceiver({ user: SMTP_USER, password: SMTP_PASSWORD }, tls),
    startFleet({ devices: 2, tls: false }),
  ]);
  stateDir = await mkdtemp(join(tmpdir(), 'tod-alerting-pipeline-'));
});
afterAll(async () => {
  await collector?.stop(2000);
  await nc?.close();
  await fleet?.stop();
  await w?.sql.end();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

type StatusBody = { deviceId: string; data: { status: string } };
type AlertBody = {
  kind: 'fired' | 'resolved' | 'acknowledged';
  alert: { id: string; deviceId: string; state: string; suppressed: boolean };
};

describe('simulator → collector → TenantHub → alert → email and webhook', () => {
  it('alerts after the hysteresis, notifies, resolves, and stays quiet in a maintenance window', async () => {
    const created = await w.a.admin.post('/api/collectors', { name: 'site' });
    const { id: collectorId, enrollToken } = (await created.json()) as { id: string; enrollToken: string };

    // Devices, channels and the rule exist before the first event.
    const ids: string[] = [];
    for (const [i, sim] of fleet.manifest.devices.entries()) {
      const res = await w.a.operator.post('/api/devices', {
        name: `sim-${i}`,
        host: sim.host,
        port: sim.port,
        tlsMode: 'plain',
        collectorId,
        credentials: fleet.manifest.credentials,
      });
      ids.push((await json<{ id: string }>(res, 201)).id);
    }
    const [loud, quiet] = ids as [string, string];
    const mail = await json<{ id: string }>(
      await w.a.admin.post('/api/notification-channels', {
        name: 'noc mail',
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
    const webhook = await json<{ id: string }>(
      await w.a.admin.post('/api/notification-channels', {
        name: 'noc hook',
        kind: 'webhook',
        config: { url: `${hook.url}/alerts` },
        secrets: { signingSecret: HOOK_SECRET },
      }),
      201,
    );
    const rule = await json<{ id: string; fireAfter: number; clearAfter: number }>(
      await w.a.operator.post('/api/alert-rules', {
        name: 'Device down',
        metric: 'device_offline',
        severity: 'critical',
        channelIds: [mail.id, webhook.id],
      }),
      201,
    );
    expect(rule).toMatchObject({ fireAfter: 2, clearAfter: 2 });
    const sse = await SseClient.open(w.a.viewer, '/api/sse?topics=status,alerts');
    expect(sse.status).toBe(200);

    ({ nc, collector } = await startEnrolledCollector({ edgeUrl: w.edge.url, enrollToken, stateDir, clock }));

    const statuses = (id: string) =>
      sse
        .deviceEvents()
        .filter((e) => e.event === 'status' && e.body.deviceId === id)
        .map((e) => (e.body as unknown as StatusBody).data.status);
    const alertEvents = () =>
      sse.events.filter((e) => e.event === 'alert').map((e) => JSON.parse(e.data) as AlertBody);
    const step = async (what: string, done: () => boolean) => {
      await stepWhenIdle(collector, clock, POLL_STEP_MS);
      await sse.until(done, 45_000, what);
    };
    const polled = (n: number) => () => ids.every((id) => statuses(id).length >= n);

    await poll(() => collector.deviceCount === 2, 'the collector to know both devices');
    await step('both devices online', () => ids.every((id) => statuses(id).includes('online')));
    // Created once the hub has loaded its rules (with the first events): the route tells the hub to re-read
    // them. The collector's clock runs ahead of the wall clock by the steps the test takes: it covers a day.
    await json(
      await w.a.operator.post('/api/maintenance-windows', {
        name: 'quiet works',
        kind: 'once',
        scope: 'device',
        scopeTargetId: quiet,
        startsAt: new Date(Date.now() - 3_600_000).toISOString(),
        endsAt: new Date(Date.now() + 86_400_000).toISOString(),
      }),
      201,
    );

    // Down: one failed poll is a status event but no alert yet (fire_after 2); the second fires.
    await fleet.device(0).setFaults({ unreachable: true });
    await fleet.device(1).setFaults({ unreachable: true });
    const before = statuses(loud).length;
    await step('first failed poll', () => ids.every((id) => statuses(id).slice(-1)[0] === 'unreachable'));
    expect(statuses(loud).length).toBeGreaterThan(before);
    expect(alertEvents()).toEqual([]);
    await step('the alerts', () => alertEvents().filter((a) => a.kind === 'fired').length === 2);
    const fired = alertEvents().filter((a) => a.kind === 'fired');
    const firedLoud = fired.find((a) => a.alert.deviceId === loud)!;
    const firedQuiet = fired.find((a) => a.alert.deviceId === quiet)!;
    expect(firedLoud.alert).toMatchObject({ state: 'firing', suppressed: false });
    expect(firedQuiet.alert).toMatchObject({ state: 'firing', suppressed: true });

    // The notifications: one email and one signed webhook, both about the loud device only.
    await poll(() => smtp.mails.length >= 1 && hook.requests.length >= 1, 'the firing notifications');
    const notices = () =>
      hook.requests.map((r) => {
        expect(r.headers['x-tod-signature']).toBe(
          `sha256=${createHmac('sha256', HOOK_SECRET).update(r.body).digest('hex')}`,
        );
        return AlertNotice.parse(JSON.parse(r.body));
      });
    expect(notices()).toEqual([
      expect.objectContaining({
        event: 'firing',
        alert: expect.objectContaining({ id: firedLoud.alert.id, deviceName: 'sim-0' }),
      }),
    ]);
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]).toMatchObject({ to: ['noc@mail.test'], user: SMTP_USER, secure: true });
    expect(mailText(smtp.mails[0]!.raw)).toContain('sim-0');

    // Acknowledged by hand: streamed like the rest.
    await json(await w.a.operator.post(`/api/alerts/${firedLoud.alert.id}/acknowledge`), 200);
    const acked = await sse.until(
      () => alertEvents().find((a) => a.kind === 'acknowledged'),
      15_000,
      'the acknowledgement',
    );
    expect(acked.alert).toMatchObject({ id: firedLoud.alert.id, state: 'firing' });

    // Back: resolves after clear_after (2) good polls.
    await fleet.device(0).clearFaults();
    await fleet.device(1).clearFaults();
    const resolved = () => alertEvents().filter((a) => a.kind === 'resolved');
    await step('the devices back online', () => ids.every((id) => statuses(id).slice(-1)[0] === 'online'));
    expect(resolved()).toEqual([]);
    const n = statuses(loud).length;
    await step('the resolutions', () => resolved().length === 2 && polled(n + 1)());
    expect(resolved().map((a) => a.alert.state)).toEqual(['resolved', 'resolved']);
    await poll(() => hook.requests.length >= 2 && smtp.mails.length >= 2, 'the resolved notifications');
    expect(notices().map((x) => [x.event, x.alert.deviceId])).toEqual([
      ['firing', loud],
      ['resolved', loud],
    ]);
    expect(smtp.mails).toHaveLength(2);

    // Stored once each, with the quiet device's alert suppressed and never delivered.
    const rows = await w.sql<{ device_id: string; state: string; suppressed: boolean; resolution: string }[]>`
      SELECT device_id, state, suppressed, resolution FROM alerts WHERE rule_id = ${rule.id} ORDER BY suppressed`;
    expect(rows).toEqual([
      { device_id: loud, state: 'resolved', suppressed: false, resolution: 'auto' },
      { device_id: quiet, state: 'resolved', suppressed: true, resolution: 'auto' },
    ]);
    const deliveries = await w.sql<{ device_id: string; status: string }[]>`
      SELECT a.device_id, d.status FROM notification_deliveries d JOIN alerts a ON a.id = d.alert_id`;
    expect(deliveries.every((d) => d.device_id === loud && d.status === 'sent')).toBe(true);
    expect(deliveries).toHaveLength(4);
    sse.close();
  }, 240_000);
});
