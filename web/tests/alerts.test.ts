// The alerting pages in Debian's Chromium against the real stack (Postgres, NATS, wrangler dev with web +
// edge), a simulated RouterOS device polled by a collector enrolled through the portal, and a loopback webhook
// receiver: a super admin manages organisations, creates a webhook channel (and its test arrives) and a rule
// through the forms, takes the device down in the simulator and watches the alert appear live, acknowledges
// it, sees it resolve when the device returns, and schedules maintenance; a viewer sees all of it without a
// control; a tenant admin has no organisations page. Screenshots under web/test-output/alerts/.
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { AlertNotice } from '@tod/contracts';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../collector/src/clock';
import type { Collector } from '../../collector/src/collector';
import { pollSteps, startEnrolledCollector, stepWhenIdle, until } from '../../collector/tests/harness';
import { type HttpReceiver, httpReceiver } from '../../edge/tests/receivers';
import { type Fleet, startFleet } from '../../simulator/src/fleet';
import { freshDatabase, freshNats } from '../../tests/env';
import {
  acceptInvitation,
  createTenant,
  enrolFirstAdmin,
  inviteLink,
  newClientAddress,
  type Portal,
  startPortal,
  watchPage,
} from './browser';

const PASSWORD = 'correct horse battery staple';
const XSS_DEVICE = '<img src=x onerror=alert(1)>';
const XSS_RULE = '<b>Down</b><img src=x onerror=alert(2)>';
const HOOK_SECRET = 'hook-secret-browser-0123456789';
// The edge registers devices with a 60 s poll interval.
const POLL_STEP_MS = 61_000;

let portal: Portal;
let ctx: BrowserContext;
let pg: Page;
let viewerCtx: BrowserContext | undefined;
let viewer: Page;
let fleet: Fleet;
let hook: HttpReceiver;
let nc: NatsConnection | undefined;
let collector: Collector | undefined;
let stateDir = '';
let tenantId = '';
let deviceId = '';
const clock = new ManualClock(Date.now());
const seen = { dialogs: [] as string[], pageErrors: [] as string[] };

