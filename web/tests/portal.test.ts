// The portal in Debian's Chromium against the real stack (Postgres, NATS, wrangler dev with web + edge): one
// admin's first day, step by step, each step asserting what the page shows and saving a screenshot under
// web/test-output/portal/. The steps share one stack and run in order.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, freshNats } from '../../tests/env';
import {
  acceptInvitation,
  newClientAddress,
  OUTPUT_DIR,
  type Portal,
  runCommand,
  startPortal,
  watchPage,
} from './browser';

const XSS_NAME = '<img src=x onerror=alert(1)>';
const NEW_PASSWORD = 'correct horse battery staple';

let portal: Portal;
let ctx: BrowserContext;
let pg: Page;
let email = '';
let secretKey = '';
const dialogs: string[] = [];
const pageErrors: string[] = [];

function watch(p: Page): void {
  watchPage(p, { pageErrors, dialogs });
}

beforeAll(async () => {
  // The test environment's Postgres cluster and a nats-server of this file: no second embedded cluster.
  const [db, nats] = await Promise.all([freshDatabase(), freshNats()]);
  portal = await startPortal('portal', {
    databaseUrl: db.appUrl,
    databaseOwnerUrl: db.ownerUrl,
    natsUrl: nats.url,
    natsWsUrl: nats.wsUrl,
  });
  email = portal.stack.adminEmail;
  ctx = await portal.newBrowser();
  await newClientAddress(ctx);
  pg = await ctx.newPage();
  watch(pg);
}, 240_000);

