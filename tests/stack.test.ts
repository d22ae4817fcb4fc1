// `npm start`'s stack end to end: embedded Postgres and NATS, migrations, web and edge in one wrangler dev
// session, the portal serving its start page and the edge's readiness through the service binding.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StackHandle, startStack } from '../scripts/stack';
import { loadStackConfig } from '../scripts/stack-config';

let dataDir = '';
let stack: StackHandle | undefined;
const logs: string[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tod-stack-'));
  stack = await startStack(loadStackConfig({ TOD_DATA_DIR: dataDir, PORT: '0' }), (l) => logs.push(l));
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the local stack', () => {
  it('serves /health/ready = 200 through the portal origin', async () => {
    const res = await fetch(`${stack!.portalUrl}/health/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ready',
      checks: { postgres: { ok: true }, nats: { ok: true } },
    });
  });

  it("serves the portal's start page with the live stack status", async () => {
    const res = await fetch(`${stack!.portalUrl}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<title>TOD · The Other Dude</title>');
    expect(html).toMatch(/data-testid="overall-status"[\s\S]*Ready/);
  });

  it('proxies API calls to the edge with its JSON error shape', async () => {
    const res = await fetch(`${stack!.portalUrl}/api/no-such-thing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('applied the migrations and generated the first admin login', () => {
    expect(logs.some((l) => /postgres: embedded .* [1-9]\d* migration\(s\) applied/.test(l))).toBe(true);
    expect(stack!.adminEmail).toBe('admin@tod.local');
    expect(stack!.adminPassword.length).toBeGreaterThanOrEqual(12);
  });

  it('stops everything and a second start reuses the data', async () => {
    const firstPassword = stack!.adminPassword;
    const firstUrl = stack!.portalUrl;
    await stack!.stop();
    await expect(fetch(`${firstUrl}/health`)).rejects.toThrow();
    logs.length = 0;
    stack = await startStack(loadStackConfig({ TOD_DATA_DIR: dataDir, PORT: '0' }), (l) => logs.push(l));
    expect(stack.adminPassword).toBe(firstPassword);
    expect(logs.some((l) => /postgres: embedded .* 0 migration\(s\) applied/.test(l))).toBe(true);
    const res = await fetch(`${stack.portalUrl}/health/ready`);
    expect(res.status).toBe(200);
  }, 240_000);
});
