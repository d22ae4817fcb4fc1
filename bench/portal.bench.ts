// Portal benchmark in Debian's Chromium against the real stack (`npm start`'s stack.ts): time from navigation
// to the dashboard's fleet counts and to the device table's first row and full 10,000-device list, and the
// JavaScript the browser downloads for the first page (sign-in) and the signed-in dashboard, raw and gzip.
// Writes bench/results/portal.json. Run with `npm run bench portal`.
import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BrowserContext, Page } from 'playwright-core';
import { ROOT } from '../scripts/stack';
import { createTenant, enrolFirstAdmin, importDevices, startPortal } from '../web/tests/browser';

const DEVICES = 10_000;
const RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)]!);
}

/** Every .js file the page loads while navigating to `path`, with raw and gzip sizes. */
async function scriptBytes(ctx: BrowserContext, path: string, ready: (p: Page) => Promise<void>) {
  const page = await ctx.newPage();
  const bodies = new Map<string, Buffer>();
  const pending: Promise<void>[] = [];
  page.on('response', (res) => {
    if (new URL(res.url()).pathname.endsWith('.js')) {
      pending.push(
        res
          .body()
          .then((b) => {
            bodies.set(res.url(), b);
          })
          .catch(() => {}),
      );
    }
  });
  await page.goto(path);
  await ready(page);
  await Promise.all(pending);
  await page.close();
  let raw = 0;
  let gzip = 0;
  for (const b of bodies.values()) {
    raw += b.length;
    gzip += gzipSync(b, { level: 9 }).length;
  }
  return { files: bodies.size, rawKiB: Math.round(raw / 102.4) / 10, gzipKiB: Math.round(gzip / 102.4) / 10 };
}

async function timeTo(ctx: BrowserContext, path: string, marks: Record<string, (p: Page) => Promise<void>>) {
  const page = await ctx.newPage();
  const t0 = Date.now();
  await page.goto(path, { waitUntil: 'commit' });
  const out: Record<string, number> = {};
  for (const [name, wait] of Object.entries(marks)) {
    await wait(page);
    out[name] = Date.now() - t0;
  }
  await page.close();
  return out;
}

async function main(): Promise<void> {
  const portal = await startPortal('bench');
  try {
    const fresh = await portal.newBrowser();
    const firstPage = await scriptBytes(fresh, '/login', (p) =>
      p.getByRole('heading', { name: 'Sign in' }).waitFor(),
    );
    await fresh.close();

    const ctx = await portal.newBrowser();
    await ctx.setExtraHTTPHeaders({ 'cf-connecting-ip': '198.51.100.250' });
    const page = await ctx.newPage();
    await enrolFirstAdmin(page, portal.stack, 'bench password for the portal');
    const tenantId = await createTenant(page, 'Bench', 'bench');
    await importDevices(page, tenantId, DEVICES);
    const dashboardJs = await scriptBytes(ctx, '/dashboard', (p) => p.getByTestId('count-total').waitFor());

    const dash: Record<string, number[]> = {};
    const table: Record<string, number[]> = {};
    const total = DEVICES.toLocaleString('en');
    for (let i = 0; i < RUNS; i++) {
      const d = await timeTo(ctx, '/dashboard', {
        firstCounts: (p) => p.getByTestId('count-total').waitFor({ timeout: 120_000 }),
        allCounted: (p) =>
          p.getByTestId('count-total').getByText(String(DEVICES)).waitFor({ timeout: 120_000 }),
      });
      const t = await timeTo(ctx, '/devices', {
        firstRow: (p) => p.getByTestId('device-row').first().waitFor({ timeout: 120_000 }),
        allRows: (p) =>
          p
            .getByTestId('device-count')
            .getByText(`${total} of ${total} devices`)
            .waitFor({ timeout: 120_000 }),
      });
      for (const [k, v] of Object.entries(d)) dash[k] = [...(dash[k] ?? []), v];
      for (const [k, v] of Object.entries(t)) table[k] = [...(table[k] ?? []), v];
    }
    const result = {
      benchmark: 'portal',
      date: new Date().toISOString(),
      machine: {
        cpu: cpus()[0]
          ?.model.replace(/\s+\d+-Core.*$/, '')
          .trim(),
        cores: cpus().length,
        memoryGb: Math.round(totalmem() / 2 ** 30),
        node: process.version,
      },
      command: 'npm run bench portal',
      browser: 'Debian chromium (headless) via playwright-core',
      devices: DEVICES,
      runs: RUNS,
      note: 'signed in as the super admin (every API call of a super admin in a tenant is audited); times from navigation start, median of runs',
      dashboardMs: { firstCounts: median(dash.firstCounts!), allCounted: median(dash.allCounted!) },
      deviceTableMs: { firstRow: median(table.firstRow!), allRows: median(table.allRows!) },
      javascript: { signInPage: firstPage, dashboard: dashboardJs },
    };
    await writeFile(join(ROOT, 'bench', 'results', 'portal.json'), `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await portal.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