/** fetch() in the page's session, in the tenant the test works in. */
async function apiCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  return pg.evaluate(
    async ({ method, path, body, tenantId }) => {
      const res = await fetch(path, {
        method,
        headers: { 'content-type': 'application/json', 'x-tenant-id': tenantId },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
      return (text ? JSON.parse(text) : null) as T;
    },
    { method, path, body, tenantId },
  );
}

/** One poll of the device: once the collector's slots are idle (a poll is counted before its slot's backup
 * ends, and a clock jump past a busy slot skips that device's next poll), advance its clock a poll interval and
 * wait until the poll ran. */
async function pollOnce(): Promise<void> {
  const before = pollSteps(collector!.metrics);
  await stepWhenIdle(collector!, clock, POLL_STEP_MS);
  await until(
    () => pollSteps(collector!.metrics),
    (n) => n > before,
    30_000,
    'the collector to poll',
  );
}

async function deviceStatus(): Promise<string> {
  return (await apiCall<{ status: string }>('GET', `/api/devices/${deviceId}`)).status;
}

beforeAll(async () => {
  const [db, nats] = await Promise.all([freshDatabase(), freshNats()]);
  [hook, fleet] = await Promise.all([httpReceiver(), startFleet({ devices: 1, tls: false })]);
  portal = await startPortal('alerts', {
    databaseUrl: db.appUrl,
    databaseOwnerUrl: db.ownerUrl,
    natsUrl: nats.url,
    natsWsUrl: nats.wsUrl,
  });
  stateDir = await mkdtemp(join(tmpdir(), 'tod-alerts-ui-'));
  ctx = await portal.newBrowser();
  await newClientAddress(ctx);
  pg = await ctx.newPage();
  watchPage(pg, seen);
  await enrolFirstAdmin(pg, portal.stack, PASSWORD);
  tenantId = await createTenant(pg, 'Acme Networks', 'acme');
}, 240_000);

afterEach(async (t) => {
  if (t.task.result?.state === 'fail') {
    const name = t.task.name.slice(0, 40).replace(/\W+/g, '-');
    if (pg) await portal.screenshot(pg, `failed-${name}`).catch(() => {});
    if (viewer) await portal.screenshot(viewer, `failed-viewer-${name}`).catch(() => {});
  }
});

afterAll(async () => {
  await viewerCtx?.close().catch(() => {});
  await collector?.stop(2000);
  await nc?.close();
  await fleet?.stop();
  await portal?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('alerting in the portal', { timeout: 120_000 }, () => {
  it('lets a super admin create, rename and switch organisations', async () => {
    await pg.goto('/dashboard');
    const nav = pg.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Organisations' }).click();
    await pg.waitForURL('**/admin/tenants');
    await pg.getByTestId('tenant-row').getByText('Acme Networks').waitFor();

    await pg.getByRole('button', { name: 'New organisation' }).click();
    const d = pg.getByRole('dialog', { name: 'New organisation' });
    await d.getByLabel('Name', { exact: true }).fill('Beta Fibre');
    await expect(d.getByLabel('Short name (URL)').inputValue()).resolves.toBe('beta-fibre');
    await d.getByRole('button', { name: 'Create organisation' }).click();
    const beta = pg.getByTestId('tenant-row').filter({ hasText: 'beta-fibre' });
    await beta.waitFor();

    await beta.getByRole('button', { name: 'Rename' }).click();
    const r = pg.getByRole('dialog', { name: 'Rename organisation' });
    await r.getByLabel('New name').fill('Beta Fibre & Co');
    await r.getByRole('button', { name: 'Rename' }).click();
    await beta.getByTestId('tenant-name').getByText('Beta Fibre & Co').waitFor();
    await portal.screenshot(pg, '01-organisations');

    // Working in Beta: the header's switcher follows; then back to Acme from the switcher.
    await beta.getByRole('button', { name: 'Work in this organisation' }).click();
    await pg.waitForURL('**/dashboard');
    await expect(pg.getByTestId('tenant-select').locator('option:checked').textContent()).resolves.toBe(
      'Beta Fibre & Co',
    );
    await pg.getByTestId('tenant-select').selectOption({ label: 'Acme Networks' });
    await expect(pg.evaluate(() => localStorage.getItem('tod.tenant'))).resolves.toBe(tenantId);
  });

  it('polls a simulated device through a collector enrolled via the portal', async () => {
    const created = await apiCall<{ id: string; enrollToken: string }>('POST', '/api/collectors', {
      name: 'Head office',
    });
    ({ nc, collector } = await startEnrolledCollector({
      edgeUrl: portal.stack.portalUrl,
      enrollToken: created.enrollToken,
      stateDir,
      clock,
    }));
    const sim = fleet.manifest.devices[0]!;
    deviceId = (
      await apiCall<{ id: string }>('POST', '/api/devices', {
        name: XSS_DEVICE,
        host: sim.host,
        port: sim.port,
        tlsMode: 'plain',
        collectorId: created.id,
        credentials: fleet.manifest.credentials,
      })
    ).id;
    await until(
      () => collector!.deviceCount,
      (n) => n === 1,
      30_000,
      'the collector to know the device',
    );
    await pollOnce();
    await until(deviceStatus, (s) => s === 'online', 30_000, 'the device online');
  });

  it('creates a webhook channel through the form and its test reaches the receiver', async () => {
    await pg.goto('/alerts');
    await pg
      .getByRole('navigation', { name: 'Alerting' })
      .getByRole('link', { name: 'Notification channels' })
      .click();
    await pg.waitForURL('**/alerts/channels');
    await pg.getByRole('button', { name: 'New channel' }).click();
    const d = pg.getByRole('dialog', { name: 'New notification channel' });
    await d.getByLabel('Name', { exact: true }).fill('NOC hook');
    await d.getByLabel('Kind').selectOption('webhook');
    await d.getByLabel('URL').fill(`${hook.url}/tod`);
    await d.getByLabel(/^Signing secret/).fill(HOOK_SECRET);
    await d.getByRole('button', { name: 'Save channel' }).click();
    const row = pg.getByTestId('channel-row').filter({ hasText: 'NOC hook' });
    await row.waitFor();
    await expect(row.getByTestId('channel-secret').textContent()).resolves.toBe('Signing secret: set');
    // The secret is write-only: nowhere on the page.
    expect(await pg.content()).not.toContain(HOOK_SECRET);

    await row.getByRole('button', { name: 'Send test' }).click();
    await row.getByTestId('test-result').getByText('Test delivered').waitFor();
    expect(hook.requests).toHaveLength(1);
    const req = hook.requests[0]!;
    expect(req.path).toBe('/tod');
    expect(req.headers['x-tod-signature']).toBe(
      `sha256=${createHmac('sha256', HOOK_SECRET).update(req.body).digest('hex')}`,
    );
    expect(AlertNotice.parse(JSON.parse(req.body))).toMatchObject({ event: 'test', tenantId });
    await portal.screenshot(pg, '02-channel-test-sent');
  });

  it('creates a device-offline rule with hysteresis and the channel through the form', async () => {
    await pg.getByRole('navigation', { name: 'Alerting' }).getByRole('link', { name: 'Rules' }).click();
    await pg.waitForURL('**/alerts/rules');
    await pg.getByRole('button', { name: 'New rule' }).click();
    const d = pg.getByRole('dialog', { name: 'New alert rule' });
    await d.getByLabel('Name', { exact: true }).fill(XSS_RULE);
    await d.getByLabel('Metric').selectOption('device_offline');
    expect(await d.getByLabel('Threshold').count()).toBe(0);
    await d.getByLabel('Severity').selectOption('critical');
    await d.getByLabel('Applies to').selectOption('device');
    await d.getByLabel('Find device').fill('onerror');
    await d.getByLabel('Device', { exact: true }).selectOption({ label: XSS_DEVICE });
    // Hysteresis defaults: fire after 2 breaches, clear after 2 clears.
    await expect(d.getByLabel(/^Fire after/).inputValue()).resolves.toBe('2');
    await expect(d.getByLabel(/^Clear after/).inputValue()).resolves.toBe('2');
    await d.getByLabel('NOC hook').check();
    await d.getByRole('button', { name: 'Save rule' }).click();
    const row = pg.getByTestId('rule-row').first();
    await expect(row.getByTestId('rule-name').textContent()).resolves.toBe(XSS_RULE);
    await row.getByText(`Device ${XSS_DEVICE}`).waitFor();
    await row.getByText('NOC hook').waitFor();
    expect(await pg.locator('img[src="x"]').count()).toBe(0);
    await portal.screenshot(pg, '03-rule');

    // A metric rule through the same form, edited afterwards, then deleted.
    await pg.getByRole('button', { name: 'New rule' }).click();
    await d.getByLabel('Name', { exact: true }).fill('CPU hot');
    await d.getByLabel('Metric').selectOption('cpu_load');
    await d.getByLabel('Comparison').selectOption('gt');
    await d.getByLabel('Threshold').fill('95');
    await d.getByRole('button', { name: 'Save rule' }).click();
    const cpu = pg.getByTestId('rule-row').filter({ hasText: 'CPU hot' });
    await cpu.getByText('CPU load (%) > 95').waitFor();
    await cpu.getByRole('button', { name: 'Edit' }).click();
    const e = pg.getByRole('dialog', { name: 'Edit alert rule' });
    await e.getByLabel('Threshold').fill('97.5');
    await e.getByRole('button', { name: 'Save rule' }).click();
    await cpu.getByText('CPU load (%) > 97.5').waitFor();
    await cpu.getByRole('button', { name: 'Delete' }).click();
    await pg
      .getByRole('dialog', { name: 'Delete alert rule' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await cpu.waitFor({ state: 'detached' });
  });

  it('shows a viewer the alerting pages without a single control', async () => {
    const link = await inviteLink(pg, tenantId, 'vera@acme.example', 'viewer');
    viewerCtx = await portal.newBrowser();
    await newClientAddress(viewerCtx);
    viewer = await viewerCtx.newPage();
    watchPage(viewer, seen);
    await acceptInvitation(viewer, link, 'Vera Viewer', 'viewer password 123');
    const nav = viewer.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link', { name: 'Organisations' }).count()).toBe(0);
    await nav.getByRole('link', { name: 'Alerts' }).click();
    const tabs = viewer.getByRole('navigation', { name: 'Alerting' });
    await tabs.getByRole('link', { name: 'Rules' }).click();
    const row = viewer.getByTestId('rule-row').first();
    await expect(row.getByTestId('rule-name').textContent()).resolves.toBe(XSS_RULE);
    expect(await viewer.getByRole('button', { name: 'New rule' }).count()).toBe(0);
    expect(await viewer.getByRole('button', { name: 'Edit' }).count()).toBe(0);
    expect(await viewer.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    expect(await viewer.getByRole('checkbox').count()).toBe(0);
    expect(await tabs.getByRole('link', { name: 'Notification channels' }).count()).toBe(0);
    await tabs.getByRole('link', { name: 'Maintenance windows' }).click();
    await viewer.getByTestId('windows-table').waitFor();
    expect(await viewer.getByRole('button', { name: 'New window' }).count()).toBe(0);
    await viewer.goto('/admin/tenants');
    await viewer.getByText('Only super admins manage organisations.').waitFor();
    expect(await viewer.getByRole('button', { name: 'New organisation' }).count()).toBe(0);
    await portal.screenshot(viewer, '04-viewer-rules');
    await viewer.goto('/alerts');
    await viewer.getByTestId('alerts-empty').waitFor();
    await viewer.getByTestId('live-status').getByText('Live', { exact: true }).waitFor({ timeout: 30_000 });
  });

  it('shows the alert live when the simulated device goes down, acknowledges it, and it resolves when the device returns', async () => {
    await pg.goto('/alerts');
    await pg.getByTestId('alerts-empty').waitFor();
    await pg.getByTestId('live-status').getByText('Live', { exact: true }).waitFor({ timeout: 30_000 });
    await portal.screenshot(pg, '05-no-alerts');

    // Down in the simulator: the first failed poll is not yet an alert (fire after 2), the second fires.
    await fleet.device(0).setFaults({ unreachable: true });
    await pollOnce();
    await until(deviceStatus, (s) => s === 'unreachable', 30_000, 'the device unreachable');
    expect(await pg.getByTestId('alert-row').count()).toBe(0);
    await pollOnce();
    const row = pg.getByTestId('alert-row').first();
    await row.waitFor({ timeout: 30_000 });
    await expect(row.getByTestId('alert-rule').textContent()).resolves.toBe(XSS_RULE);
    await expect(row.getByTestId('alert-device').textContent()).resolves.toBe(XSS_DEVICE);
    await row.getByTestId('alert-state').getByText('Firing').waitFor();
    await pg.getByText('critical', { exact: true }).first().waitFor();
    expect(await pg.locator('img[src="x"]').count()).toBe(0);
    await portal.screenshot(pg, '06-alert-live');

    // The viewer's page got it live too, and offers no acknowledge or resolve.
    const vRow = viewer.getByTestId('alert-row').first();
    await vRow.waitFor({ timeout: 30_000 });
    expect(await viewer.getByRole('button', { name: /^Acknowledge/ }).count()).toBe(0);
    expect(await viewer.getByRole('button', { name: /^Resolve/ }).count()).toBe(0);

    // The rule's webhook got the firing notice.
    await until(
      () => hook.requests.length,
      (n) => n >= 2,
      30_000,
      'the firing notification',
    );
    expect(AlertNotice.parse(JSON.parse(hook.requests[1]!.body))).toMatchObject({
      event: 'firing',
      alert: { deviceId, deviceName: XSS_DEVICE },
    });

    // Acknowledged in the UI: the state changes here and, over SSE, on the viewer's page.
    await row.getByRole('button', { name: 'Acknowledge…' }).click();
    const ack = pg.getByRole('dialog', { name: 'Acknowledge alert' });
    await ack.getByLabel(/^Note/).fill('on my way to the site');
    await ack.getByRole('button', { name: 'Acknowledge' }).click();
    await row.getByTestId('alert-state').getByText('acknowledged').waitFor();
    expect(await row.getByRole('button', { name: /^Acknowledge/ }).count()).toBe(0);
    await vRow.getByTestId('alert-state').getByText('acknowledged').waitFor({ timeout: 30_000 });
    await portal.screenshot(pg, '07-alert-acknowledged');
    await portal.screenshot(viewer, '08-viewer-alert-acknowledged');

    // The dashboard card counts it and links here.
    await pg.goto('/dashboard');
    const card = pg.getByTestId('active-alerts');
    await card.getByTestId('active-alerts-count').getByText('1').waitFor();
    await portal.screenshot(pg, '08b-dashboard-active-alerts');
    await card.getByRole('link', { name: 'Active alerts' }).click();
    await pg.waitForURL('**/alerts');
    await row.waitFor();

    // Back in the simulator: resolves after two good polls, and leaves the active list live.
    await fleet.device(0).clearFaults();
    await pollOnce();
    await until(deviceStatus, (s) => s === 'online', 30_000, 'the device back online');
    await pollOnce();
    await pg.getByTestId('alerts-empty').waitFor({ timeout: 30_000 });
    await pg.getByTestId('filter-state').selectOption('resolved');
    const done = pg.getByTestId('alert-row').first();
    await done.getByTestId('alert-state').getByText('Resolved').waitFor();
    await done.getByTestId('alert-state').getByText('cleared').waitFor();
    await portal.screenshot(pg, '09-alert-resolved');
  });

  it('resolves an alert by hand with a note', async () => {
    await fleet.device(0).setFaults({ unreachable: true });
    await pollOnce();
    await pollOnce();
    await pg.getByTestId('filter-state').selectOption('firing');
    const row = pg.getByTestId('alert-row').first();
    await row.waitFor({ timeout: 30_000 });
    await row.getByRole('button', { name: 'Resolve…' }).click();
    const d = pg.getByRole('dialog', { name: 'Resolve alert' });
    await d.getByLabel(/^Note/).fill('switch replaced');
    await d.getByRole('button', { name: 'Resolve' }).click();
    await pg.getByTestId('alerts-empty').waitFor();
    await pg.getByTestId('filter-state').selectOption('all');
    await pg.getByTestId('alert-row').first().getByText('by hand').waitFor();
    const trail = await apiCall<{ items: { action: string; details: unknown }[] }>(
      'GET',
      '/api/audit-logs?action=alert.resolve',
    );
    expect(trail.items[0]?.details).toEqual({ note: 'switch replaced' });
    const acks = await apiCall<{ items: { details: unknown }[] }>(
      'GET',
      '/api/audit-logs?action=alert.acknowledge',
    );
    expect(acks.items[0]?.details).toEqual({ note: 'on my way to the site' });
    await fleet.device(0).clearFaults();
  });

  it('schedules a one-off and a weekly maintenance window; the one-off is active now', async () => {
    await pg
      .getByRole('navigation', { name: 'Alerting' })
      .getByRole('link', { name: 'Maintenance windows' })
      .click();
    await pg.waitForURL('**/alerts/maintenance');
    await pg.getByRole('button', { name: 'New window' }).click();
    const d = pg.getByRole('dialog', { name: 'New maintenance window' });
    await d.getByLabel('Name', { exact: true }).fill('Core swap');
    await d.getByLabel('Covers').selectOption('device');
    await d.getByLabel('Device', { exact: true }).selectOption({ label: XSS_DEVICE });
    await d.getByRole('button', { name: 'Create window' }).click();
    const once = pg.getByTestId('window-row').filter({ hasText: 'Core swap' });
    await once.getByTestId('window-active').getByText('Active now').waitFor();
    await once.getByText(`Device ${XSS_DEVICE}`).waitFor();

    await pg.getByRole('button', { name: 'New window' }).click();
    await d.getByLabel('Name', { exact: true }).fill('Sunday nights');
    await d.getByLabel('Repeats').selectOption('weekly');
    await d.getByLabel('Sun').check();
    await d.getByLabel('Start time').fill('02:00');
    await d.getByLabel('Duration (minutes)').fill('90');
    await d.getByLabel('Time zone').fill('Europe/Vienna');
    await d.getByRole('button', { name: 'Create window' }).click();
    const weekly = pg.getByTestId('window-row').filter({ hasText: 'Sunday nights' });
    await weekly.getByText('Weekly: Sun at 02:00 for 90 min (Europe/Vienna)').waitFor();
    await weekly.getByText('Whole fleet').waitFor();
    expect(await pg.locator('img[src="x"]').count()).toBe(0);
    await portal.screenshot(pg, '10-maintenance');
  });

  it('gives a tenant admin no organisations page', async () => {
    const link = await inviteLink(pg, tenantId, 'ada@acme.example', 'admin');
    const other = await portal.newBrowser();
    await newClientAddress(other);
    try {
      const p = await other.newPage();
      watchPage(p, seen);
      await acceptInvitation(p, link, 'Ada Admin', 'admin password 1234');
      const nav = p.getByRole('navigation', { name: 'Main' });
      await nav.getByRole('link', { name: 'Users' }).waitFor();
      expect(await nav.getByRole('link', { name: 'Organisations' }).count()).toBe(0);
      expect(await p.getByTestId('tenant-select').count()).toBe(0);
      await p.goto('/admin/tenants');
      await p.getByText('Only super admins manage organisations.').waitFor();
      expect(await p.getByTestId('tenants-table').count()).toBe(0);
      // An admin does manage channels: the Send test control is there.
      await p.goto('/alerts/channels');
      await p.getByTestId('channel-row').getByRole('button', { name: 'Send test' }).waitFor();
      // Its deliveries: the test and the firing and resolved notices, all sent.
      await p.getByTestId('channel-row').getByRole('button', { name: 'Deliveries' }).click();
      const dl = p.getByTestId('deliveries');
      await dl.getByRole('cell', { name: 'test', exact: true }).waitFor();
      await dl.getByRole('cell', { name: 'firing', exact: true }).first().waitFor();
      expect(await dl.getByRole('cell', { name: 'failed' }).count()).toBe(0);
      await portal.screenshot(p, '11-admin-no-organisations');
    } finally {
      await other.close();
    }
  });

  it('ran without script errors, CSP violations or dialogs', () => {
    expect(seen.pageErrors).toEqual([]);
    expect(seen.dialogs).toEqual([]);
  });
});
