// `npm start`'s stack end to end: embedded Postgres and NATS, migrations, web and edge in one wrangler dev
// session, the portal serving its start page and the edge's readiness through the service binding.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import { EVENT_STREAM } from '@tod/contracts';
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

  it('runs the demo fleet: 50 devices in the demo tenant, polled by its collector into the event stream', async () => {
    const demo = stack!.demo!;
    const res = await fetch(`${stack!.portalUrl}/api/devices?limit=200`, {
      headers: { 'x-api-key': demo.apiKey },
    });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { id: string; name: string; collectorId: string }[] };
    expect(items).toHaveLength(50);
    expect(items.every((d) => d.collectorId === demo.collectorId && d.name.startsWith('demo-'))).toBe(true);
    // The collector (with the NATS credentials the edge issued it) publishes status events of several devices.
    const nc = await natsConnect({ servers: stack!.natsUrl, ...(await stack!.natsAdminOptions()) });
    try {
      const jsm = await jetstreamManager(nc);
      const polled = async () => {
        const info = await jsm.streams.info(EVENT_STREAM.name, {
          subjects_filter: `tod.evt.${demo.tenantId}.*.status`,
        });
        return Object.keys(info.state.subjects ?? {}).map((s) => s.split('.')[3]);
      };
      await waitFor(
        async () => (await polled()).length >= 5,
        120_000,
        async () => `polled: ${await polled()}`,
      );
      const ids = new Set(items.map((d) => d.id));
      expect((await polled()).every((id) => ids.has(id!))).toBe(true);
    } finally {
      await nc.close();
    }
  }, 150_000);

  it('stops everything and a second start reuses the data', async () => {
    const firstPassword = stack!.adminPassword;
    const firstUrl = stack!.portalUrl;
    await stack!.stop();
    await expect(fetch(`${firstUrl}/health`)).rejects.toThrow();
    logs.length = 0;
    stack = await startStack(loadStackConfig({ TOD_DATA_DIR: dataDir, PORT: '0' }), (l) => logs.push(l));
    expect(stack.adminPassword).toBe(firstPassword);
    expect(logs.some((l) => /demo: created tenant/.test(l))).toBe(false);
    expect(stack.demo?.devices).toBe(50);
    expect(logs.some((l) => /postgres: embedded .* 0 migration\(s\) applied/.test(l))).toBe(true);
    const res = await fetch(`${stack.portalUrl}/health/ready`);
    expect(res.status).toBe(200);
  }, 240_000);
});

// The same stack through `npm start`'s own entry point: Ctrl-C (SIGINT) must stop every server it started.
describe('npm start and Ctrl-C', () => {
  it('prints the portal and first login, then stops Postgres, NATS and workerd on SIGINT', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tod-start-sigint-'));
    const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'start.mjs')], {
      env: { ...process.env, TOD_DATA_DIR: dir, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.stderr.on('data', (c) => {
      out += c;
    });
    try {
      await waitFor(
        () => out.includes('TOD is running'),
        180_000,
        () => out,
      );
      const portal = /Portal:\s+(http:\/\/\S+)/.exec(out)?.[1];
      const pgPort = Number(/postgres: embedded on 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
      const natsPort = Number(/nats: embedded on nats:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
      expect(out).toMatch(/First admin:\s+admin@tod\.local/);
      expect(out).toMatch(/Password:\s+\S{12,}/);
      expect(out).toMatch(/Demo fleet:\s+50 simulated RouterOS devices/);
      expect(out).toMatch(/Secret Key:\s+A3-/);
      expect((await fetch(`${portal}/health/ready`)).status).toBe(200);

      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out).toContain('TOD: stopped');
      await expect(fetch(`${portal}/health`)).rejects.toThrow();
      expect(await canConnect(pgPort)).toBe(false);
      expect(await canConnect(natsPort)).toBe(false);
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});

async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  context: () => string | Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${await context()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
