// Configuration management in Debian's Chromium against the real stack (Postgres, NATS, wrangler dev with web +
// edge) with a simulated router polled by a real collector enrolled through the portal's edge: the backup
// history and its diff viewer (a change on the device gives a second version), the editor with safe apply and
// Confirm, and a Simple Config change through safe apply. Each step asserts what the page shows and saves a
// screenshot under web/test-output/config/. The steps share one stack and run in order.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../collector/src/clock';
import type { Collector } from '../../collector/src/collector';
import { RouterSession } from '../../collector/src/routeros/session';
import { startEnrolledCollector, stepWhenIdle } from '../../collector/tests/harness';
import { type Fleet, startFleet } from '../../simulator/src/fleet';
import { freshDatabase, freshNats } from '../../tests/env';
import { createTenant, enrolFirstAdmin, type Portal, startPortal } from './browser';

const PASSWORD = 'correct horse battery staple';
// The edge registers devices with a 60 s poll interval.
const POLL_STEP_MS = 61_000;

let portal: Portal;
let ctx: BrowserContext;
let pg: Page;
let fleet: Fleet;
let nc: NatsConnection | undefined;
let collector: Collector | undefined;
let device: RouterSession;
let stateDir = '';
let tenantId = '';
let deviceId = '';
const clock = new ManualClock(Date.now());
const pageErrors: string[] = [];

/** A JSON API call in the page's session, in the test tenant. */
async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const out = await pg.evaluate(
    async ({ method, path, body, tenant }) => {
      const res = await fetch(path, {
        method,
        headers: { 'content-type': 'application/json', 'x-tenant-id': tenant },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, text: await res.text() };
    },
    { method, path, body, tenant: tenantId },
  );
  if (out.status >= 300) throw new Error(`${method} ${path}: HTTP ${out.status} ${out.text}`);
  return JSON.parse(out.text) as T;
}

/** Advances the collector's clock a poll at a time until the device has `n` configuration versions. */
async function untilSnapshots(n: number): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const { items } = await call<{ items: unknown[] }>('GET', `/api/devices/${deviceId}/config/snapshots`);
    if (items.length >= n) return;
    await stepWhenIdle(collector!, clock, POLL_STEP_MS);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the device never had ${n} configuration versions`);
}

async function deviceRows(path: string): Promise<Record<string, string>[]> {
  return (await device.run(`${path}/print`)) as Record<string, string>[];
}

beforeAll(async () => {
  const [db, nats] = await Promise.all([freshDatabase(), freshNats()]);
  [portal, fleet] = await Promise.all([
    startPortal('config', {
      databaseUrl: db.appUrl,
      databaseOwnerUrl: db.ownerUrl,
      natsUrl: nats.url,
      natsWsUrl: nats.wsUrl,
    }),
    startFleet({ devices: 1, tls: false }),
  ]);
  ctx = await portal.newBrowser();
  await ctx.setExtraHTTPHeaders({ 'cf-connecting-ip': '198.51.100.77' });
  pg = await ctx.newPage();
  pg.on('pageerror', (e) => pageErrors.push(e.message));
  await enrolFirstAdmin(pg, portal.stack, PASSWORD);
  tenantId = await createTenant(pg, 'Config Org', 'config-org');

  const col = await call<{ id: string; enrollToken: string }>('POST', '/api/collectors', { name: 'site' });
  const sim = fleet.manifest.devices[0]!;
  deviceId = (
    await call<{ id: string }>('POST', '/api/devices', {
      name: 'sim-config',
      host: sim.host,
      port: sim.port,
      tlsMode: 'plain',
      collectorId: col.id,
      credentials: fleet.manifest.credentials,
    })
  ).id;
  stateDir = await mkdtemp(join(tmpdir(), 'tod-web-config-'));
  ({ nc, collector } = await startEnrolledCollector({
    edgeUrl: portal.stack.portalUrl,
    enrollToken: col.enrollToken,
    stateDir,
    clock,
    env: { BACKUP_STARTUP_SPREAD_S: '0' },
  }));
  device = await RouterSession.open(
    { host: sim.host, port: sim.port, tlsPort: sim.port, tlsMode: 'plain', ...fleet.manifest.credentials },
    { connectTimeoutMs: 5000, commandTimeoutMs: 5000 },
  );
}, 300_000);

afterEach(async (t) => {
  if (t.task.result?.state === 'fail' && pg) {
    await portal.screenshot(pg, `failed-${t.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
  }
});

