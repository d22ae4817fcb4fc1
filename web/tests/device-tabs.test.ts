// The device page's tabs in Debian's Chromium against the real stack (Postgres, NATS, wrangler dev with web +
// edge), fed by a collector enrolled through the portal that polls a simulated wireless access point (wap-ac,
// with an lhg-5 station registered to it). Each tab is asserted on what it shows; the interfaces tab is
// watched while the simulator changes (an interface disabled, new samples) and must follow without a reload.
// A device and an interface named like markup render as text. Screenshots in web/test-output/device-tabs/.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../collector/src/clock';
import type { Collector } from '../../collector/src/collector';
import { startEnrolledCollector, stepWhenIdle } from '../../collector/tests/harness';
import { type Fleet, startFleet } from '../../simulator/src/fleet';
import { freshDatabase, freshNats } from '../../tests/env';
import { apiInPage, createTenant, enrolFirstAdmin, type Portal, startPortal, watchPage } from './browser';

const XSS = '<img src=x onerror=alert(1)>';
const PASSWORD = 'correct horse battery staple';
// The edge registers devices with a 60 s poll interval; the collector's clock is stepped past it. It starts in
// the past so that the samples of the steps this file takes are not in the future for the charts.
const POLL_STEP_MS = 61_000;
const clock = new ManualClock(Date.now() - 20 * 60_000);

let portal: Portal;
let pg: Page;
let fleet: Fleet;
let nc: NatsConnection | undefined;
let collector: Collector | undefined;
let stateDir = '';
let deviceId = '';
const pageErrors: string[] = [];
const dialogs: string[] = [];

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

type Points = { points: { t: string; rxBpsAvg?: number | null; interface?: string }[] };
const metrics = (kind: string) =>
  apiInPage<Points>(
    pg,
    'GET',
    `/api/devices/${deviceId}/metrics?kind=${kind}&from=${new Date(Date.now() - 3 * 3_600_000).toISOString()}`,
    undefined,
    200,
  );

/** One poll: the collector's clock passes the interval, then the sample it took is stored. */
async function pollStep(): Promise<void> {
  const before = (await metrics('resource')).points.length;
  await stepWhenIdle(collector!, clock, POLL_STEP_MS);
  await waitFor('the poll to be stored', async () => (await metrics('resource')).points.length > before);
}

const points = (chart: Locator) => chart.getAttribute('data-points').then(Number);

beforeAll(async () => {
  const [db, nats] = await Promise.all([freshDatabase(), freshNats()]);
  [portal, fleet] = await Promise.all([
    startPortal('device-tabs', {
      databaseUrl: db.appUrl,
      databaseOwnerUrl: db.ownerUrl,
      natsUrl: nats.url,
      natsWsUrl: nats.wsUrl,
    }),
    startFleet({ devices: 2, boards: ['wap-ac', 'lhg-5'], tls: false }),
  ]);
  // An interface named like markup, on the access point the portal shows.
  const ap = fleet.device(0).device;
  ap.insert('interface', {
    name: XSS,
    type: 'vlan',
    mtu: '1500',
    'actual-mtu': '1500',
    'mac-address': ap.mac(9),
    running: 'true',
    disabled: 'false',
    'vlan-id': '99',
    interface: 'ether1',
    _slot: '9',
  });
  stateDir = await mkdtemp(join(tmpdir(), 'tod-device-tabs-'));

  const ctx = await portal.newBrowser();
  await ctx.setExtraHTTPHeaders({ 'cf-connecting-ip': '198.51.100.77' });
  pg = await ctx.newPage();
  watchPage(pg, { pageErrors, dialogs });
  await enrolFirstAdmin(pg, portal.stack, PASSWORD);
  await createTenant(pg, 'Acme Networks', 'acme');

  const created = await apiInPage<{ id: string; enrollToken: string }>(
    pg,
    'POST',
    '/api/collectors',
    { name: 'Head office' },
    201,
  );
  ({ nc, collector } = await startEnrolledCollector({
    edgeUrl: portal.stack.portalUrl,
    enrollToken: created.enrollToken,
    stateDir,
    clock,
  }));
  const sim = fleet.manifest.devices[0]!;
  ({ id: deviceId } = await apiInPage<{ id: string }>(
    pg,
    'POST',
    '/api/devices',
    {
      name: XSS,
      host: sim.host,
      port: sim.port,
      tlsMode: 'plain',
      collectorId: created.id,
      credentials: fleet.manifest.credentials,
    },
    201,
  ));
  // An alert that fires on the first sample, so the device has a stored event to list.
  await apiInPage(
    pg,
    'POST',
    '/api/alert-rules',
    {
      name: 'CPU watch',
      metric: 'cpu_load',
      comparison: 'gte',
      threshold: 0,
      severity: 'critical',
      scope: 'device',
      scopeTargetId: deviceId,
      fireAfter: 1,
    },
    201,
  );
  await waitFor('the collector to know the device', async () => collector?.deviceCount === 1);
  // Three polls: rates need two samples; wireless registrations come with each.
  await stepWhenIdle(collector!, clock, POLL_STEP_MS);
  await waitFor('the first poll', async () => (await metrics('resource')).points.length > 0);
  await pollStep();
  await pollStep();
  await waitFor('stored interface rates', async () =>
    (await metrics('interfaces')).points.some((p) => (p.rxBpsAvg ?? 0) > 0),
  );
}, 300_000);

