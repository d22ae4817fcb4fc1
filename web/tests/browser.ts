/// <reference lib="dom" />
// Browser-test harness: the real stack (scripts/stack.ts: Postgres, nats-server, wrangler dev with web + edge)
// and Debian's Chromium driven by playwright-core. Never downloads a browser: CHROMIUM_PATH or /usr/bin/chromium.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ROOT, type StackHandle, startStack } from '../../scripts/stack';
import { loadStackConfig } from '../../scripts/stack-config';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots and downloads of browser tests (gitignored). */
export const OUTPUT_DIR = join(ROOT, 'web', 'test-output');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Portal {
  stack: StackHandle;
  browser: Browser;
  /** A new browser profile (own cookies and IndexedDB): what "a new browser" means to the portal. */
  newBrowser(opts?: {
    width?: number;
    height?: number;
    colorScheme?: 'light' | 'dark';
  }): Promise<BrowserContext>;
  /** Saves a full-page screenshot as `<suite>/<name>.png` under the test output. */
  screenshot(page: Page, name: string): Promise<string>;
  stop(): Promise<void>;
}

/** External Postgres / NATS for the stack (the test environment's); embedded ones when absent. */
export interface PortalServices {
  databaseUrl: string;
  databaseOwnerUrl: string;
  natsUrl: string;
  natsWsUrl: string;
}

export async function startPortal(suite: string, services?: PortalServices): Promise<Portal> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'tod-web-'));
  const outDir = join(OUTPUT_DIR, suite);
  await mkdir(outDir, { recursive: true });
  const logs: string[] = [];
  let stack: StackHandle;
  try {
    // No demo fleet: these tests and the benchmark start from a fresh installation's first sign-in.
    const env: Record<string, string> = { TOD_DATA_DIR: dataDir, PORT: '0', TOD_DEMO: '0' };
    if (services) {
      Object.assign(env, {
        DATABASE_URL: services.databaseUrl,
        DATABASE_OWNER_URL: services.databaseOwnerUrl,
        NATS_URL: services.natsUrl,
        NATS_WS_URL: services.natsWsUrl,
      });
    }
    stack = await startStack(loadStackConfig(env), (l) => logs.push(l));
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${logs.slice(-40).join('\n')}`);
  }
  const profileDir = await mkdtemp(join(tmpdir(), 'tod-chromium-'));
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS, `--disk-cache-dir=${join(profileDir, 'cache')}`],
      headless: true,
    });
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return {
    stack,
    browser,
    async newBrowser(opts = {}) {
      const ctx = await browser.newContext({
        baseURL: stack.portalUrl,
        viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
        colorScheme: opts.colorScheme ?? 'light',
        acceptDownloads: true,
      });
      ctx.setDefaultTimeout(20_000);
      return ctx;
    },
    async screenshot(page, name) {
      const path = join(outDir, `${name}.png`);
      await page.screenshot({ path, fullPage: false });
      return path;
    },
    async stop() {
      await browser.close().catch(() => {});
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
      await rm(profileDir, { recursive: true, force: true });
    },
  };
}

/** First sign-in of the bootstrap admin through the portal's pages: enrols `newPassword` with a Secret Key
 * made in the browser, confirms the Emergency Kit and signs in. Returns the Secret Key as shown. */
export async function enrolFirstAdmin(page: Page, stack: StackHandle, newPassword: string): Promise<string> {
  await page.goto('/login');
  await page.getByLabel('Email', { exact: true }).fill(stack.adminEmail);
  await page.getByLabel('Password', { exact: true }).fill(stack.adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByLabel('Repeat the new password').fill(newPassword);
  await page.getByRole('button', { name: 'Create my Secret Key' }).click();
  const key = (await page.getByTestId('secret-key').textContent({ timeout: 60_000 }))!.trim();
  await page.getByLabel('I have saved my Emergency Kit').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(/\/(setup|dashboard)$/);
  return key;
}

/** Creates an organisation through the API in the page's session and selects it. Returns its id. */
export async function createTenant(page: Page, name: string, slug: string): Promise<string> {
  return page.evaluate(
    async ({ name, slug }) => {
      const res = await fetch('/api/tenants', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, slug }),
      });
      if (res.status !== 201) throw new Error(`tenant: HTTP ${res.status} ${await res.text()}`);
      const t = (await res.json()) as { id: string };
      localStorage.setItem('tod.tenant', t.id);
      return t.id;
    },
    { name, slug },
  );
}

/** Imports `count` devices named dev-00000… through the CSV import, in the page's session. */
export async function importDevices(page: Page, tenantId: string, count: number): Promise<void> {
  const lines = ['name,host'];
  for (let i = 0; i < count; i++) {
    lines.push(`dev-${String(i).padStart(5, '0')},10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  }
  const status = await page.evaluate(
    async ({ csv, tenant }) =>
      (
        await fetch('/api/devices/import', {
          method: 'POST',
          headers: { 'content-type': 'text/csv', 'x-tenant-id': tenant },
          body: csv,
        })
      ).status,
    { csv: lines.join('\n'), tenant: tenantId },
  );
  if (status !== 201) throw new Error(`device import: HTTP ${status}`);
}