afterAll(async () => {
  device?.close();
  await collector?.stop(2000).catch(() => {});
  await nc?.close().catch(() => {});
  await fleet?.stop();
  await portal?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('configuration management in Chromium', { timeout: 180_000 }, () => {
  it('shows the backup history and the diff of a change, side by side and unified', async () => {
    await untilSnapshots(1);
    await device.run('/ip/firewall/address-list/add', { list: 'mgmt', address: '203.0.113.0/24' });
    await untilSnapshots(2);

    await pg.goto(`/devices/${deviceId}/backups`);
    await pg.getByRole('heading', { name: 'History' }).waitFor();
    const table = pg.getByTestId('snapshots');
    await table.getByText('v2', { exact: true }).waitFor();
    await expect(table.getByText('v1', { exact: true }).count()).resolves.toBe(1);
    await expect(table.getByText('change').count()).resolves.toBeGreaterThan(0);

    const diff = pg.getByTestId('diff');
    await diff.waitFor();
    await expect(pg.getByTestId('diff-stats').textContent()).resolves.toMatch(/\+1\s+−0 lines, v1 → v2/);
    expect(await diff.getAttribute('data-mode')).toBe('split');
    const added = diff.locator('td.ins', { hasText: 'list=mgmt address=203.0.113.0/24' });
    await expect(added.count()).resolves.toBe(1);
    // Unchanged lines far from the change are folded behind a button.
    const fold = diff.getByRole('button', { name: /Show \d+ unchanged lines/ }).first();
    await fold.waitFor();
    await portal.screenshot(pg, '01-diff-side-by-side');

    await pg.getByRole('button', { name: 'Unified' }).click();
    await expect(diff.getAttribute('data-mode')).resolves.toBe('unified');
    const plus = diff.locator('tr[data-sign="+"]');
    await expect(plus.count()).resolves.toBe(1);
    await expect(plus.textContent()).resolves.toContain('add list=mgmt address=203.0.113.0/24');
    const before = await diff.locator('tr').count();
    await diff
      .getByRole('button', { name: /Show \d+ unchanged lines/ })
      .first()
      .click();
    await expect.poll(() => diff.locator('tr').count()).toBeGreaterThan(before);
    await portal.screenshot(pg, '02-diff-unified');

    // Any version downloads as its export text.
    const [download] = await Promise.all([
      pg.waitForEvent('download'),
      pg.getByRole('button', { name: 'Download v2' }).click(),
    ]);
    const path = await download.path();
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(path, 'utf8')).toContain('add list=mgmt address=203.0.113.0/24');
  });

  it('edits a menu in the editor and keeps the change with safe apply and Confirm', async () => {
    await pg.goto(`/devices/${deviceId}/config`);
    await pg.getByLabel('Menu path', { exact: true }).selectOption('/ip/address');
    const table = pg.getByTestId('menu-table');
    await table.waitFor();
    await pg.getByRole('button', { name: 'Add', exact: true }).click();
    const dialog = pg.getByRole('dialog');
    await dialog.getByLabel('address', { exact: true }).fill('10.99.0.1/24');
    await dialog.getByLabel('interface', { exact: true }).fill('ether2');
    await dialog.getByRole('button', { name: 'Add to pending changes' }).click();
    await expect(pg.getByTestId('pending').textContent()).resolves.toContain(
      '/ip address add address=10.99.0.1/24 interface=ether2',
    );
    await expect
      .poll(() => pg.getByTestId('preview').textContent())
      .toBe('/ip address add address=10.99.0.1/24 interface=ether2');
    await portal.screenshot(pg, '03-editor-preview');

    await pg.getByRole('button', { name: 'Safe apply' }).click();
    const state = pg.getByTestId('operation-state');
    await state.getByText('Pending confirmation').waitFor({ timeout: 30_000 });
    await expect(pg.getByTestId('countdown').textContent()).resolves.toMatch(/^\d+:\d\d$/);
    // The table reads the device again once the change is on it.
    await table.getByText('10.99.0.1/24').waitFor();
    await state.scrollIntoViewIfNeeded();
    await portal.screenshot(pg, '04-editor-pending-confirmation');

    await pg.getByRole('button', { name: 'Confirm' }).click();
    await state.getByText('Confirmed').waitFor({ timeout: 30_000 });
    expect((await deviceRows('/ip/address')).some((r) => r.address === '10.99.0.1/24')).toBe(true);
    await state.scrollIntoViewIfNeeded();
    await portal.screenshot(pg, '05-editor-confirmed');
  });

  it('changes the DNS servers in Simple Config through safe apply', async () => {
    await pg.goto(`/devices/${deviceId}/simple`);
    await pg.getByRole('tab', { name: 'DNS' }).click();
    const servers = pg.getByLabel('DNS servers', { exact: true });
    await servers.waitFor();
    await servers.fill('9.9.9.9, 1.1.1.1');
    await expect
      .poll(() => pg.getByTestId('preview').textContent())
      .toBe('/ip dns set servers=9.9.9.9,1.1.1.1');
    await portal.screenshot(pg, '06-simple-dns-preview');
    await pg.getByRole('button', { name: 'Safe apply' }).click();
    const state = pg.getByTestId('operation-state');
    await state.getByText('Pending confirmation').waitFor({ timeout: 30_000 });
    await pg.getByRole('button', { name: 'Confirm' }).click();
    await state.getByText('Confirmed').waitFor({ timeout: 30_000 });
    expect((await deviceRows('/ip/dns'))[0]?.servers).toBe('9.9.9.9,1.1.1.1');
    // The form reads the device again: nothing left to apply.
    await expect.poll(() => servers.inputValue()).toBe('9.9.9.9, 1.1.1.1');
    await pg.getByText('No pending changes.').waitFor();
    await portal.screenshot(pg, '07-simple-dns-confirmed');
  });

  it('restores the first version through safe apply from the backup history', async () => {
    await pg.goto(`/devices/${deviceId}/backups`);
    await pg.getByRole('button', { name: 'Restore v1' }).click();
    const dialog = pg.getByRole('dialog');
    await dialog.getByText('through safe apply').waitFor();
    await portal.screenshot(pg, '08-restore-dialog');
    await dialog.getByRole('button', { name: 'Restore with safe apply' }).click();
    const state = pg.getByTestId('operation-state');
    await state.getByText('Pending confirmation').waitFor({ timeout: 60_000 });
    await pg.getByRole('button', { name: 'Confirm' }).click();
    await state.getByText('Confirmed').waitFor({ timeout: 30_000 });
    const lists = await deviceRows('/ip/firewall/address-list');
    expect(lists.some((r) => r.address === '203.0.113.0/24')).toBe(false);
    expect(lists.some((r) => r.address === '10.0.0.0/8')).toBe(true);
    await portal.screenshot(pg, '09-restore-confirmed');
    expect(pageErrors).toEqual([]);
  });
});
