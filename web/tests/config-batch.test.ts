// Config → Batch in Debian's Chromium against the real stack (Postgres, NATS, wrangler dev with web + edge),
// with simulated devices polled by a collector enrolled through the portal's URL: pick devices in the device
// table, run a bulk CLI command, watch per-device progress arrive live, read the report with the outputs
// grouped; write a template with typed variables and preview it per device. Screenshots under
// web/test-output/config-batch/.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../collector/src/clock';
import type { Collector } from '../../collector/src/collector';
import { startEnrolledCollector } from '../../collector/tests/harness';
import { type Fleet, startFleet } from '../../simulator/src/fleet';
import { freshDatabase, freshNats } from '../../tests/env';
import { createTenant, enrolFirstAdmin, type Portal, startPortal } from './browser';

// The scale: a batch over 200 simulated devices, watched live in the browser.
const DEVICES = 200;
const CCR = Math.ceil(DEVICES / 3);
let portal: Portal;
let ctx: BrowserContext;
let pg: Page;
let fleet: Fleet;
let nc: NatsConnection;
let collector: Collector;
let stateDir = '';
let tenantId = '';
const pageErrors: string[] = [];

async function apiCall<T>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  return pg.evaluate(
    async ({ method, path, body, tenant }) => {
      const res = await fetch(path, {
        method,
        headers: { 'content-type': 'application/json', 'x-tenant-id': tenant },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json().catch(() => null)) as never };
    },
    { method, path, body, tenant: tenantId },
  );
}

beforeAll(async () => {
  const [db, nats] = await Promise.all([freshDatabase(), freshNats()]);
  const overrides = Object.fromEntries(
    Array.from({ length: DEVICES }, (_, i) => [i, { board: i % 3 === 0 ? 'ccr2004' : 'rb5009' }]),
  );
  [portal, fleet] = await Promise.all([
    startPortal('config-batch', {
      databaseUrl: db.appUrl,
      databaseOwnerUrl: db.ownerUrl,
      natsUrl: nats.url,
      natsWsUrl: nats.wsUrl,
    }),
    startFleet({ devices: DEVICES, tls: false, overrides }),
  ]);
  ctx = await portal.newBrowser();
  await ctx.setExtraHTTPHeaders({ 'cf-connecting-ip': '198.51.100.77' });
  pg = await ctx.newPage();
  pg.on('pageerror', (e) => pageErrors.push(e.message));
  await enrolFirstAdmin(pg, portal.stack, 'correct horse battery staple');
  tenantId = await createTenant(pg, 'Batch Networks', 'batch-networks');

  const col = await apiCall<{ id: string; enrollToken: string }>('POST', '/api/collectors', {
    name: 'lab',
    site: 'Lab',
  });
  expect(col.status).toBe(201);
  for (const sim of fleet.manifest.devices) {
    const res = await apiCall('POST', '/api/devices', {
      name: `rtr-${String(sim.index).padStart(2, '0')}`,
      host: sim.host,
      port: sim.port,
      tlsMode: 'plain',
      collectorId: col.body.id,
      credentials: fleet.manifest.credentials,
    });
    expect(res.status).toBe(201);
  }
  stateDir = await mkdtemp(join(tmpdir(), 'tod-config-batch-web-'));
  ({ nc, collector } = await startEnrolledCollector({
    edgeUrl: portal.stack.portalUrl,
    enrollToken: col.body.enrollToken,
    stateDir,
    clock: systemClock,
  }));
  const deadline = Date.now() + 60_000;
  while (collector.deviceCount < DEVICES) {
    if (Date.now() > deadline) throw new Error('the collector did not learn the devices');
    await new Promise((r) => setTimeout(r, 100));
  }
}, 300_000);