afterEach(async (t) => {
  if (t.task.result?.state === 'fail' && pg) {
    await portal.screenshot(pg, `failed-${t.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
  }
});

afterAll(async () => {
  await collector?.stop(2000);
  await nc?.close();
  await fleet?.stop();
  await portal?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('the device page tabs in Chromium', { timeout: 120_000 }, () => {
  it('shows the overview with a tab bar, the markup name as text', async () => {
    await pg.goto(`/devices/${deviceId}`);
    await expect(pg.getByTestId('device-name').textContent()).resolves.toBe(XSS);
    const tabs = pg.getByRole('navigation', { name: 'Device sections' });
    await expect(tabs.getByRole('link').allTextContents()).resolves.toEqual([
      'Overview',
      'Interfaces',
      'Wireless',
      'Events & alerts',
      'Configuration',
      'Simple Config',
      'Backups',
    ]);
    await expect(tabs.getByRole('link', { name: 'Overview' }).getAttribute('aria-current')).resolves.toBe(
      'page',
    );
    await pg.getByTestId('cpu').waitFor();
    await portal.screenshot(pg, '01-overview');
  });

  it('lists the interfaces with state and rates, and charts their traffic', async () => {
    await pg
      .getByRole('navigation', { name: 'Device sections' })
      .getByRole('link', { name: 'Interfaces' })
      .click();
    await pg.waitForURL(`**/devices/${deviceId}/interfaces`);
    const rows = pg.getByTestId('interface-row');
    await rows.first().waitFor();
    const names = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-name')));
    expect(names).toEqual(expect.arrayContaining(['ether1', 'wlan1', 'bridge', XSS]));
    await expect(pg.locator('th.name', { hasText: XSS }).first().textContent()).resolves.toBe(XSS);
    const ether1 = pg.locator('[data-testid="interface-row"][data-name="ether1"]');
    await expect(ether1.getByTestId('interface-rx').textContent()).resolves.toMatch(
      /^\d+(\.\d+)? [kMG]?bps$/,
    );

    const charts = pg.getByTestId('traffic-chart');
    await charts.first().waitFor();
    expect(await charts.count()).toBeGreaterThanOrEqual(2);
    const wlanChart = pg.locator(
      '[data-testid="traffic-chart"][data-interface="wlan1"] [data-testid="line-chart"]',
    );
    await waitFor('wlan1 chart points', async () => (await points(wlanChart)) >= 2);
    await expect(wlanChart.locator('svg title').textContent()).resolves.toBe('Traffic on wlan1');
    // The tooltip on hover tells the time and both rates.
    await wlanChart.locator('svg').hover();
    await expect(pg.getByTestId('chart-tooltip').first().textContent()).resolves.toMatch(
      /rx: .*bps.*tx: .*bps/,
    );
    expect(await pg.locator('img[src="x"]').count()).toBe(0);
    await portal.screenshot(pg, '02-interfaces');
  });

  it('follows the simulator live: a disabled interface and new samples, without a reload', async () => {
    await pg.evaluate(() => {
      (window as unknown as { unreloaded: boolean }).unreloaded = true;
    });
    const wlanChart = pg.locator(
      '[data-testid="traffic-chart"][data-interface="wlan1"] [data-testid="line-chart"]',
    );
    const ether1 = pg.locator('[data-testid="interface-row"][data-name="ether1"]');
    await expect(ether1.getByTestId('interface-status').textContent()).resolves.toBe('running');
    const before = await points(wlanChart);

    fleet.device(0).setInterfaceState('ether1', { disabled: true, running: false });
    await pollStep();
    await ether1.getByTestId('interface-status').getByText('disabled', { exact: true }).waitFor();
    await expect(ether1.getByTestId('interface-rx').textContent()).resolves.toBe('—');
    await waitFor('a live point on the wlan1 chart', async () => (await points(wlanChart)) > before);
    await expect(
      pg.evaluate(() => (window as unknown as { unreloaded?: boolean }).unreloaded === true),
    ).resolves.toBe(true);
    await portal.screenshot(pg, '03-interfaces-live');

    // Longer ranges come from the rollups (none yet for minutes-old data): an empty chart, not an error.
    await pg.getByRole('radio', { name: '30 d' }).check();
    await wlanChart.locator('svg desc', { hasText: 'over the last 30 d' }).waitFor({ state: 'attached' });
    const empty = await wlanChart.getByText('No data in this range').count();
    expect(empty + (await points(wlanChart))).toBeGreaterThan(0);
    await pg.getByRole('radio', { name: '1 h' }).check();
    await waitFor('the 1 h chart again', async () => (await points(wlanChart)) > before);
    fleet.device(0).setInterfaceState('ether1', { disabled: false, running: true });
  }, 180_000);

  it('lists the wireless clients with signal and charts a client’s signal history', async () => {
    await pg
      .getByRole('navigation', { name: 'Device sections' })
      .getByRole('link', { name: 'Wireless' })
      .click();
    await pg.waitForURL(`**/devices/${deviceId}/wireless`);
    const row = pg.getByTestId('client-row').first();
    await row.waitFor();
    expect(await pg.getByTestId('client-row').count()).toBe(1);
    await expect(row.getAttribute('data-mac')).resolves.toMatch(/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/);
    await expect(row.getByTestId('client-signal').textContent()).resolves.toMatch(/^-\d+ dBm$/);
    await expect(row.textContent()).resolves.toMatch(/Mbps/);
    const chart = pg.locator('[data-testid="signal-chart"] [data-testid="line-chart"]');
    await waitFor('signal history points', async () => (await points(chart)) >= 2);
    await expect(chart.locator('svg').getAttribute('aria-labelledby')).resolves.toMatch(/-t .*-d$/);
    await expect(chart.locator('svg desc').textContent()).resolves.toMatch(/Latest: signal -\d+ dBm/);
    await portal.screenshot(pg, '04-wireless');
  });

  it('lists the device’s events and alerts, and adds a status change live', async () => {
    await pg
      .getByRole('navigation', { name: 'Device sections' })
      .getByRole('link', { name: 'Events & alerts' })
      .click();
    await pg.waitForURL(`**/devices/${deviceId}/events`);
    await pg.getByTestId('open-alerts').getByText('CPU watch').waitFor();
    const events = pg.getByTestId('device-event');
    await events.filter({ hasText: 'critical alert: CPU watch' }).first().waitFor();

    await fleet.device(0).setFaults({ unreachable: true });
    await stepWhenIdle(collector!, clock, POLL_STEP_MS);
    await events.filter({ hasText: 'Status: unreachable' }).first().waitFor({ timeout: 45_000 });
    await portal.screenshot(pg, '05-events');
    await fleet.device(0).clearFaults();
    await stepWhenIdle(collector!, clock, POLL_STEP_MS);
    await events.filter({ hasText: 'Status: online' }).first().waitFor({ timeout: 45_000 });
    expect(await pg.locator('img[src="x"]').count()).toBe(0);
  });

  it('fits a phone screen in the dark theme', async () => {
    await pg.setViewportSize({ width: 390, height: 844 });
    await pg.emulateMedia({ colorScheme: 'dark' });
    await pg.goto(`/devices/${deviceId}/interfaces`);
    await pg.getByTestId('interface-row').first().waitFor();
    await pg.getByTestId('line-chart').first().waitFor();
    const overflow = await pg.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    const wide = await pg.evaluate(() =>
      [...document.querySelectorAll('main *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 5)
        .map((e) => `${e.tagName}.${e.getAttribute('class') ?? ''}`),
    );
    expect(overflow, wide.join(' ')).toBeLessThanOrEqual(0);
    await portal.screenshot(pg, '06-phone-interfaces-dark');
    await pg.setViewportSize({ width: 1280, height: 800 });
    await pg.emulateMedia({ colorScheme: 'light' });
  });

  it('ran without script errors, CSP violations or dialogs', () => {
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