afterEach(async (t) => {
  // A failed step leaves a picture of what the page showed.
  if (t.task.result?.state === 'fail' && pg) {
    await portal.screenshot(pg, `failed-${t.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
  }
});

afterAll(async () => {
  await portal?.stop();
});

/** Signs in on /login in the given page (this browser must already hold the Secret Key, or `key`). */
async function signInThrough(p: Page, password: string, key?: string): Promise<void> {
  await p.goto('/login');
  await p.getByLabel('Email', { exact: true }).fill(email);
  await p.getByLabel('Password', { exact: true }).fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  if (key) {
    await p.getByTestId('secret-key-needed').waitFor();
    await p.getByLabel('Secret Key').fill(key);
    await p.getByRole('button', { name: 'Sign in' }).click();
  }
}

describe('the portal in Chromium', { timeout: 120_000 }, () => {
  it('shows the stack status and a way to sign in', async () => {
    await pg.goto('/');
    await expect(pg.getByTestId('overall-status').textContent()).resolves.toContain('Ready');
    await expect(pg.evaluate(() => getComputedStyle(document.body).backgroundColor)).resolves.toBe(
      'rgb(248, 250, 252)',
    );
    await pg.getByRole('link', { name: 'Sign in' }).click();
    await pg.getByRole('heading', { name: 'Sign in' }).waitFor();
    await portal.screenshot(pg, '01-sign-in');
  });

  it('enrols the first admin at first sign-in with a Secret Key made in the browser and an Emergency Kit PDF', async () => {
    await pg.getByLabel('Email', { exact: true }).fill(email);
    await pg.getByLabel('Password', { exact: true }).fill(portal.stack.adminPassword);
    await pg.getByRole('button', { name: 'Sign in' }).click();
    await pg.getByRole('heading', { name: 'Set up your account' }).waitFor();
    await pg.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await pg.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
    await pg.getByRole('button', { name: 'Create my Secret Key' }).click();
    await pg.getByRole('heading', { name: 'Save your Emergency Kit' }).waitFor({ timeout: 30_000 });
    secretKey = (await pg.getByTestId('secret-key').textContent())!.trim();
    expect(secretKey).toMatch(/^A3-[0-9A-Z]{6}-[0-9A-Z]{6}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    await portal.screenshot(pg, '02-emergency-kit');

    const [download] = await Promise.all([
      pg.waitForEvent('download'),
      pg.getByRole('button', { name: 'Download Emergency Kit (PDF)' }).click(),
    ]);
    const pdfPath = join(OUTPUT_DIR, 'portal', 'emergency-kit.pdf');
    await download.saveAs(pdfPath);
    const pdf = await readFile(pdfPath, 'latin1');
    expect(pdf.startsWith('%PDF-1.4')).toBe(true);
    expect(pdf).toContain(`(${secretKey})`);
    expect(pdf).toContain(`(${email})`);
    expect(pdf.trimEnd().endsWith('%%EOF')).toBe(true);

    // The Secret Key is in this browser's IndexedDB and nowhere in the page's storage as text.
    const stored = await pg.evaluate(
      (e) =>
        new Promise<string | null>((resolve, reject) => {
          const req = indexedDB.open('tod');
          req.onsuccess = () => {
            const get = req.result.transaction('secret-keys').objectStore('secret-keys').get(e);
            get.onsuccess = () => resolve(get.result ? (get.result as { id: string }).id : null);
            get.onerror = () => reject(get.error);
          };
          req.onerror = () => reject(req.error);
        }),
      email,
    );
    expect(stored).toBe(secretKey.split('-')[1]);

    await pg.getByRole('button', { name: 'Continue' }).isDisabled();
    await pg.getByLabel('I have saved my Emergency Kit').check();
    await pg.getByRole('button', { name: 'Continue' }).click();
    // A super admin without any organisation lands in the setup wizard.
    await pg.waitForURL('**/setup');
    await pg.getByRole('heading', { name: '1. Create an organisation' }).waitFor();
    await expect(pg.getByTestId('user-role').textContent()).resolves.toBe('super admin');
    await portal.screenshot(pg, '03-setup-organisation');
  });

  it('walks the setup wizard: organisation, collector enrolment command that works, first device', async () => {
    await pg.getByLabel('Name', { exact: true }).fill('Acme Networks');
    await expect(pg.getByLabel('Short name (URL)').inputValue()).resolves.toBe('acme-networks');
    await pg.getByRole('button', { name: 'Create organisation' }).click();
    await pg.getByRole('heading', { name: '2. Install a collector on site' }).waitFor();
    await pg.getByLabel('Site').fill('Head office');
    await pg.getByRole('button', { name: 'Create enrolment token' }).click();
    const command = (await pg.getByTestId('enrol-command').textContent())!.trim();
    expect(command).toMatch(
      new RegExp(
        `^node collector/bin/tod-collector\\.mjs enroll --url ${portal.stack.portalUrl} --token \\S{16,}$`,
      ),
    );
    await expect(pg.getByTestId('collector-status').textContent()).resolves.toContain(
      'waiting for it to enrol',
    );
    await portal.screenshot(pg, '04-setup-collector');

    // Run exactly the shown command from the repository root: the wizard sees the collector enrol.
    const stateDir = await mkdtemp(join(tmpdir(), 'tod-collector-state-'));
    try {
      const out = await runCommand(command, { TOD_COLLECTOR_STATE_DIR: stateDir });
      expect(out).toMatch(/enrolled: collector/);
      await pg.getByTestId('collector-status').getByText('online').waitFor({ timeout: 20_000 });
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }

    await pg.getByRole('button', { name: 'Next: add a device' }).click();
    await pg.getByRole('heading', { name: '3. Add the first device' }).waitFor();
    await pg.getByLabel('Name', { exact: true }).fill(XSS_NAME);
    await pg.getByLabel('Address (IP or host name)').fill('192.0.2.10');
    await pg.getByLabel('Password', { exact: true }).fill('router-secret');
    await pg.getByRole('button', { name: 'Add device' }).click();
    await pg.getByTestId('wizard-device').waitFor();
    await expect(pg.getByTestId('wizard-device').getByRole('link').textContent()).resolves.toBe(XSS_NAME);
    expect(await pg.locator('img[src="x"]').count()).toBe(0);
    await portal.screenshot(pg, '05-setup-device');
    // The super admin's live feed (an SSE token for the tenant it works in, as EventSource sends no headers).
    await pg.getByTestId('live-status').getByText('Live', { exact: true }).waitFor({ timeout: 30_000 });
  });

  it('renders a hostile device name as text in the table, the palette and the device page', async () => {
    await pg.getByRole('link', { name: 'Device list' }).click();
    await pg.getByTestId('device-count').getByText('1 of 1 devices').waitFor();
    const row = pg.getByTestId('device-row').first();
    await expect(row.getByRole('link').textContent()).resolves.toBe(XSS_NAME);
    await portal.screenshot(pg, '06-device-table');

    await pg.keyboard.press('Control+k');
    await pg.getByLabel('Jump to').fill('onerror');
    await pg.getByRole('option', { name: /onerror/ }).waitFor();
    await pg.keyboard.press('Enter');
    await pg.waitForURL(/\/devices\/[0-9a-f-]{36}$/);
    await expect(pg.getByTestId('device-name').textContent()).resolves.toBe(XSS_NAME);
    await pg.getByText('192.0.2.10:8728').waitFor();
    expect(await pg.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await portal.screenshot(pg, '07-device-page');
  });

  it('answers the keyboard shortcuts: g d, ? and /', async () => {
    await pg.locator('body').click({ position: { x: 5, y: 300 } });
    await pg.keyboard.press('g');
    await pg.keyboard.press('d');
    await pg.waitForURL('**/dashboard');
    await expect(pg.getByTestId('count-total').textContent()).resolves.toBe('1');
    await portal.screenshot(pg, '08-dashboard');
    await pg.keyboard.press('?');
    await pg.getByTestId('shortcuts').waitFor();
    await pg.keyboard.press('Escape');
    await pg.getByTestId('shortcuts').waitFor({ state: 'hidden' });
    await pg.keyboard.press('/');
    await pg.waitForURL('**/devices?focus=search');
    await expect(pg.evaluate(() => document.activeElement?.hasAttribute('data-search'))).resolves.toBe(true);
  });

  it('refreshes an expired session in place, and asks to sign in again without losing the page', async () => {
    await pg.goto('/devices');
    await pg.getByTestId('device-count').getByText('1 of 1 devices').waitFor();
    await pg.getByRole('button', { name: 'Add device' }).click();
    const dialog = pg.getByRole('dialog', { name: 'Add a device' });
    await dialog.getByLabel('Name', { exact: true }).fill('core-1');
    await dialog.getByLabel('Address (IP or host name)').fill('192.0.2.11');
    // The access token is gone (as after its 15 minutes): the refresh cookie renews it silently.
    await ctx.clearCookies({ name: 'tod_access' });
    await dialog.getByRole('button', { name: 'Add device' }).click();
    await pg.getByTestId('toast').getByText('core-1 added').waitFor();

    // Both gone (refresh expired or revoked): a sign-in dialog, then the same request completes.
    await pg.getByRole('button', { name: 'Add device' }).click();
    await dialog.getByLabel('Name', { exact: true }).fill('core-2');
    await dialog.getByLabel('Address (IP or host name)').fill('192.0.2.12');
    await ctx.clearCookies();
    await newClientAddress(ctx);
    await dialog.getByRole('button', { name: 'Add device' }).click();
    const reauth = pg.getByRole('dialog', { name: 'Your session ended' });
    await reauth.waitFor();
    await portal.screenshot(pg, '09-session-ended');
    await reauth.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
    await reauth.getByRole('button', { name: 'Sign in' }).click();
    await pg.getByTestId('toast').getByText('core-2 added').waitFor();
    await pg.getByTestId('device-count').getByText('3 of 3 devices').waitFor();
  });

  it('logs out, and a new browser asks for the Secret Key once', async () => {
    await pg.getByRole('button', { name: 'Sign out' }).click();
    await pg.waitForURL('**/login');
    await pg.goto('/dashboard');
    await pg.waitForURL(/\/login\?next=%2Fdashboard$/);

    const other = await portal.newBrowser();
    await newClientAddress(other);
    try {
      const p2 = await other.newPage();
      watch(p2);
      await p2.goto('/login');
      await p2.getByLabel('Email', { exact: true }).fill(email);
      await p2.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
      await p2.getByRole('button', { name: 'Sign in' }).click();
      await p2.getByTestId('secret-key-needed').waitFor();
      await portal.screenshot(p2, '10-new-browser-secret-key');
      // A wrong Secret Key is refused.
      await p2.getByLabel('Secret Key').fill('A3-ABCDEF-000000-00000-00000-00000-00000');
      await p2.getByRole('button', { name: 'Sign in' }).click();
      await p2.getByRole('alert').getByText('wrong email, password or Secret Key').waitFor();
      await p2.getByLabel('Secret Key').fill(secretKey.toLowerCase());
      await p2.getByRole('button', { name: 'Sign in' }).click();
      await p2.waitForURL('**/dashboard');
      await expect(p2.getByTestId('user-email').textContent()).resolves.toBe(email);
      // From now on this browser knows the key: password only.
      await p2.getByRole('button', { name: 'Sign out' }).click();
      await p2.waitForURL('**/login');
      await newClientAddress(other);
      await signInThrough(p2, NEW_PASSWORD);
      await p2.waitForURL('**/dashboard');
    } finally {
      await other.close();
    }
    await newClientAddress(ctx);
    await signInThrough(pg, NEW_PASSWORD);
    await pg.waitForURL('**/dashboard');
  });

  it('keeps the device table smooth with 10,000 devices: virtual rows, search, sort, bulk tag and delete', async () => {
    const tenantId = await pg.evaluate(() => localStorage.getItem('tod.tenant'));
    const lines = ['name,host'];
    for (let i = 0; i < 9_997; i++)
      lines.push(`dev-${String(i).padStart(5, '0')},10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    const status = await pg.evaluate(
      async ({ csv, tenant }) => {
        const res = await fetch('/api/devices/import', {
          method: 'POST',
          headers: { 'content-type': 'text/csv', 'x-tenant-id': tenant ?? '' },
          body: csv,
        });
        return res.status;
      },
      { csv: lines.join('\n'), tenant: tenantId },
    );
    expect(status).toBe(201);

    const started = Date.now();
    await pg.goto('/devices');
    await pg.getByTestId('device-row').first().waitFor();
    const firstRowMs = Date.now() - started;
    await pg.getByTestId('device-count').getByText('10,000 of 10,000 devices').waitFor({ timeout: 60_000 });
    const allMs = Date.now() - started;
    console.log(`device table: first row after ${firstRowMs} ms, all 10,000 after ${allMs} ms`);
    // Only the visible rows (plus a small overscan) are in the DOM.
    expect(await pg.getByTestId('device-row').count()).toBeLessThan(60);
    await portal.screenshot(pg, '11-device-table-10k');

    // Scrolling to the end shows the last device by name.
    await pg.getByTestId('device-scroller').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await pg.getByTestId('device-row').getByText('dev-09996', { exact: true }).waitFor();
    expect(await pg.getByTestId('device-row').count()).toBeLessThan(60);

    // Name descending, back at the top: the highest name first (the rows follow the scroll event).
    await pg.getByRole('button', { name: /^Name/ }).click();
    await pg.getByTestId('device-scroller').evaluate((el) => {
      el.scrollTop = 0;
    });
    await pg.getByTestId('device-row').first().getByText('dev-09996', { exact: true }).waitFor();

    await pg.getByRole('searchbox').fill('dev-0999');
    await pg.getByTestId('device-count').getByText('7 of 10,000 devices').waitFor();

    // Bulk: tag three devices, then filter by the tag.
    const boxes = pg.getByTestId('device-row').getByRole('checkbox');
    for (let i = 0; i < 3; i++) await boxes.nth(i).check();
    await pg.getByTestId('bulk-bar').getByText('3 selected').waitFor();
    await pg.getByRole('button', { name: 'Tag…' }).click();
    const tagDialog = pg.getByRole('dialog', { name: 'Tag devices' });
    await tagDialog.getByLabel('New tag name').fill('core');
    await tagDialog.getByRole('button', { name: 'Apply' }).click();
    await pg.getByTestId('toast').getByText('3 device(s) added to the tag').waitFor();
    await pg.getByRole('searchbox').fill('');
    await pg.getByLabel('Tag').selectOption({ label: 'core' });
    await pg.getByTestId('device-count').getByText('3 of 10,000 devices').waitFor();
    await portal.screenshot(pg, '12-device-table-tag-filter');

    // Bulk delete of the three.
    await pg.getByRole('button', { name: 'Delete…' }).click();
    await pg.getByRole('dialog', { name: 'Delete devices' }).getByRole('button', { name: 'Delete' }).click();
    await pg.getByTestId('toast').getByText('3 device(s) deleted').waitFor();
    await pg.getByTestId('device-count').getByText('0 of 9,997 devices').waitFor();
  }, 240_000);

  it('creates an API key shown once, and reads and exports the audit log', async () => {
    await pg.goto('/admin/api-keys');
    await pg.getByRole('button', { name: 'New API key' }).click();
    const d = pg.getByRole('dialog', { name: 'New API key' });
    await d.getByLabel('Name', { exact: true }).fill('monitoring');
    await d.getByRole('button', { name: 'Create key' }).click();
    const key = (await pg.getByTestId('new-api-key').textContent())!.trim();
    expect(key).toMatch(/^mktp_/);
    await portal.screenshot(pg, '13-api-key-once');
    await pg.keyboard.press('Escape');
    await pg.getByTestId('api-keys').getByRole('cell', { name: 'monitoring' }).waitFor();
    expect(await pg.getByText(key).count()).toBe(0);
    const status = await pg.evaluate(
      async (k) => (await fetch('/api/devices?limit=1', { headers: { 'x-api-key': k } })).status,
      key,
    );
    expect(status).toBe(200);

    await pg.goto('/admin/audit');
    await pg.getByLabel('Action').fill('device.import');
    await pg.getByTestId('audit-table').getByRole('cell', { name: 'device.import' }).first().waitFor();
    await portal.screenshot(pg, '14-audit-log');
    const [download] = await Promise.all([
      pg.waitForEvent('download'),
      pg.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('audit-log.csv');
    const csv = await readFile((await download.path())!, 'utf8');
    const [header, ...rows] = csv.trim().split('\r\n');
    expect(header).toBe(
      'id,created_at,actor_type,actor_id,action,target_type,target_id,outcome,ip,request_id,details',
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.includes(',device.import,'))).toBe(true);
  });

  it('shows a viewer no control it may not use', async () => {
    await pg.goto('/admin/users');
    await pg.getByRole('button', { name: 'Invite user' }).click();
    const inv = pg.getByRole('dialog', { name: 'Invite a user' });
    await inv.getByLabel('Email', { exact: true }).fill('viewer@acme.example');
    await inv.getByLabel('Role').selectOption('viewer');
    await inv.getByRole('button', { name: 'Create invitation' }).click();
    const link = (await pg.getByTestId('invite-link').textContent())!.trim();
    expect(link).toMatch(/\/invite\?token=.+&email=viewer%40acme.example$/);

    const other = await portal.newBrowser();
    await newClientAddress(other);
    try {
      const p3 = await other.newPage();
      watch(p3);
      await acceptInvitation(p3, link, 'Vera Viewer', 'viewer password 123');
      await expect(p3.getByTestId('user-role').textContent()).resolves.toBe('viewer');
      const nav = p3.getByRole('navigation', { name: 'Main' });
      await nav.getByRole('link', { name: 'Devices' }).click();
      await p3.getByTestId('device-count').getByText('9,997 of 9,997 devices').waitFor({ timeout: 60_000 });
      expect(await p3.getByRole('button', { name: 'Add device' }).count()).toBe(0);
      expect(await p3.getByRole('button', { name: 'Import CSV' }).count()).toBe(0);
      expect(await p3.getByTestId('device-row').first().getByRole('checkbox').count()).toBe(0);
      for (const admin of ['Users', 'API keys', 'Audit log', 'Setup']) {
        expect(await nav.getByRole('link', { name: admin }).count()).toBe(0);
      }
      await portal.screenshot(p3, '15-viewer-devices');
      await p3.getByTestId('device-row').first().getByRole('link').click();
      await p3.getByTestId('device-name').waitFor();
      expect(await p3.getByRole('button', { name: 'Delete' }).count()).toBe(0);
      await nav.getByRole('link', { name: 'Collectors' }).click();
      await p3.getByRole('cell', { name: 'Main site' }).waitFor();
      expect(await p3.getByRole('button', { name: 'New collector' }).count()).toBe(0);
      expect(await p3.getByRole('button', { name: 'Revoke' }).count()).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('works on a phone-sized screen, in the dark theme when the system is dark', async () => {
    const phone = await portal.newBrowser({ width: 390, height: 844, colorScheme: 'dark' });
    await newClientAddress(phone);
    try {
      const p4 = await phone.newPage();
      watch(p4);
      await signInThrough(p4, NEW_PASSWORD, secretKey);
      await p4.waitForURL('**/dashboard');
      await p4.getByTestId('fleet-counts').waitFor();
      await expect(p4.evaluate(() => getComputedStyle(document.body).backgroundColor)).resolves.toBe(
        'rgb(11, 17, 32)',
      );
      expect(await p4.getByRole('navigation', { name: 'Main' }).isVisible()).toBe(false);
      await p4.getByRole('button', { name: 'Menu' }).click();
      await p4.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Devices' }).click();
      await p4.waitForURL('**/devices');
      await p4.getByTestId('device-row').first().waitFor({ timeout: 60_000 });
      const overflow = await p4.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await portal.screenshot(p4, '16-phone-devices');
    } finally {
      await phone.close();
    }
  });

  it('ran without script errors or CSP violations', () => {
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