afterEach(async (t) => {
  if (t.task.result?.state === 'fail' && pg)
    await portal.screenshot(pg, `failed-${t.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  await collector?.stop(2000);
  await nc?.close();
  await fleet?.stop();
  await portal?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('Config → Batch', () => {
  it('runs a bulk CLI command on devices picked in the table, with live per-device progress and grouped output', async () => {
    await pg.goto('/devices');
    await pg
      .getByTestId('device-count')
      .getByText(`${DEVICES} of ${DEVICES} devices`)
      .waitFor({ timeout: 60_000 });
    await pg.getByLabel('Select all shown').check();
    await pg.getByTestId('bulk-bar').getByText(`${DEVICES} selected`).waitFor();
    await pg.getByTestId('bulk-config').click();
    await pg.waitForURL('**/config/batch?from=selection');
    await pg.getByTestId('selected-devices').getByText('rtr-00', { exact: false }).waitFor();
    await pg.getByLabel('CLI command (output per device)').check();
    await pg.getByRole('textbox', { name: 'Command' }).fill('/system resource print .proplist=board-name');
    // Ten devices at a time, each answering slowly, so the report opens while devices are still waiting.
    await pg.getByLabel('Devices at a time').fill('10');
    for (const d of fleet.devices) await d.setFaults({ latencyMs: 250 });
    await portal.screenshot(pg, '01-batch-form');
    await pg.getByTestId('run-batch').click();
    await pg.waitForURL(/\/config\/batch\/[0-9a-f-]{36}$/);

    // Live: devices turn from waiting to succeeded while the batch runs (SSE config-batch events).
    await pg.getByTestId('batch-state').getByText('running').waitFor();
    await pg.locator('tr[data-state="succeeded"]').first().waitFor({ timeout: 60_000 });
    expect(await pg.locator('tr[data-state="pending"]').count()).toBeGreaterThan(0);
    await portal.screenshot(pg, '02-batch-live-progress');

    await pg.getByTestId('batch-state').getByText('completed').waitFor({ timeout: 120_000 });
    for (const d of fleet.devices) await d.clearFaults();
    await pg.getByTestId('batch-counts').getByText(`${DEVICES} succeeded`).waitFor();
    const groups = pg.getByTestId('output-groups');
    await groups.getByText(`${DEVICES - CCR} devices`).waitFor();
    await groups.getByText(`${CCR} devices`).waitFor();
    await pg
      .getByTestId('group-output')
      .getByText(`board-name=${fleet.manifest.devices[1]!.boardName}`)
      .waitFor();
    await portal.screenshot(pg, '03-batch-report-grouped');
  }, 240_000);

  it('writes a template with typed variables and previews it per device', async () => {
    await pg.goto('/config/templates/new');
    await pg.getByLabel('Name', { exact: true }).fill('Uplink VLAN');
    await pg
      .getByLabel(/^Body/)
      .fill(
        '/interface vlan add name=vlan{{vlan}} vlan-id={{vlan}} interface=ether1 comment="{{identity}} uplink"',
      );
    await pg.getByRole('button', { name: 'Add as variables' }).click();
    const editor = pg.getByTestId('variable-editor');
    await editor.getByLabel('Type').first().selectOption('integer');
    await editor.getByLabel('Maximum').fill('4094');
    await editor.getByLabel('Device fact').nth(1).selectOption('identity');
    await portal.screenshot(pg, '04-template-editor');
    await pg.getByTestId('save-template').click();
    await pg.waitForURL(/\/config\/templates\/[0-9a-f-]{36}$/);
    await pg.getByTestId('preview-devices').selectOption([{ label: 'rtr-00' }, { label: 'rtr-01' }]);
    await pg.getByLabel('vlan', { exact: true }).fill('120');
    await pg.getByRole('button', { name: 'Preview', exact: true }).click();
    const preview = pg.getByTestId('template-preview');
    await preview
      .getByText('/interface vlan add name=vlan120 vlan-id=120 interface=ether1 comment="rtr-01 uplink"')
      .waitFor();
    await portal.screenshot(pg, '05-template-preview');
    await pg.getByLabel('vlan', { exact: true }).fill('5000');
    await pg.getByRole('button', { name: 'Preview', exact: true }).click();
    await preview.getByText('vlan: must be at most 4094').first().waitFor();
  });

  it('shows a viewer the reports and templates but no control to run, cancel or edit', async () => {
    const inv = await apiCall<{ token: string; email: string }>('POST', '/api/invitations', {
      email: 'viewer@batch.example',
      role: 'viewer',
    });
    expect(inv.status).toBe(201);
    const other = await portal.newBrowser();
    await other.setExtraHTTPHeaders({ 'cf-connecting-ip': '198.51.100.78' });
    try {
      const p = await other.newPage();
      p.on('pageerror', (e) => pageErrors.push(e.message));
      await p.goto(`/invite?${new URLSearchParams({ token: inv.body.token, email: inv.body.email })}`);
      await p.getByLabel('Your name').fill('Vera Viewer');
      await p.getByLabel('Password', { exact: true }).fill('viewer password 123');
      await p.getByLabel('Repeat the password').fill('viewer password 123');
      await p.getByRole('button', { name: 'Join' }).click();
      await p.getByRole('heading', { name: 'Save your Emergency Kit' }).waitFor({ timeout: 30_000 });
      await p.getByLabel('I have saved my Emergency Kit').check();
      await p.getByRole('button', { name: 'Continue' }).click();
      await p.waitForURL('**/dashboard');
      await p.goto('/config/batch');
      await p.getByTestId('batch-list').waitFor();
      expect(await p.getByTestId('batch-form').count()).toBe(0);
      expect(await p.getByTestId('run-batch').count()).toBe(0);
      await p.getByTestId('batch-list').getByRole('link').first().click();
      await p.getByTestId('batch-state').getByText('completed').waitFor();
      expect(await p.getByTestId('cancel-batch').count()).toBe(0);
      expect(await p.getByTestId('confirm-batch').count()).toBe(0);
      await portal.screenshot(p, '06-viewer-report');
      await p.goto('/config/templates');
      await p.getByTestId('template-list').getByRole('link', { name: 'Uplink VLAN' }).click();
      await p.getByTestId('template-form').waitFor();
      expect(await p.getByTestId('save-template').count()).toBe(0);
      expect(await p.getByRole('link', { name: 'New template' }).count()).toBe(0);
    } finally {
      await other.close();
    }
  }, 120_000);

  it('ran without script errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