/** Runs a shell-free command line (split on spaces) from the repository root, e.g. the enrolment command
 * the setup wizard shows. Resolves with its output when it exits with 0. */
export function runCommand(commandLine: string, env: Record<string, string>): Promise<string> {
  const [cmd, ...args] = commandLine.split(/\s+/);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd === 'node' ? process.execPath : cmd!, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.stderr.on('data', (c) => {
      out += c;
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${out}`))));
  });
}

let ipCounter = 10;
/** Each sign-in phase of a walk-through comes from its own documentation address (cf-connecting-ip), as
 * different people would, so the edge's per-address auth limit never mixes them up. */
export async function newClientAddress(c: BrowserContext): Promise<void> {
  await c.setExtraHTTPHeaders({ 'cf-connecting-ip': `198.51.100.${ipCounter++}` });
}

/** Records a page's script errors, CSP violations and dialogs (alert() included, dismissed) into the lists. */
export function watchPage(p: Page, sink: { dialogs: string[]; pageErrors: string[] }): void {
  p.on('dialog', (d) => {
    sink.dialogs.push(d.message());
    void d.dismiss();
  });
  p.on('pageerror', (e) => sink.pageErrors.push(e.message));
  p.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text()))
      sink.pageErrors.push(m.text());
  });
}

/** A request in the page's session (cookies) for the tenant it works in; throws unless the status is `expect`. */
export async function apiInPage<T>(
  page: Page,
  method: string,
  path: string,
  body: unknown,
  expect: number,
): Promise<T> {
  const r = await page.evaluate(
    async ({ method, path, body }) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      const tenant = localStorage.getItem('tod.tenant');
      if (tenant) headers['x-tenant-id'] = tenant;
      const res = await fetch(path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, text: await res.text() };
    },
    { method, path, body },
  );
  if (r.status !== expect) throw new Error(`${method} ${path}: HTTP ${r.status} ${r.text}`);
  return (r.text ? JSON.parse(r.text) : undefined) as T;
}

/** Accepts an invitation link in the page as the invited person: name, password, Secret Key made in the
 * browser, Emergency Kit confirmed; ends signed in on the dashboard. */
export async function acceptInvitation(p: Page, link: string, name: string, password: string): Promise<void> {
  await p.goto(link);
  await p.getByLabel('Your name').fill(name);
  await p.getByLabel('Password', { exact: true }).fill(password);
  await p.getByLabel('Repeat the password').fill(password);
  await p.getByRole('button', { name: 'Join' }).click();
  await p.getByRole('heading', { name: 'Save your Emergency Kit' }).waitFor({ timeout: 30_000 });
  await p.getByLabel('I have saved my Emergency Kit').check();
  await p.getByRole('button', { name: 'Continue' }).click();
  await p.waitForURL('**/dashboard');
}

/** Creates an invitation through the API in the page's session (for the tenant given) and returns its link. */
export async function inviteLink(
  page: Page,
  tenantId: string,
  email: string,
  role: 'admin' | 'operator' | 'viewer',
): Promise<string> {
  return page.evaluate(
    async ({ tenantId, email, role }) => {
      const res = await fetch('/api/invitations', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tenant-id': tenantId },
        body: JSON.stringify({ email, role }),
      });
      if (res.status !== 201) throw new Error(`invitation: HTTP ${res.status} ${await res.text()}`);
      const inv = (await res.json()) as { token: string; email: string };
      return `${location.origin}/invite?${new URLSearchParams({ token: inv.token, email: inv.email })}`;
    },
    { tenantId, email, role },
  );
}
