// Browser-test harness: the real stack (scripts/stack.ts: Postgres, nats-server, wrangler dev with web + edge)
// and Debian's Chromium driven by playwright-core. Never downloads a browser: CHROMIUM_PATH or /usr/bin/chromium.
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
  newBrowser(opts?: { width?: number; height?: number }): Promise<BrowserContext>;
  /** Saves a full-page screenshot as `<suite>/<name>.png` under the test output. */
  screenshot(page: Page, name: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startPortal(suite: string): Promise<Portal> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'tod-web-'));
  const outDir = join(OUTPUT_DIR, suite);
  await mkdir(outDir, { recursive: true });
  const logs: string[] = [];
  let stack: StackHandle;
  try {
    stack = await startStack(loadStackConfig({ TOD_DATA_DIR: dataDir, PORT: '0' }), (l) => logs.push(l));
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
